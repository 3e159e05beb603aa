/*
 * Execution contexts: kUSER_MANAGED, so that .NET supplies scratch memory from its shared pool and
 * only persistent memory is allocated (and counted) through the runtime.
 */
#include "shim_handles.h"

#include <algorithm>

namespace trts
{
namespace
{

ContextState& contextState(trts_context* context)
{
    return require(require(context, "context").state.get(), "context state");
}

ContextState const& contextState(trts_context const* context)
{
    return require(require(context, "context").state.get(), "context state");
}

} // namespace

ContextState::~ContextState()
{
    ScopedCudaContext scope(engine && engine->runtime ? engine->runtime->cudaContext : nullptr);
    context.reset();
}

} // namespace trts

extern "C" TRTS_API trts_status trts_context_create(
    trts_engine* engine, int32_t profile, void* stream, trts_context** out, int64_t* persistent_bytes)
{
    return trts::guarded([&] {
        trts::require(out, "out") = nullptr;
        std::shared_ptr<trts::EngineState> const& engineState = trts::require(engine, "engine").state;
        trts::require(engineState.get(), "engine state");
        int32_t const profiles = engineState->engine->getNbOptimizationProfiles();
        if (profile < 0 || profile >= profiles)
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT,
                "optimization profile " + std::to_string(profile) + " does not exist: the engine has "
                    + std::to_string(profiles));
        }
        trts::RuntimeState& runtime = *engineState->runtime;
        trts::ScopedCudaContext scope(runtime.cudaContext);
        auto state = std::make_shared<trts::ContextState>();
        state->engine = engineState;
        state->profile = profile;
        auto const cudaStream = static_cast<cudaStream_t>(stream);
        int64_t persistent = 0;
        {
            std::lock_guard<std::mutex> lock(runtime.measureMutex);
            int64_t const before = runtime.allocator->liveBytes();
            state->context.reset(
                engineState->engine->createExecutionContext(nvinfer1::ExecutionContextAllocationStrategy::kUSER_MANAGED));
            if (!state->context)
            {
                trts::failTensorRt("createExecutionContext(kUSER_MANAGED) failed");
            }
            /* A new context starts on profile 0; switching enqueues work on the stream, which is
             * synchronized so the context is usable on any stream once this returns. */
            if (profile != 0)
            {
                if (!state->context->setOptimizationProfileAsync(profile, cudaStream))
                {
                    trts::failTensorRt("setOptimizationProfileAsync(" + std::to_string(profile) + ") failed");
                }
                trts::checkCuda(cuStreamSynchronize(cudaStream), "cuStreamSynchronize after selecting the profile");
            }
            persistent = std::max<int64_t>(0, runtime.allocator->liveBytes() - before);
        }
        if (persistent_bytes != nullptr)
        {
            *persistent_bytes = persistent;
        }
        *out = new trts_context{std::move(state)};
    });
}

extern "C" TRTS_API void trts_context_release(trts_context* context)
{
    delete context;
}

extern "C" TRTS_API trts_status trts_context_set_scratch(trts_context* context, void* memory, int64_t size)
{
    return trts::guarded([&] {
        trts::ContextState& state = trts::contextState(context);
        if (size < 0 || (memory == nullptr && size != 0))
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT,
                "scratch memory must be a non-null pointer with a size >= 0 (or null with size 0); got size "
                    + std::to_string(size));
        }
        /* setDeviceMemoryV2 returns void: a rejection (a buffer smaller than the profile needs) only
         * shows as an error in the log. */
        std::size_t const errorsBefore = trts::loggedErrorCount();
        state.context->setDeviceMemoryV2(memory, size);
        trts::failIfErrorLogged(errorsBefore, ("setDeviceMemoryV2 with " + std::to_string(size) + " bytes").c_str());
    });
}

extern "C" TRTS_API trts_status trts_context_set_input_shape(
    trts_context* context, const char* tensor_name, const trts_dims* dims)
{
    return trts::guarded([&] {
        trts::ContextState& state = trts::contextState(context);
        trts::TensorInfo const& tensor = state.engine->tensor(tensor_name);
        trts_dims const& shape = trts::require(dims, "dims");
        if (tensor.ioMode != TRTS_IO_INPUT)
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT, "'" + tensor.name + "' is an output; only inputs take a shape");
        }
        nvinfer1::Dims const trtDims = trts::toTensorRt(shape, ("shape of '" + tensor.name + "'").c_str());
        if (trtDims.nbDims != tensor.shape.nbDims)
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT,
                "shape " + trts::formatDims(shape) + " for '" + tensor.name + "' has " + std::to_string(trtDims.nbDims)
                    + " dimensions; the engine's " + trts::formatDims(tensor.shape) + " has "
                    + std::to_string(tensor.shape.nbDims));
        }
        if (!state.context->setInputShape(tensor.name.c_str(), trtDims))
        {
            trts::failTensorRt("setInputShape('" + tensor.name + "', " + trts::formatDims(shape) + ") failed on profile "
                + std::to_string(state.profile));
        }
    });
}

extern "C" TRTS_API trts_status trts_context_scratch_size_for_shapes(trts_context* context, int64_t* out)
{
    return trts::guarded([&] {
        trts::ContextState& state = trts::contextState(context);
        int64_t& result = trts::require(out, "out");
        std::size_t const errorsBefore = trts::loggedErrorCount();
        std::size_t const size = state.context->updateDeviceMemorySizeForShapes();
        /* 0 is TensorRT's failure value, but also an honest answer for an engine that needs no scratch
         * at all; only the profile's own size, or a logged error, tells them apart. */
        if (size == 0
            && (trts::loggedErrorCount() > errorsBefore
                || state.engine->engine->getDeviceMemorySizeForProfileV2(state.profile) != 0))
        {
            trts::failTensorRt("updateDeviceMemorySizeForShapes failed (are all input shapes set?)");
        }
        result = static_cast<int64_t>(size);
    });
}

extern "C" TRTS_API trts_status trts_context_tensor_shape(const trts_context* context, const char* tensor_name, trts_dims* out)
{
    return trts::guarded([&] {
        trts::ContextState const& state = trts::contextState(context);
        trts::TensorInfo const& tensor = state.engine->tensor(tensor_name);
        trts_dims& result = trts::require(out, "out");
        nvinfer1::Dims const dims = state.context->getTensorShape(tensor.name.c_str());
        if (dims.nbDims < 0)
        {
            trts::failTensorRt("getTensorShape('" + tensor.name + "') failed");
        }
        result = trts::fromTensorRt(dims);
    });
}

extern "C" TRTS_API trts_status trts_context_set_tensor_address(trts_context* context, const char* tensor_name, void* address)
{
    return trts::guarded([&] {
        trts::ContextState& state = trts::contextState(context);
        trts::TensorInfo const& tensor = state.engine->tensor(tensor_name);
        if (!state.context->setTensorAddress(tensor.name.c_str(), address))
        {
            trts::failTensorRt("setTensorAddress('" + tensor.name + "') failed (device addresses must be 256-byte aligned)");
        }
    });
}

extern "C" TRTS_API trts_status trts_context_enqueue(trts_context* context, void* stream)
{
    return trts::guarded([&] {
        trts::ContextState& state = trts::contextState(context);
        trts::ScopedCudaContext scope(state.engine->runtime->cudaContext);
        if (!state.context->enqueueV3(static_cast<cudaStream_t>(stream)))
        {
            trts::failTensorRt("enqueueV3 failed");
        }
    });
}
