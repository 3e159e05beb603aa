/*
 * ONNX -> serialized plan, with the options .NET cares about translated for the TensorRT major the
 * shim was compiled against. Options are validated before the (slow) parse and build.
 */
#include "shim_handles.h"

#include <type_traits>

namespace trts
{
namespace
{

constexpr uint32_t kKnownTacticBits = TRTS_TACTIC_CUBLAS | TRTS_TACTIC_CUBLAS_LT | TRTS_TACTIC_CUDNN
    | TRTS_TACTIC_EDGE_MASK_CONVOLUTIONS | TRTS_TACTIC_JIT_CONVOLUTIONS;
#if !TRTS_HAS_WEAK_TYPING
constexpr uint32_t kRemovedIn11TacticBits = TRTS_TACTIC_CUBLAS | TRTS_TACTIC_CUBLAS_LT | TRTS_TACTIC_CUDNN;
#endif

void validate(trts_build_options const& options)
{
    if (options.struct_size != static_cast<int32_t>(sizeof(trts_build_options)))
    {
        fail(TRTS_ERR_INVALID_ARGUMENT,
            "trts_build_options.struct_size is " + std::to_string(options.struct_size) + ", this shim expects "
                + std::to_string(sizeof(trts_build_options)) + " (a .NET assembly and shim of different versions?)");
    }
    switch (options.precision)
    {
    case TRTS_PRECISION_FP32: break;
    case TRTS_PRECISION_FP16:
    case TRTS_PRECISION_BF16:
#if !TRTS_HAS_WEAK_TYPING
        fail(TRTS_ERR_UNSUPPORTED,
            std::string(options.precision == TRTS_PRECISION_FP16 ? "FP16" : "BF16")
                + " precision cannot be requested from TensorRT " + std::to_string(NV_TENSORRT_MAJOR)
                + ": it is strongly typed and takes each layer's precision from the model. Export the model in "
                  "that precision (for example with ModelOpt AutoCast) and build it as FP32 (as the model says).");
#endif
        break;
    default:
        fail(TRTS_ERR_INVALID_ARGUMENT, "precision " + std::to_string(options.precision) + " is not a trts_precision");
    }
    if (options.optimization_level < -1 || options.optimization_level > 5)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT,
            "optimization_level " + std::to_string(options.optimization_level) + " is not -1 or 0..5");
    }
    if (options.workspace_bytes < 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "workspace_bytes is negative");
    }
    if (options.max_aux_streams < -1)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "max_aux_streams " + std::to_string(options.max_aux_streams) + " is below -1");
    }
    uint32_t const unknown = (options.tactics_enable | options.tactics_disable) & ~kKnownTacticBits;
    if (unknown != 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "unknown tactic source bits " + std::to_string(unknown));
    }
    if ((options.tactics_enable & options.tactics_disable) != 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "tactic sources both enabled and disabled: bits "
                + std::to_string(options.tactics_enable & options.tactics_disable));
    }
#if !TRTS_HAS_WEAK_TYPING
    /* Turning off what no longer exists is harmless; asking for it is not. */
    if ((options.tactics_enable & kRemovedIn11TacticBits) != 0)
    {
        fail(TRTS_ERR_UNSUPPORTED,
            "TensorRT " + std::to_string(NV_TENSORRT_MAJOR)
                + " has no cuBLAS, cuBLASLt or cuDNN tactic sources (removed in 11.0)");
    }
