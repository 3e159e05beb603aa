/*
 * Engines: deserialization with the weights measured, and what .NET needs to lay out IO and memory.
 */
#include "shim_handles.h"

#include <algorithm>

namespace trts
{
namespace
{

void readTensors(EngineState& state)
{
    nvinfer1::ICudaEngine const& engine = *state.engine;
    int32_t const count = engine.getNbIOTensors();
    if (count < 0)
    {
        failTensorRt("getNbIOTensors returned " + std::to_string(count));
    }
    state.tensors.reserve(static_cast<std::size_t>(count));
    for (int32_t i = 0; i < count; ++i)
    {
        char const* name = engine.getIOTensorName(i);
        if (name == nullptr)
        {
            failTensorRt("getIOTensorName(" + std::to_string(i) + ") returned null");
        }
        TensorInfo info;
        info.name = name;
        info.ioMode = fromTensorRt(engine.getTensorIOMode(name));
        info.dataType = fromTensorRt(engine.getTensorDataType(name));
        info.linear = engine.getTensorFormat(name) == nvinfer1::TensorFormat::kLINEAR;
        info.onDevice = engine.getTensorLocation(name) == nvinfer1::TensorLocation::kDEVICE;
        info.shape = engine.getTensorShape(name);
        state.tensorIndex.emplace(info.name, state.tensors.size());
        state.tensors.push_back(std::move(info));
    }
}

EngineState const& engineState(trts_engine const* engine)
{
    return require(require(engine, "engine").state.get(), "engine state");
}

void checkProfile(EngineState const& state, int32_t profile)
{
    int32_t const count = state.engine->getNbOptimizationProfiles();
    if (profile < 0 || profile >= count)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT,
            "optimization profile " + std::to_string(profile) + " does not exist: the engine has "
                + std::to_string(count));
    }
}

} // namespace

EngineState::~EngineState()
{
    ScopedCudaContext scope(runtime ? runtime->cudaContext : nullptr);
    engine.reset();
}

TensorInfo const& EngineState::tensor(char const* name) const
{
    if (name == nullptr)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "tensor name is null");
    }
    auto const found = tensorIndex.find(name);
    if (found == tensorIndex.end())
    {
        std::string message = "the engine has no IO tensor named '" + std::string(name) + "'; it has:";
        for (TensorInfo const& info : tensors)
        {
            message.append(" '").append(info.name).append("'");
        }
        fail(TRTS_ERR_INVALID_ARGUMENT, std::move(message));
    }
    return tensors[found->second];
}

} // namespace trts

extern "C" TRTS_API trts_status trts_engine_deserialize(
    trts_runtime* runtime, const void* plan, size_t size, trts_engine** out)
{
    return trts::guarded([&] {
        trts::require(out, "out") = nullptr;
        std::shared_ptr<trts::RuntimeState> const& runtimeState = trts::require(runtime, "runtime").state;
        if (plan == nullptr || size == 0)
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT, "the plan is empty");
        }
        trts::ScopedCudaContext scope(runtimeState->cudaContext);
        auto state = std::make_shared<trts::EngineState>();
        state->runtime = runtimeState;
        {
            std::lock_guard<std::mutex> lock(runtimeState->measureMutex);
            int64_t const before = runtimeState->allocator->liveBytes();
            state->engine.reset(runtimeState->runtime->deserializeCudaEngine(plan, size));
            state->measuredWeightBytes = std::max<int64_t>(0, runtimeState->allocator->liveBytes() - before);
        }
        if (!state->engine)
        {
            trts::failTensorRt("deserializeCudaEngine failed for a plan of " + std::to_string(size)
                + " bytes (a plan loads only into the TensorRT version and GPU it was built for)");
        }
        trts::readTensors(*state);
        *out = new trts_engine{std::move(state)};
    });
}

extern "C" TRTS_API void trts_engine_release(trts_engine* engine)
{
    /* Drops .NET's reference; contexts still alive keep the engine until they go. */
    delete engine;
}

extern "C" TRTS_API int32_t trts_engine_io_count(const trts_engine* engine)
{
    return trts::guardedValue<int32_t>(
        -1, [&] { return static_cast<int32_t>(trts::engineState(engine).tensors.size()); });
}

