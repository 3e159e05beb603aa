// The fake nvJPEG half of the fake GPU (see fake_gpu.cpp): the functions TrtMLNet imports, with nvJPEG's
// contracts checked (documented ones, and those NVIDIA's samples keep) and a pattern for pixels.
//
// Its JPEG reading is a marker walk: SOF0/1/2 give the size, components and progressiveness; a file without
// SOS is cut short (NVJPEG_STATUS_INCOMPLETE_BITSTREAM); a COM segment saying "CORRUPT" makes the image
// undecodable (NVJPEG_STATUS_BAD_JPEG), in a batch (which then fails whole, as nvJPEG's does) or alone. The
// hardware backend takes baseline images only (nvjpegDecodeBatchedSupported says so of progressive ones).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "fake_gpu.h"

namespace {

enum Status { SUCCESS = 0, NOT_INITIALIZED = 1, INVALID_PARAMETER = 2, BAD_JPEG = 3, JPEG_NOT_SUPPORTED = 4, ARCH_MISMATCH = 7, INCOMPLETE = 10 };
enum Backend { DEFAULT = 0, HARDWARE = 3 };
const int RGBI = 5;

enum Kind { KHandle, KState, KDecoder, KPinned, KDevice, KStream, KParams };
const char* const kNames[] = {"handle", "state", "decoder", "pinned buffer", "device buffer", "jpeg stream", "decode params"};

struct Parsed
{
    int status = NOT_INITIALIZED;
    int width = 0, height = 0, components = 0;
    bool progressive = false, corrupt = false;
    size_t length = 0;
};

struct Object
{
    Kind kind;
    Object* handle;            // what it was made from (null for a handle)
    int backend = DEFAULT;     // handle, decoder
    Object* decoder = nullptr; // state: its decoupled decoder, null for a batched state
    Object* pinned = nullptr;  // state: attached buffers
    Object* device = nullptr;
    int batchSize = -1;        // batched state: as initialized
    int phase = 0;             // decoupled state: 0 none, 1 host done, 2 transferred
    Object* hostStream = nullptr;
    int format = 0;            // params
    size_t bytes = 0;          // pinned or device buffer: grown by the decoupled phases, never shrunk
    Parsed parsed;             // jpeg stream
    std::atomic<int> users{0}; // calls holding it now (see InUse)
};

// nvJPEG's states, bitstreams, buffers and decode parameters are not thread safe (its documentation, "Thread
// Safety"): a call that takes one while another thread's call holds it breaks the contract.
struct InUse
{
    Object* object;
    InUse(Object* o, const char* call) : object(o)
    {
        if (object && object->users.fetch_add(1) != 0)
            Violation("%s: the %s is in use by another thread's call", call, kNames[object->kind]);
    }
    ~InUse() { if (object) object->users.fetch_sub(1); }
    InUse(const InUse&) = delete;
    InUse& operator=(const InUse&) = delete;
};

std::recursive_mutex g_lock;
std::set<Object*> g_objects;

Object* Make(Kind kind, Object* handle)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    auto* o = new Object{};
    o->kind = kind;
    o->handle = handle;
    g_objects.insert(o);
    return o;
}

// The object behind a handle argument, if it is a live one of this kind.
Object* Get(void* p, Kind kind, const char* call)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    auto* o = static_cast<Object*>(p);
    if (!g_objects.count(o) || o->kind != kind)
    {
        Violation("%s: %p is not a live %s", call, p, kNames[kind]);
        return nullptr;
    }
    return o;
}

int Destroy(void* p, Kind kind, const char* call)
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    Object* o = Get(p, kind, call);
    if (!o)
        return INVALID_PARAMETER;
    for (Object* other : g_objects)
        if (other != o && (other->handle == o || other->decoder == o || other->pinned == o || other->device == o))
            Violation("%s: the %s is destroyed while a %s made from or attached to it is alive", call, kNames[kind], kNames[other->kind]);
    g_objects.erase(o);
    delete o;
    return SUCCESS;
}