#endif
    if (options.profile_count < 0 || (options.profile_count > 0 && options.profiles == nullptr))
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "profile_count is " + std::to_string(options.profile_count)
                + " but profiles is " + (options.profiles == nullptr ? "null" : "set"));
    }
    for (int32_t p = 0; p < options.profile_count; ++p)
    {
        trts_profile const& profile = options.profiles[p];
        if (profile.shape_count < 0 || (profile.shape_count > 0 && profile.shapes == nullptr))
        {
            fail(TRTS_ERR_INVALID_ARGUMENT, "profile " + std::to_string(p) + " has an invalid shape list");
        }
        for (int32_t s = 0; s < profile.shape_count; ++s)
        {
            if (profile.shapes[s].tensor_name == nullptr)
            {
                fail(TRTS_ERR_INVALID_ARGUMENT,
                    "profile " + std::to_string(p) + ", shape " + std::to_string(s) + ": tensor_name is null");
            }
        }
    }
    if (options.timing_cache == nullptr && options.timing_cache_size != 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "timing_cache is null but timing_cache_size is not 0");
    }
}

/* Each tactic source the shim knows, as the compiled major names it. */
struct TacticMapping
{
    uint32_t shimBit;
    nvinfer1::TacticSource source;
};

TRTS_ALLOW_DEPRECATED_BEGIN
constexpr TacticMapping kTacticMappings[] = {
#if TRTS_HAS_WEAK_TYPING
    {TRTS_TACTIC_CUBLAS, nvinfer1::TacticSource::kCUBLAS},
    {TRTS_TACTIC_CUBLAS_LT, nvinfer1::TacticSource::kCUBLAS_LT},
    {TRTS_TACTIC_CUDNN, nvinfer1::TacticSource::kCUDNN},
#endif
    {TRTS_TACTIC_EDGE_MASK_CONVOLUTIONS, nvinfer1::TacticSource::kEDGE_MASK_CONVOLUTIONS},
    {TRTS_TACTIC_JIT_CONVOLUTIONS, nvinfer1::TacticSource::kJIT_CONVOLUTIONS},
};
TRTS_ALLOW_DEPRECATED_END

nvinfer1::TacticSources tacticMask(nvinfer1::TacticSource source) noexcept
{
    return 1U << static_cast<uint32_t>(source);
}

void applyPrecision(nvinfer1::IBuilderConfig& config, int32_t precision)
{
#if TRTS_HAS_WEAK_TYPING
    TRTS_ALLOW_DEPRECATED_BEGIN
    if (precision == TRTS_PRECISION_FP16)
    {
        config.setFlag(nvinfer1::BuilderFlag::kFP16);
    }
    else if (precision == TRTS_PRECISION_BF16)
    {
        config.setFlag(nvinfer1::BuilderFlag::kBF16);
    }
    TRTS_ALLOW_DEPRECATED_END
#else
    (void) config;
    (void) precision; /* validate() already refused FP16/BF16 */
#endif
}

void applyTactics(nvinfer1::IBuilderConfig& config, uint32_t enable, uint32_t disable)
{
    if (enable == 0 && disable == 0)
    {
        return;
    }
    nvinfer1::TacticSources sources = config.getTacticSources();
    for (TacticMapping const& mapping : kTacticMappings)
    {
        if ((enable & mapping.shimBit) != 0)
        {
            sources |= tacticMask(mapping.source);
        }
        if ((disable & mapping.shimBit) != 0)
        {
            sources &= ~tacticMask(mapping.source);
        }
    }
    if (!config.setTacticSources(sources))
    {
        failTensorRt("setTacticSources(" + std::to_string(sources) + ") failed");
    }
}

/* setMaxAuxStreams returns void in TensorRT 10 and bool in 11; a template lets the branch that does
 * not apply go uncompiled. */
template <typename Config>
void applyMaxAuxStreams(Config& config, int32_t streams)
{
    if constexpr (std::is_same<decltype(config.setMaxAuxStreams(streams)), bool>::value)
    {
        if (!config.setMaxAuxStreams(streams))
        {
            failTensorRt("setMaxAuxStreams(" + std::to_string(streams) + ") failed");
        }
    }
    else
    {
        std::size_t const before = loggedErrorCount();
        config.setMaxAuxStreams(streams);
        failIfErrorLogged(before, ("setMaxAuxStreams(" + std::to_string(streams) + ")").c_str());
    }
}

