// A fake GPU for the CPU tests of TrtMLNet's nvJPEG path: one library standing in for both libcuda.so.1
// (the driver functions TrtMLNet imports) and libnvjpeg.so.13 (the nvJPEG functions it imports), loaded in a
// child test process through LD_LIBRARY_PATH symlinks. "Device" memory is host memory, and the resize kernels
// are resize_kernels.cu itself, compiled here as C++ and run on the CPU. Work enqueued on a stream (copies,
// memsets, kernels, event records) runs later, when something waits for that stream, as a GPU runs it after
// the call has returned; nvJPEG's hardware backend writes its destinations at the call, as the real one does
// (github:meta-pytorch/torchcodec, "Wait for the caller's stream before the nvJPEG hardware decode writes"),
// so a decoder that lets it overwrite pixels its queued kernels have yet to read is caught.
//
// What it checks, beyond doing the work: every device pointer nvJPEG is asked to write lies inside a live
// allocation; nvJPEG's contracts (a batch as large as nvjpegDecodeBatchedInitialize said, the decoupled
// phases in order with their buffers attached, objects destroyed before what they were made from); and,
// through fake_gpu_report, that nothing is left allocated. A "decoded" image is a pattern of its size and
// byte count (FakeGpuPattern in FakeGpuTests.cs computes the same), so the tests can predict every row.
//
// Knobs (environment, read when a handle is made): FAKE_NVJPEG_NO_HARDWARE=1 makes the hardware backend
// refuse (NVJPEG_STATUS_ARCH_MISMATCH, as on a GPU without a JPEG engine).

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

// ---- What resize_kernels.cu needs from CUDA, on the CPU ----
#define __global__
#define __device__
#define __forceinline__ inline
struct FakeDim3 { unsigned x, y, z; };
static thread_local FakeDim3 blockIdx, threadIdx, blockDim, gridDim;
struct __half { unsigned short bits; };
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }

// float -> half, round to nearest even (what __float2half_rn and .NET's (Half) conversion do).
static inline __half __float2half_rn(float value)
{
    uint32_t x;
    std::memcpy(&x, &value, 4);
    uint32_t sign = (x >> 16) & 0x8000u, magnitude = x & 0x7FFFFFFFu;
    __half h;
    if (magnitude >= 0x7F800000u) { h.bits = (unsigned short)(sign | 0x7C00u | (magnitude > 0x7F800000u ? 0x200u : 0u)); return h; }
    if (magnitude < 0x38800000u) // below the smallest normal half: a subnormal, counted in units of 2^-24
    {
        float a;
        std::memcpy(&a, &magnitude, 4);
        h.bits = (unsigned short)(sign | (uint32_t)std::nearbyint(a * 16777216.0f));
        return h;
    }
    uint32_t bits = ((((magnitude >> 23) - 127 + 15)) << 10) | ((magnitude & 0x7FFFFFu) >> 13);
    uint32_t rest = magnitude & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (bits & 1u)))
        bits++; // may carry into the exponent, up to infinity: right
    h.bits = (unsigned short)(sign | (bits > 0x7C00u ? 0x7C00u : bits));
    return h;
}

#include "../../../../src/TrtMLNet/Images/Gpu/resize_kernels.cu"

#include "fake_gpu.h"

namespace {

std::recursive_mutex g_lock;
struct Allocation { size_t bytes; bool pinned; };
std::map<uintptr_t, Allocation> g_allocations;
std::vector<std::string> g_violations;
long g_cudaObjects = 0;
// Each stream's work not yet run, in order.
std::map<void*, std::vector<std::function<void()>>> g_pending;
const size_t kTotalMemory = size_t(8) << 30;
size_t g_used = 0;

} // namespace

void Violation(const char* format, ...)
{
    char text[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    g_violations.emplace_back(text);
    std::fprintf(stderr, "fake gpu: %s\n", text);
}

bool Inside(const void* p, size_t bytes, bool pinned)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    uintptr_t at = reinterpret_cast<uintptr_t>(p);
    auto it = g_allocations.upper_bound(at);
    if (it == g_allocations.begin())
        return false;
    --it;
    return it->second.pinned == pinned && at + bytes <= it->first + it->second.bytes;
}