Parsed Parse(const unsigned char* data, size_t length)
{
    Parsed p;
    p.length = length;
    if (!data || length < 4 || data[0] != 0xFF || data[1] != 0xD8) { p.status = BAD_JPEG; return p; }
    size_t at = 2;
    bool frame = false;
    while (true)
    {
        while (at < length && data[at] == 0xFF) at++;
        if (at >= length) { p.status = INCOMPLETE; return p; }
        unsigned char marker = data[at++];
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) continue;
        if (marker == 0xD9 || at + 2 > length) { p.status = INCOMPLETE; return p; }
        size_t segment = size_t(data[at]) << 8 | data[at + 1];
        if (at + segment > length) { p.status = INCOMPLETE; return p; }
        const unsigned char* s = data + at + 2;
        if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2)
        {
            p.height = s[1] << 8 | s[2];
            p.width = s[3] << 8 | s[4];
            p.components = s[5];
            p.progressive = marker == 0xC2;
            frame = true;
        }
        if (marker == 0xFE && segment >= 9 && std::memcmp(s, "CORRUPT", 7) == 0)
            p.corrupt = true;
        if (marker == 0xDA) { p.status = frame ? SUCCESS : BAD_JPEG; return p; }
        at += segment;
    }
}

// A decoded image: FakeGpuPattern in FakeGpuTests.cs computes the same values.
int Write(const Parsed& p, void* destination, size_t pitch)
{
    const size_t rowBytes = size_t(p.width) * 3;
    if (pitch < rowBytes || !Inside(destination, pitch * (p.height - 1) + rowBytes, false))
    {
        Violation("decode of a %dx%d image into %p with pitch %zu: not inside device memory", p.width, p.height, destination, pitch);
        return INVALID_PARAMETER;
    }
    unsigned seed = unsigned(p.length % 251);
    auto* out = static_cast<unsigned char*>(destination);
    for (int y = 0; y < p.height; y++)
        for (int x = 0; x < p.width; x++)
            for (int c = 0; c < 3; c++)
                out[y * pitch + x * 3 + c] = (unsigned char)((x * 7 + y * 13 + (p.components == 3 ? c * 101 : 0) + seed) & 255);
    return SUCCESS;
}

struct Image { unsigned char* channel[4]; size_t pitch[4]; };

} // namespace

long NvJpegLiveObjects()
{
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    return static_cast<long>(g_objects.size());
}

EXPORT int nvjpegGetProperty(int type, int* value) { *value = type == 0 ? 13 : 0; return SUCCESS; }

EXPORT int nvjpegCreateEx(int backend, void* deviceAllocator, void* pinnedAllocator, unsigned flags, void** handle)
{
    if (deviceAllocator || pinnedAllocator || (flags & ~(1u << 5)) || (backend != DEFAULT && backend != HARDWARE))
        return INVALID_PARAMETER;
    const char* noHardware = std::getenv("FAKE_NVJPEG_NO_HARDWARE");
    if (backend == HARDWARE && noHardware && noHardware[0] == '1')
        return ARCH_MISMATCH;
    Object* o = Make(KHandle, nullptr);
    o->backend = backend;
    *handle = o;
    return SUCCESS;
}
EXPORT int nvjpegDestroy(void* h) { return Destroy(h, KHandle, "nvjpegDestroy"); }

EXPORT int nvjpegGetHardwareDecoderInfo(void* h, unsigned* engines, unsigned* cores)
{
    Object* o = Get(h, KHandle, "nvjpegGetHardwareDecoderInfo");
    if (!o || o->backend != HARDWARE) return INVALID_PARAMETER;
    *engines = 1;
    *cores = 5;
    return SUCCESS;
}

EXPORT int nvjpegJpegStateCreate(void* h, void** state)
{
    Object* handle = Get(h, KHandle, "nvjpegJpegStateCreate");
    if (!handle) return INVALID_PARAMETER;
    *state = Make(KState, handle);
    return SUCCESS;
}
EXPORT int nvjpegJpegStateDestroy(void* s) { return Destroy(s, KState, "nvjpegJpegStateDestroy"); }