void applyProfiles(nvinfer1::IBuilder& builder, nvinfer1::IBuilderConfig& config, trts_build_options const& options)
{
    for (int32_t p = 0; p < options.profile_count; ++p)
    {
        trts_profile const& profile = options.profiles[p];
        nvinfer1::IOptimizationProfile* trtProfile = builder.createOptimizationProfile();
        if (trtProfile == nullptr)
        {
            failTensorRt("createOptimizationProfile failed");
        }
        for (int32_t s = 0; s < profile.shape_count; ++s)
        {
            trts_profile_shape const& shape = profile.shapes[s];
            std::string const where = "profile " + std::to_string(p) + ", input '" + shape.tensor_name + "'";
            struct
            {
                nvinfer1::OptProfileSelector selector;
                trts_dims const& dims;
                char const* name;
            } const bounds[] = {{nvinfer1::OptProfileSelector::kMIN, shape.min, "min"},
                {nvinfer1::OptProfileSelector::kOPT, shape.opt, "opt"},
                {nvinfer1::OptProfileSelector::kMAX, shape.max, "max"}};
            for (auto const& bound : bounds)
            {
                nvinfer1::Dims const dims = toTensorRt(bound.dims, (where + " " + bound.name).c_str());
                if (!trtProfile->setDimensions(shape.tensor_name, bound.selector, dims))
                {
                    failTensorRt(where + ": setDimensions(" + bound.name + " " + formatDims(dims)
                        + ") failed (is it an input of the model, and min <= opt <= max?)");
                }
            }
        }
        if (config.addOptimizationProfile(trtProfile) < 0)
        {
            failTensorRt("addOptimizationProfile failed for profile " + std::to_string(p)
                + " (every dynamic input needs min/opt/max shapes in every profile)");
        }
    }
}

std::string describeParserErrors(nvonnxparser::IParser const& parser)
{
    int const count = parser.getNbErrors();
    std::string message = "the ONNX parser rejected the model (" + std::to_string(count) + " error"
        + (count == 1 ? "" : "s") + ")";
    for (int i = 0; i < count; ++i)
    {
        nvonnxparser::IParserError const* error = parser.getError(i);
        if (error == nullptr)
        {
            continue;
        }
        message += "\n  [" + std::to_string(i + 1) + "] ";
        message += error->desc() != nullptr ? error->desc() : "(no description)";
        if (error->node() >= 0)
        {
            message += " | node " + std::to_string(error->node());
            if (error->nodeName() != nullptr && *error->nodeName() != '\0')
            {
                message += std::string(" '") + error->nodeName() + "'";
            }
            if (error->nodeOperator() != nullptr && *error->nodeOperator() != '\0')
            {
                message += std::string(" (") + error->nodeOperator() + ")";
            }
        }
        if (error->file() != nullptr && *error->file() != '\0')
        {
            message += std::string(" | ") + error->file() + ":" + std::to_string(error->line());
            if (error->func() != nullptr && *error->func() != '\0')
            {
                message += std::string(" ") + error->func();
            }
        }
        message += " | code " + std::to_string(static_cast<int>(error->code()));
    }
    return message;
}

trts_host_memory* wrap(std::shared_ptr<BuilderObjects> const& owner, nvinfer1::IHostMemory* memory, char const* what)
{
    std::unique_ptr<nvinfer1::IHostMemory> owned(memory);
    if (!owned)
    {
        failTensorRt(std::string(what) + " failed");
    }
    auto* handle = new trts_host_memory();
    handle->owner = owner;
    handle->memory = std::move(owned);
    return handle;
}

} // namespace

BuilderObjects::~BuilderObjects()
{
    timingCache.reset();
    config.reset();
    builder.reset();
}

} // namespace trts