static void Enqueue(void* stream, std::function<void()> work)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    g_pending[stream].push_back(std::move(work));
}

// Runs a stream's queued work (under the lock: one "GPU" runs one thing at a time).
static void Drain(void* stream)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    for (auto it = g_pending.find(stream); it != g_pending.end() && !it->second.empty(); it = g_pending.find(stream))
    {
        auto work = std::move(it->second);
        it->second.clear();
        for (auto& w : work)
            w();
    }
}

static void DrainAll()
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    std::vector<void*> streams;
    for (auto& [stream, _] : g_pending)
        streams.push_back(stream);
    for (void* stream : streams)
        Drain(stream);
}

// ---- CUDA driver ----
typedef int CUresult;
enum { OK = 0, ERR_INVALID_VALUE = 1, ERR_OOM = 2, ERR_INVALID_HANDLE = 400, ERR_NOT_FOUND = 500 };

struct FakeEvent { int recorded; bool queued; void* stream; }; // stream: where it was last recorded (null is a stream too)
struct FakeModule { int dummy; };

EXPORT CUresult cuInit(unsigned) { return OK; }
EXPORT CUresult cuDriverGetVersion(int* v) { *v = 13000; return OK; }
EXPORT CUresult cuGetErrorName(CUresult e, const char** s) { static thread_local char b[32]; std::snprintf(b, sizeof b, "CUDA_ERROR_%d", e); *s = b; return OK; }
EXPORT CUresult cuGetErrorString(CUresult, const char** s) { *s = "fake"; return OK; }
EXPORT CUresult cuDeviceGetCount(int* n) { *n = 1; return OK; }
EXPORT CUresult cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return OK; }
EXPORT CUresult cuDeviceGetName(char* name, int length, int) { std::snprintf(name, length, "Fake GPU"); return OK; }
EXPORT CUresult cuDeviceGetAttribute(int* v, int attribute, int) { *v = attribute == 75 ? 9 : 0; return OK; }
EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, int) { *bytes = kTotalMemory; return OK; }
EXPORT CUresult cuDevicePrimaryCtxRetain(void** context, int) { static int primary; *context = &primary; return OK; }
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int) { return OK; }
EXPORT CUresult cuCtxSetCurrent(void*) { return OK; }

// Threads that asked to mind only their own stream captures (CU_STREAM_CAPTURE_MODE_THREAD_LOCAL).
static int g_threadLocalCaptureThreads = 0;
static thread_local int t_captureMode = 0;
EXPORT CUresult cuThreadExchangeStreamCaptureMode(int* mode)
{
    if (mode == nullptr || *mode < 0 || *mode > 2) { Violation("cuThreadExchangeStreamCaptureMode with %s", mode ? "a mode that is not 0, 1 or 2" : "no mode"); return ERR_INVALID_VALUE; }
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    if (*mode == 1 && t_captureMode != 1) g_threadLocalCaptureThreads++;
    std::swap(*mode, t_captureMode);
    return OK;
}

EXPORT CUresult cuMemGetInfo_v2(size_t* free, size_t* total)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    *free = kTotalMemory - g_used;
    *total = kTotalMemory;
    return OK;
}

static CUresult Allocate(void** p, size_t bytes, bool pinned)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    if (bytes == 0) return ERR_INVALID_VALUE;
    if (!pinned && g_used + bytes > kTotalMemory) return ERR_OOM;
    *p = std::calloc(1, bytes);
    if (!*p) return ERR_OOM;
    g_allocations[reinterpret_cast<uintptr_t>(*p)] = Allocation{bytes, pinned};
    if (!pinned) g_used += bytes;
    return OK;
}

static CUresult Free(void* p, bool pinned)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    DrainAll(); // cuMemFree waits for the device's work, as the real one does
    auto it = g_allocations.find(reinterpret_cast<uintptr_t>(p));
    if (it == g_allocations.end() || it->second.pinned != pinned)
    {
        Violation("%s of %p, which is not a live %s allocation", pinned ? "cuMemFreeHost" : "cuMemFree", p, pinned ? "pinned" : "device");
        return ERR_INVALID_VALUE;
    }
    if (!pinned) g_used -= it->second.bytes;
    g_allocations.erase(it);
    std::free(p);
    return OK;
}