EXPORT int nvjpegGetImageInfo(void* h, const unsigned char* data, size_t length, int* components, int* subsampling, int* widths, int* heights)
{
    if (!Get(h, KHandle, "nvjpegGetImageInfo")) return INVALID_PARAMETER;
    Parsed p = Parse(data, length);
    if (p.status != SUCCESS) return p.status;
    *components = p.components;
    *subsampling = p.components == 1 ? 6 : p.components == 3 ? 2 : -1;
    for (int c = 0; c < 4; c++)
    {
        widths[c] = c < p.components ? p.width : 0;
        heights[c] = c < p.components ? p.height : 0;
    }
    return SUCCESS;
}

EXPORT int nvjpegDecodeBatchedPreAllocate(void* h, void* s, int batch, int width, int height, int subsampling, int format)
{
    Object* handle = Get(h, KHandle, "nvjpegDecodeBatchedPreAllocate");
    Object* state = Get(s, KState, "nvjpegDecodeBatchedPreAllocate");
    if (!handle || !state || state->decoder || batch < 0 || width < 1 || height < 1 || subsampling < 0 || format != RGBI)
        return INVALID_PARAMETER;
    return handle->backend == HARDWARE ? SUCCESS : INVALID_PARAMETER;
}

EXPORT int nvjpegDecodeBatchedInitialize(void* h, void* s, int batch, int threads, int format)
{
    Object* state = Get(s, KState, "nvjpegDecodeBatchedInitialize");
    if (!Get(h, KHandle, "nvjpegDecodeBatchedInitialize") || !state || state->decoder || batch < 1 || threads < 1)
        return INVALID_PARAMETER;
    if (format != RGBI) { Violation("nvjpegDecodeBatchedInitialize with output format %d, not RGBI", format); return INVALID_PARAMETER; }
    state->batchSize = batch;
    return SUCCESS;
}

EXPORT int nvjpegDecodeBatched(void* h, void* s, const unsigned char* const* data, const size_t* lengths, Image* destinations, void*)
{
    Object* handle = Get(h, KHandle, "nvjpegDecodeBatched");
    Object* state = Get(s, KState, "nvjpegDecodeBatched");
    if (!handle || !state) return INVALID_PARAMETER;
    if (state->batchSize < 1) { Violation("nvjpegDecodeBatched on a state not initialized (or failed since)"); return INVALID_PARAMETER; }
    int n = state->batchSize;
    state->batchSize = -1; // the fake asks for an initialization before every batch, as TrtMLNet does
    for (int i = 0; i < n; i++)
    {
        Parsed p = Parse(data[i], lengths[i]);
        if (p.status != SUCCESS) return p.status;
        if (p.corrupt) return BAD_JPEG;
        if (handle->backend == HARDWARE && p.progressive) { Violation("nvjpegDecodeBatched given a progressive JPEG on the hardware backend"); return JPEG_NOT_SUPPORTED; }
    }
    for (int i = 0; i < n; i++)
    {
        int status = Write(Parse(data[i], lengths[i]), destinations[i].channel[0], destinations[i].pitch[0]);
        if (status != SUCCESS) return status;
    }
    return SUCCESS;
}

EXPORT int nvjpegDecodeBatchedSupported(void* h, void* js, int* isSupported)
{
    Object* handle = Get(h, KHandle, "nvjpegDecodeBatchedSupported");
    Object* stream = Get(js, KStream, "nvjpegDecodeBatchedSupported");
    if (!handle || !stream || stream->parsed.status != SUCCESS) return INVALID_PARAMETER;
    *isSupported = stream->parsed.progressive ? 1 : 0;
    return SUCCESS;
}

EXPORT int nvjpegJpegStreamCreate(void* h, void** js)
{
    Object* handle = Get(h, KHandle, "nvjpegJpegStreamCreate");
    if (!handle) return INVALID_PARAMETER;
    *js = Make(KStream, handle);
    return SUCCESS;
}
EXPORT int nvjpegJpegStreamDestroy(void* js) { return Destroy(js, KStream, "nvjpegJpegStreamDestroy"); }

EXPORT int nvjpegJpegStreamParse(void* h, const unsigned char* data, size_t length, int, int, void* js)
{
    Object* stream = Get(js, KStream, "nvjpegJpegStreamParse");
    if (!Get(h, KHandle, "nvjpegJpegStreamParse") || !stream) return INVALID_PARAMETER;
    InUse held(stream, "nvjpegJpegStreamParse");
    stream->parsed = Parse(data, length);
    return stream->parsed.status;
}
EXPORT int nvjpegJpegStreamParseHeader(void* h, const unsigned char* data, size_t length, void* js)
{
    return nvjpegJpegStreamParse(h, data, length, 0, 0, js);
}