extern "C" TRTS_API trts_status trts_build_engine(const void* onnx, size_t onnx_size, const char* model_path,
    const trts_build_options* options, trts_host_memory** plan_out, trts_host_memory** timing_cache_out)
{
    return trts::guarded([&] {
        trts::require(plan_out, "plan_out") = nullptr;
        if (timing_cache_out != nullptr)
        {
            *timing_cache_out = nullptr;
        }
        trts_build_options const& opts = trts::require(options, "options");
        if (onnx == nullptr || onnx_size == 0)
        {
            trts::fail(TRTS_ERR_INVALID_ARGUMENT, "the ONNX model is empty");
        }
        trts::validate(opts);

        auto objects = std::make_shared<trts::BuilderObjects>();
        objects->builder.reset(nvinfer1::createInferBuilder(trts::logger()));
        if (!objects->builder)
        {
            trts::failTensorRt("createInferBuilder failed");
        }
        /* Explicit batch is the only mode since 10.0 and 11 is always strongly typed, so no flags. */
        std::unique_ptr<nvinfer1::INetworkDefinition> network(objects->builder->createNetworkV2(0));
        if (!network)
        {
            trts::failTensorRt("createNetworkV2 failed");
        }
        /* Declared after network: the parser must go first. */
        std::unique_ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, trts::logger()));
        if (!parser)
        {
            trts::failTensorRt("nvonnxparser::createParser failed");
        }
        if (!parser->parse(onnx, onnx_size, model_path))
        {
            trts::fail(TRTS_ERR_PARSER, trts::describeParserErrors(*parser));
        }

        objects->config.reset(objects->builder->createBuilderConfig());
        if (!objects->config)
        {
            trts::failTensorRt("createBuilderConfig failed");
        }
        nvinfer1::IBuilderConfig& config = *objects->config;
        trts::applyPrecision(config, opts.precision);
        if (opts.allow_tf32 == 0)
        {
            config.clearFlag(nvinfer1::BuilderFlag::kTF32);
        }
        if (opts.workspace_bytes > 0)
        {
            std::size_t const before = trts::loggedErrorCount();
            config.setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, static_cast<std::size_t>(opts.workspace_bytes));
            trts::failIfErrorLogged(before, "setMemoryPoolLimit(kWORKSPACE)");
        }
        trts::applyTactics(config, opts.tactics_enable, opts.tactics_disable);
        if (opts.optimization_level >= 0)
        {
            std::size_t const before = trts::loggedErrorCount();
            config.setBuilderOptimizationLevel(opts.optimization_level);
            trts::failIfErrorLogged(before, "setBuilderOptimizationLevel");
        }
        if (opts.max_aux_streams >= 0)
        {
            trts::applyMaxAuxStreams(config, opts.max_aux_streams);
        }
        trts::applyProfiles(*objects->builder, config, opts);

        /* A cache is needed to hand one back even when the caller had none to start from. */
        if (opts.timing_cache != nullptr || timing_cache_out != nullptr)
        {
            objects->timingCache.reset(config.createTimingCache(opts.timing_cache, opts.timing_cache_size));
            if (!objects->timingCache)
            {
                trts::failTensorRt("createTimingCache failed for a cache of " + std::to_string(opts.timing_cache_size)
                    + " bytes (is it from another TensorRT version?)");
            }
            if (!config.setTimingCache(*objects->timingCache, false))
            {
                trts::failTensorRt("setTimingCache refused the timing cache (built by another TensorRT version or GPU?)");
            }
        }

        trts_host_memory* plan = trts::wrap(
            objects, objects->builder->buildSerializedNetwork(*network, config), "buildSerializedNetwork");
        std::unique_ptr<trts_host_memory> planGuard(plan);
        /* The network and parser are no longer needed: free them before the builder's owners live on. */
        parser.reset();
        network.reset();
        if (timing_cache_out != nullptr)
        {
            *timing_cache_out = trts::wrap(objects, objects->timingCache->serialize(), "ITimingCache::serialize");
        }
        *plan_out = planGuard.release();
    });
}