EXPORT CUresult cuMemAlloc_v2(void** p, size_t bytes) { return Allocate(p, bytes, false); }
EXPORT CUresult cuMemFree_v2(void* p) { return Free(p, false); }
EXPORT CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned) { return Allocate(p, bytes, true); }
EXPORT CUresult cuMemFreeHost(void* p) { return Free(p, true); }

EXPORT CUresult cuMemcpyHtoDAsync_v2(void* dst, const void* src, size_t n, void* stream)
{
    if (!Inside(dst, n, false)) { Violation("cuMemcpyHtoDAsync of %zu bytes to %p, outside device memory", n, dst); return ERR_INVALID_VALUE; }
    Enqueue(stream, [=] { std::memcpy(dst, src, n); });
    return OK;
}
EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, const void* src, size_t n, void* stream)
{
    if (!Inside(src, n, false)) { Violation("cuMemcpyDtoHAsync of %zu bytes from %p, outside device memory", n, src); return ERR_INVALID_VALUE; }
    Enqueue(stream, [=] { std::memcpy(dst, src, n); });
    return OK;
}
EXPORT CUresult cuMemcpyDtoDAsync_v2(void* dst, const void* src, size_t n, void* stream)
{
    if (!Inside(dst, n, false) || !Inside(src, n, false)) { Violation("cuMemcpyDtoDAsync outside device memory"); return ERR_INVALID_VALUE; }
    Enqueue(stream, [=] { std::memmove(dst, src, n); });
    return OK;
}
EXPORT CUresult cuMemsetD8Async(void* dst, unsigned char value, size_t n, void* stream)
{
    if (!Inside(dst, n, false)) { Violation("cuMemsetD8Async of %zu bytes at %p, outside device memory", n, dst); return ERR_INVALID_VALUE; }
    Enqueue(stream, [=] { std::memset(dst, value, n); });
    return OK;
}

static void* NewObject() { std::lock_guard<std::recursive_mutex> guard(g_lock); g_cudaObjects++; return new FakeEvent{0, false, nullptr}; }
static CUresult DeleteObject(void* p) { std::lock_guard<std::recursive_mutex> guard(g_lock); g_cudaObjects--; delete static_cast<FakeEvent*>(p); return OK; }

EXPORT CUresult cuStreamCreateWithPriority(void** s, unsigned, int) { *s = NewObject(); return OK; }
EXPORT CUresult cuCtxGetStreamPriorityRange(int* least, int* greatest) { *least = 0; *greatest = -5; return OK; }
EXPORT CUresult cuStreamDestroy_v2(void* s)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    Drain(s);
    g_pending.erase(s);
    return DeleteObject(s);
}
EXPORT CUresult cuStreamSynchronize(void* s) { Drain(s); return OK; }
// Waiting for an event runs its stream's work: all of it, a little more than up to the event, which only
// hides a missing wait where the later work would have covered it anyway.
static void DrainEvent(void* e)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    auto* event = static_cast<FakeEvent*>(e);
    if (event->queued)
        Drain(event->stream);
}
EXPORT CUresult cuStreamWaitEvent(void*, void* e, unsigned) { DrainEvent(e); return OK; }
EXPORT CUresult cuEventCreate(void** e, unsigned) { *e = NewObject(); return OK; }
// Every stream: work queued anywhere may still name this event (recorded on one stream, then another).
EXPORT CUresult cuEventDestroy_v2(void* e) { DrainAll(); return DeleteObject(e); }
EXPORT CUresult cuEventRecord(void* e, void* stream)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    auto* event = static_cast<FakeEvent*>(e);
    event->stream = stream;
    event->queued = true;
    Enqueue(stream, [event] { event->recorded = 1; });
    return OK;
}
EXPORT CUresult cuEventQuery(void* e) { DrainEvent(e); return OK; }
EXPORT CUresult cuEventSynchronize(void* e) { DrainEvent(e); return OK; }
EXPORT CUresult cuEventElapsedTime(float* ms, void*, void*) { *ms = 0; return OK; }