EXPORT int nvjpegDecoderCreate(void* h, int backend, void** decoder)
{
    Object* handle = Get(h, KHandle, "nvjpegDecoderCreate");
    if (!handle || backend != DEFAULT) return INVALID_PARAMETER;
    Object* o = Make(KDecoder, handle);
    o->backend = backend;
    *decoder = o;
    return SUCCESS;
}
EXPORT int nvjpegDecoderDestroy(void* d) { return Destroy(d, KDecoder, "nvjpegDecoderDestroy"); }

EXPORT int nvjpegDecoderStateCreate(void* h, void* d, void** state)
{
    Object* handle = Get(h, KHandle, "nvjpegDecoderStateCreate");
    Object* decoder = Get(d, KDecoder, "nvjpegDecoderStateCreate");
    if (!handle || !decoder) return INVALID_PARAMETER;
    Object* o = Make(KState, handle);
    o->decoder = decoder;
    *state = o;
    return SUCCESS;
}

EXPORT int nvjpegBufferPinnedCreate(void* h, void* allocator, void** buffer)
{
    Object* handle = Get(h, KHandle, "nvjpegBufferPinnedCreate");
    if (!handle || allocator) return INVALID_PARAMETER;
    *buffer = Make(KPinned, handle);
    return SUCCESS;
}
EXPORT int nvjpegBufferPinnedDestroy(void* b) { return Destroy(b, KPinned, "nvjpegBufferPinnedDestroy"); }
EXPORT int nvjpegBufferDeviceCreate(void* h, void* allocator, void** buffer)
{
    Object* handle = Get(h, KHandle, "nvjpegBufferDeviceCreate");
    if (!handle || allocator) return INVALID_PARAMETER;
    *buffer = Make(KDevice, handle);
    return SUCCESS;
}
EXPORT int nvjpegBufferDeviceDestroy(void* b) { return Destroy(b, KDevice, "nvjpegBufferDeviceDestroy"); }

// The buffers' sizes: the fake grows each to 3 bytes per pixel of the largest image through it (the real one's
// sizes depend on its chroma subsampling and padding).
static int Retrieve(void* b, Kind kind, const char* call, size_t* size, void** ptr)
{
    Object* buffer = Get(b, kind, call);
    if (!buffer || !size) return INVALID_PARAMETER;
    InUse held(buffer, call);
    *size = buffer->bytes;
    if (ptr) *ptr = nullptr;
    return SUCCESS;
}
EXPORT int nvjpegBufferPinnedRetrieve(void* b, size_t* size, void** ptr) { return Retrieve(b, KPinned, "nvjpegBufferPinnedRetrieve", size, ptr); }
EXPORT int nvjpegBufferDeviceRetrieve(void* b, size_t* size, void** ptr) { return Retrieve(b, KDevice, "nvjpegBufferDeviceRetrieve", size, ptr); }
static void Grow(Object* buffer, const Parsed& parsed)
{
    size_t need = size_t(parsed.width) * size_t(parsed.height) * 3;
    if (buffer && buffer->bytes < need) buffer->bytes = need;
}

EXPORT int nvjpegStateAttachPinnedBuffer(void* s, void* b)
{
    Object* state = Get(s, KState, "nvjpegStateAttachPinnedBuffer");
    Object* buffer = Get(b, KPinned, "nvjpegStateAttachPinnedBuffer");
    if (!state || !buffer) return INVALID_PARAMETER;
    state->pinned = buffer;
    return SUCCESS;
}
EXPORT int nvjpegStateAttachDeviceBuffer(void* s, void* b)
{
    Object* state = Get(s, KState, "nvjpegStateAttachDeviceBuffer");
    Object* buffer = Get(b, KDevice, "nvjpegStateAttachDeviceBuffer");
    if (!state || !buffer) return INVALID_PARAMETER;
    state->device = buffer;
    return SUCCESS;
}

