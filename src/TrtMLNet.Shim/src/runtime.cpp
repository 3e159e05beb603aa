/*
 * The runtime and its counting GPU allocator.
 *
 * TensorRT allocates an engine's weights and a context's persistent memory through the runtime's
 * IGpuAllocator; counting the live bytes there is the only way to learn the persistent size, which
 * TensorRT has no query for. Scratch memory does not pass through here: contexts are kUSER_MANAGED
 * and .NET supplies it.
 */
#include "shim_handles.h"

#include <cstdint>

namespace trts
{

std::string cudaErrorText(CUresult result)
{
    char const* name = nullptr;
    char const* text = nullptr;
    cuGetErrorName(result, &name);
    cuGetErrorString(result, &text);
    std::string message = name != nullptr ? name : "CUDA error " + std::to_string(static_cast<int>(result));
    if (text != nullptr)
    {
        message.append(" (").append(text).append(")");
    }
    return message;
}

void checkCuda(CUresult result, char const* what)
{
    if (result != CUDA_SUCCESS)
    {
        fail(result == CUDA_ERROR_OUT_OF_MEMORY ? TRTS_ERR_OUT_OF_MEMORY : TRTS_ERR_CUDA,
            std::string(what) + " failed: " + cudaErrorText(result));
    }
}

ScopedCudaContext::ScopedCudaContext(CUcontext context) noexcept
{
    CUcontext current = nullptr;
    if (context != nullptr && cuCtxGetCurrent(&current) == CUDA_SUCCESS && current != context)
    {
        mPushed = cuCtxPushCurrent(context) == CUDA_SUCCESS;
    }
}

ScopedCudaContext::~ScopedCudaContext()
{
    if (mPushed)
    {
        CUcontext popped = nullptr;
        cuCtxPopCurrent(&popped);
    }
}

void* CountingAllocator::allocateAsync(
    uint64_t size, uint64_t alignment, nvinfer1::AllocatorFlags /*flags*/, cudaStream_t /*stream*/) noexcept
{
    /* TensorRT's contract: size 0 answers nullptr, and failure is nullptr (no exception). */
    if (size == 0)
    {
        return nullptr;
    }
    ScopedCudaContext scope(mContext);
    CUdeviceptr pointer = 0;
    CUresult const result = cuMemAlloc(&pointer, static_cast<size_t>(size));
    if (result != CUDA_SUCCESS)
    {
        noteAllocationFailure();
        std::string const message = "trtmlnet_shim: cuMemAlloc of " + std::to_string(size)
            + " bytes failed: " + cudaErrorText(result);
        logMessage(TRTS_LOG_ERROR, message.c_str());
        return nullptr;
    }
    /* TensorRT promises alignments cuMemAlloc already satisfies (at least 256); should a later version
     * ask for more, refusing is safer than handing out misaligned memory. */
    if (alignment != 0 && pointer % alignment != 0)
    {
        cuMemFree(pointer);
        std::string const message = "trtmlnet_shim: TensorRT asked for " + std::to_string(alignment)
            + "-byte alignment, more than cuMemAlloc guarantees";
        logMessage(TRTS_LOG_ERROR, message.c_str());
        return nullptr;
    }
    void* const memory = reinterpret_cast<void*>(static_cast<uintptr_t>(pointer));
    try
    {
        std::lock_guard<std::mutex> lock(mMutex);
        mLive.emplace(memory, size);
        mLiveBytes += static_cast<int64_t>(size);
    }
    catch (...)
    {
        cuMemFree(pointer);
        noteAllocationFailure();
        return nullptr;
    }
    return memory;
}

bool CountingAllocator::deallocateAsync(void* memory, cudaStream_t stream) noexcept
{
    if (memory == nullptr)
    {
        return true;
    }
    ScopedCudaContext scope(mContext);
    /* The memory may still be in use by work queued on stream: free it only once that work is done.
     * cudaStream_t and CUstream are the same type. */
    CUresult const synced = cuStreamSynchronize(stream);
    if (synced != CUDA_SUCCESS)
    {
        std::string const message = "trtmlnet_shim: cuStreamSynchronize before freeing TensorRT memory failed: "
            + cudaErrorText(synced);
        logMessage(TRTS_LOG_WARNING, message.c_str());
    }
    uint64_t size = 0;
    {
        std::lock_guard<std::mutex> lock(mMutex);
        auto const found = mLive.find(memory);
        if (found == mLive.end())
        {
            return false;
        }
        size = found->second;
        mLive.erase(found);
        mLiveBytes -= static_cast<int64_t>(size);
    }
    CUresult const freed = cuMemFree(static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(memory)));
    if (freed != CUDA_SUCCESS)
    {
        std::string const message = "trtmlnet_shim: cuMemFree of " + std::to_string(size)
            + " bytes failed: " + cudaErrorText(freed);
        logMessage(TRTS_LOG_WARNING, message.c_str());
        return false;
    }
    return true;
}

int64_t CountingAllocator::liveBytes() const noexcept
{
    std::lock_guard<std::mutex> lock(mMutex);
    return mLiveBytes;
}

RuntimeState::~RuntimeState()
{
    ScopedCudaContext scope(cudaContext);
    runtime.reset();
    allocator.reset();
}

} // namespace trts

extern "C" TRTS_API trts_status trts_runtime_create(trts_runtime** out)
{
    return trts::guarded([&] {
        trts::require(out, "out") = nullptr;
        /* The runtime binds to the context current now: every later call (and release) pushes it,
         * whichever thread makes the call. */
        CUcontext context = nullptr;
        CUresult const result = cuCtxGetCurrent(&context);
        if (result == CUDA_ERROR_NOT_INITIALIZED || (result == CUDA_SUCCESS && context == nullptr))
        {
            trts::fail(TRTS_ERR_CUDA,
                "no CUDA context is current on the calling thread: initialize CUDA (cuInit) and make the "
                "device's context current (cuDevicePrimaryCtxRetain + cuCtxSetCurrent) before creating a "
                "TensorRT runtime");
        }
        trts::checkCuda(result, "cuCtxGetCurrent");
        auto state = std::make_shared<trts::RuntimeState>();
        state->cudaContext = context;
        state->allocator = std::make_unique<trts::CountingAllocator>(context);
        state->runtime.reset(nvinfer1::createInferRuntime(trts::logger()));
        if (!state->runtime)
        {
            trts::failTensorRt("createInferRuntime failed");
        }
        state->runtime->setGpuAllocator(state->allocator.get());
        *out = new trts_runtime{std::move(state)};
    });
}

extern "C" TRTS_API void trts_runtime_release(trts_runtime* runtime)
{
    /* Drops .NET's reference; engines still alive keep the runtime until they go. */
    delete runtime;
}

extern "C" TRTS_API int64_t trts_runtime_allocated_bytes(const trts_runtime* runtime)
{
    return trts::guardedValue<int64_t>(-1, [&] {
        return trts::require(trts::require(runtime, "runtime").state.get(), "runtime state").allocator->liveBytes();
    });
}