extern "C" TRTS_API trts_status trts_engine_io_tensor(const trts_engine* engine, int32_t index, trts_tensor_desc* out)
{
    return trts::guarded([&] {
        trts::EngineState const& state = trts::engineState(engine);
        trts_tensor_desc& desc = trts::require(out, "out");
        if (index < 0 || static_cast<std::size_t>(index) >= state.tensors.size())
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT,
                "IO tensor index " + std::to_string(index) + " is out of range: the engine has "
                    + std::to_string(state.tensors.size()));
        }
        trts::TensorInfo const& info = state.tensors[static_cast<std::size_t>(index)];
        desc = trts_tensor_desc{};
        desc.name = info.name.c_str();
        desc.io_mode = info.ioMode;
        desc.data_type = info.dataType;
        desc.is_linear = info.linear ? 1 : 0;
        desc.on_device = info.onDevice ? 1 : 0;
        desc.shape = trts::fromTensorRt(info.shape);
    });
}

extern "C" TRTS_API int32_t trts_engine_profile_count(const trts_engine* engine)
{
    return trts::guardedValue<int32_t>(-1, [&] { return trts::engineState(engine).engine->getNbOptimizationProfiles(); });
}

extern "C" TRTS_API trts_status trts_engine_profile_shape(
    const trts_engine* engine, const char* tensor_name, int32_t profile, int32_t selector, trts_dims* out)
{
    return trts::guarded([&] {
        trts::EngineState const& state = trts::engineState(engine);
        trts_dims& result = trts::require(out, "out");
        trts::TensorInfo const& tensor = state.tensor(tensor_name);
        if (tensor.ioMode != TRTS_IO_INPUT)
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT,
                "'" + tensor.name + "' is not an input: only inputs have optimization profile shapes");
        }
        trts::checkProfile(state, profile);
        nvinfer1::OptProfileSelector select = nvinfer1::OptProfileSelector::kMIN;
        switch (selector)
        {
        case TRTS_PROFILE_MIN: select = nvinfer1::OptProfileSelector::kMIN; break;
        case TRTS_PROFILE_OPT: select = nvinfer1::OptProfileSelector::kOPT; break;
        case TRTS_PROFILE_MAX: select = nvinfer1::OptProfileSelector::kMAX; break;
        default:
            trts::fail(TRTS_ERR_INVALID_ARGUMENT, "profile selector " + std::to_string(selector) + " is not 0, 1 or 2");
        }
        nvinfer1::Dims const dims = state.engine->getProfileShape(tensor.name.c_str(), profile, select);
        if (dims.nbDims < 0)
        {
            trts::failTensorRt("getProfileShape('" + tensor.name + "', profile " + std::to_string(profile)
                + ") failed");
        }
        result = trts::fromTensorRt(dims);
    });
}

extern "C" TRTS_API trts_status trts_engine_scratch_size(const trts_engine* engine, int32_t profile, int64_t* out)
{
    return trts::guarded([&] {
        trts::EngineState const& state = trts::engineState(engine);
        int64_t& result = trts::require(out, "out");
        trts::checkProfile(state, profile);
        int64_t const size = state.engine->getDeviceMemorySizeForProfileV2(profile);
        if (size < 0)
        {
            trts::failTensorRt("getDeviceMemorySizeForProfileV2(" + std::to_string(profile) + ") returned "
                + std::to_string(size));
        }
        result = size;
    });
}

extern "C" TRTS_API trts_status trts_engine_weights_size(const trts_engine* engine, int64_t* stated, int64_t* measured)
{
    return trts::guarded([&] {
        trts::EngineState const& state = trts::engineState(engine);
        int64_t& statedOut = trts::require(stated, "stated");
        int64_t& measuredOut = trts::require(measured, "measured");
#if TRTS_HAS_ENGINE_STAT
        statedOut = state.engine->getEngineStat(nvinfer1::EngineStat::kTOTAL_WEIGHTS_SIZE);
#else
        statedOut = -1;
#endif
        measuredOut = state.measuredWeightBytes;
    });
}