EXPORT int nvjpegDecodeParamsCreate(void* h, void** params)
{
    Object* handle = Get(h, KHandle, "nvjpegDecodeParamsCreate");
    if (!handle) return INVALID_PARAMETER;
    *params = Make(KParams, handle);
    return SUCCESS;
}
EXPORT int nvjpegDecodeParamsDestroy(void* p) { return Destroy(p, KParams, "nvjpegDecodeParamsDestroy"); }
EXPORT int nvjpegDecodeParamsSetOutputFormat(void* p, int format)
{
    Object* params = Get(p, KParams, "nvjpegDecodeParamsSetOutputFormat");
    if (!params) return INVALID_PARAMETER;
    params->format = format;
    return SUCCESS;
}

// The decoupled phases: host (needs a parsed stream and a pinned buffer), transfer (needs the host phase of
// the same stream and a device buffer), device (needs the transfer); each on the state's own decoder.
static Object* DecoupledState(void* h, void* d, void* s, const char* call)
{
    Object* handle = Get(h, KHandle, call);
    Object* decoder = Get(d, KDecoder, call);
    Object* state = Get(s, KState, call);
    if (!handle || !decoder || !state) return nullptr;
    if (state->decoder != decoder) { Violation("%s: the state was not made for this decoder", call); return nullptr; }
    return state;
}

EXPORT int nvjpegDecodeJpegHost(void* h, void* d, void* s, void* p, void* js)
{
    Object* state = DecoupledState(h, d, s, "nvjpegDecodeJpegHost");
    Object* params = Get(p, KParams, "nvjpegDecodeJpegHost");
    Object* stream = Get(js, KStream, "nvjpegDecodeJpegHost");
    if (!state || !params || !stream) return INVALID_PARAMETER;
    InUse heldState(state, "nvjpegDecodeJpegHost"), heldParams(params, "nvjpegDecodeJpegHost"), heldStream(stream, "nvjpegDecodeJpegHost");
    // The Huffman decoding takes a while on the host: long enough for another thread's call to come in.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (!state->pinned) Violation("nvjpegDecodeJpegHost without a pinned buffer attached");
    if (params->format != RGBI) Violation("nvjpegDecodeJpegHost with output format %d, not RGBI", params->format);
    if (stream->parsed.status != SUCCESS) { Violation("nvjpegDecodeJpegHost on a stream that did not parse"); return INVALID_PARAMETER; }
    state->phase = 0;
    if (stream->parsed.corrupt) return BAD_JPEG;
    { InUse heldBuffer(state->pinned, "nvjpegDecodeJpegHost"); Grow(state->pinned, stream->parsed); }
    state->phase = 1;
    state->hostStream = stream;
    return SUCCESS;
}

EXPORT int nvjpegDecodeJpegTransferToDevice(void* h, void* d, void* s, void* js, void*)
{
    Object* state = DecoupledState(h, d, s, "nvjpegDecodeJpegTransferToDevice");
    if (!state) return INVALID_PARAMETER;
    InUse held(state, "nvjpegDecodeJpegTransferToDevice");
    if (state->phase != 1 || state->hostStream != js) { Violation("nvjpegDecodeJpegTransferToDevice without the host phase of this stream"); return INVALID_PARAMETER; }
    if (!state->device) { Violation("nvjpegDecodeJpegTransferToDevice without a device buffer attached"); return INVALID_PARAMETER; }
    { InUse heldBuffer(state->device, "nvjpegDecodeJpegTransferToDevice"); Grow(state->device, state->hostStream->parsed); }
    state->phase = 2;
    return SUCCESS;
}

EXPORT int nvjpegDecodeJpegDevice(void* h, void* d, void* s, Image* destination, void*)
{
    Object* state = DecoupledState(h, d, s, "nvjpegDecodeJpegDevice");
    if (!state) return INVALID_PARAMETER;
    InUse held(state, "nvjpegDecodeJpegDevice");
    if (state->phase != 2) { Violation("nvjpegDecodeJpegDevice without the transfer phase"); return INVALID_PARAMETER; }
    state->phase = 0;
    return Write(state->hostStream->parsed, destination->channel[0], destination->pitch[0]);
}