EXPORT CUresult cuModuleLoadData(void** module, const void* image)
{
    const char* ptx = static_cast<const char*>(image);
    if (!std::strstr(ptx, ".visible .entry resize_horizontal(") || !std::strstr(ptx, ".visible .entry resize_vertical_write("))
        return 218; // CUDA_ERROR_INVALID_PTX: not the resize kernels' PTX
    *module = NewObject();
    return OK;
}
EXPORT CUresult cuModuleUnload(void* module) { return DeleteObject(module); }

enum { KernelHorizontal = 1, KernelVertical = 2 };
static int g_kernelIds[2] = {KernelHorizontal, KernelVertical};

EXPORT CUresult cuModuleGetFunction(void** function, void*, const char* name)
{
    if (std::strcmp(name, "resize_horizontal") == 0) *function = &g_kernelIds[0];
    else if (std::strcmp(name, "resize_vertical_write") == 0) *function = &g_kernelIds[1];
    else return ERR_NOT_FOUND;
    return OK;
}

template <typename T> static T Arg(void** params, int i) { T value; std::memcpy(&value, params[i], sizeof(T)); return value; }

EXPORT CUresult cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
    unsigned sharedBytes, void* stream, void** params, void** extra)
{
    if (!gx || !gy || !gz || !bx || !by || !bz || gy > 65535 || bx * by * bz > 1024 || sharedBytes || extra || !params)
    {
        Violation("cuLaunchKernel with grid %ux%ux%u, block %ux%ux%u, %u shared bytes", gx, gy, gz, bx, by, bz, sharedBytes);
        return ERR_INVALID_VALUE;
    }
    int kernel = *static_cast<int*>(function);
    // The arguments are read now, as a launch copies them; the kernel runs when the stream gets to it.
    std::function<void()> run;
    if (kernel == KernelHorizontal)
    {
        auto jobs = Arg<const ResizeJob*>(params, 0);
        auto tables = Arg<const int*>(params, 1);
        int outWidth = Arg<int>(params, 2);
        run = [=] { resize_horizontal(jobs, tables, outWidth); };
    }
    else
    {
        auto jobs = Arg<const ResizeJob*>(params, 0);
        auto tables = Arg<const int*>(params, 1);
        int outWidth = Arg<int>(params, 2), outHeight = Arg<int>(params, 3);
        auto output = Arg<unsigned char*>(params, 4);
        int layout = Arg<int>(params, 5), elementType = Arg<int>(params, 6), bgr = Arg<int>(params, 7);
        float s0 = Arg<float>(params, 8), s1 = Arg<float>(params, 9), s2 = Arg<float>(params, 10);
        float b0 = Arg<float>(params, 11), b1 = Arg<float>(params, 12), b2 = Arg<float>(params, 13);
        run = [=] { resize_vertical_write(jobs, tables, outWidth, outHeight, output, layout, elementType, bgr, s0, s1, s2, b0, b1, b2); };
    }
    Enqueue(stream, [=] {
        gridDim = FakeDim3{gx, gy, gz};
        blockDim = FakeDim3{bx, by, bz};
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++)
                for (unsigned t = 0; t < bx; t++)
                {
                    blockIdx = FakeDim3{x, y, 0};
                    threadIdx = FakeDim3{t, 0, 0};
                    run();
                }
    });
    return OK;
}

// The test's view: what is still alive, and every contract broken, as "key value" lines then the violations.
EXPORT int fake_gpu_report(char* buffer, int size)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    size_t device = 0, pinned = 0;
    for (auto& [at, a] : g_allocations)
        (a.pinned ? pinned : device) += 1;
    std::string text = "device_allocations " + std::to_string(device) + "\npinned_allocations " + std::to_string(pinned) +
        "\ncuda_objects " + std::to_string(g_cudaObjects) + "\nnvjpeg_objects " + std::to_string(NvJpegLiveObjects()) +
        "\nviolations " + std::to_string(g_violations.size()) + "\n";
    for (auto& v : g_violations)
        text += v + "\n";
    text += "thread_local_capture_threads " + std::to_string(g_threadLocalCaptureThreads) + "\n";
    std::snprintf(buffer, size, "%s", text.c_str());
    return static_cast<int>(text.size());
}
