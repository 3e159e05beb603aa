/*
 * Private to the shim: what the opaque handles of trtmlnet_shim.h hold.
 *
 * Each handle .NET holds owns one shared_ptr to a state object; a context's state holds its engine's
 * state and an engine's state holds its runtime's, so trts_*_release may come in any order and
 * TensorRT still sees contexts deleted before their engine and engines before their runtime.
 */
#ifndef TRTMLNET_SHIM_HANDLES_H
#define TRTMLNET_SHIM_HANDLES_H

#include "shim_common.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace trts
{

/* Allocates TensorRT's device memory (weights, persistent context memory) with the CUDA driver and
 * counts the live bytes, because TensorRT states neither the persistent memory of a context nor,
 * before 10.14, the size of an engine's weights. */
class CountingAllocator final : public nvinfer1::IGpuAsyncAllocator
{
public:
    explicit CountingAllocator(CUcontext context) noexcept : mContext(context) {}

    void* allocateAsync(uint64_t size, uint64_t alignment, nvinfer1::AllocatorFlags flags,
        cudaStream_t stream) noexcept override;
    bool deallocateAsync(void* memory, cudaStream_t stream) noexcept override;

    int64_t liveBytes() const noexcept;

private:
    CUcontext mContext;
    mutable std::mutex mMutex;
    std::unordered_map<void*, uint64_t> mLive;
    int64_t mLiveBytes = 0;
};

struct RuntimeState
{
    CUcontext cudaContext = nullptr;
    std::unique_ptr<CountingAllocator> allocator;
    std::unique_ptr<nvinfer1::IRuntime> runtime;
    /* Held around every allocation measurement (deserialization, context creation) so that two
     * threads creating objects on one runtime do not see each other's bytes. */
    std::mutex measureMutex;

    ~RuntimeState();
};

struct TensorInfo
{
    std::string name;
    trts_io_mode ioMode = TRTS_IO_NONE;
    trts_data_type dataType = TRTS_TYPE_UNKNOWN;
    bool linear = true;
    bool onDevice = true;
    nvinfer1::Dims shape{};
};

struct EngineState
{
    std::shared_ptr<RuntimeState> runtime;
    std::unique_ptr<nvinfer1::ICudaEngine> engine;
    /* Read once at deserialization: names then have a stable home for trts_tensor_desc, and
     * context calls can reject an unknown tensor name with a message before TensorRT sees it. */
    std::vector<TensorInfo> tensors;
    std::unordered_map<std::string, std::size_t> tensorIndex;
    int64_t measuredWeightBytes = 0;

    ~EngineState();

    TensorInfo const& tensor(char const* name) const;
};

struct ContextState
{
    std::shared_ptr<EngineState> engine;
    std::unique_ptr<nvinfer1::IExecutionContext> context;
    int32_t profile = 0;

    ~ContextState();
};

/* What a host memory blob needs alive: TensorRT's objects are deleted before the object that created
 * them, so a plan keeps its builder, and a serialized timing cache its cache, config and builder. */
struct BuilderObjects
{
    std::unique_ptr<nvinfer1::IBuilder> builder;
    std::unique_ptr<nvinfer1::IBuilderConfig> config;
    std::unique_ptr<nvinfer1::ITimingCache> timingCache;

    ~BuilderObjects();
};

} // namespace trts

struct trts_runtime
{
    std::shared_ptr<trts::RuntimeState> state;
};

struct trts_engine
{
    std::shared_ptr<trts::EngineState> state;
};

struct trts_context
{
    std::shared_ptr<trts::ContextState> state;
};

struct trts_host_memory
{
    std::shared_ptr<trts::BuilderObjects> owner;
    std::unique_ptr<nvinfer1::IHostMemory> memory;

    ~trts_host_memory()
    {
        memory.reset();
    }
};

#endif
