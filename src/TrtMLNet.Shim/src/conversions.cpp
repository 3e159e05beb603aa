/*
 * Dims and enum translation between the shim's ABI and TensorRT's types.
 *
 * Enums are translated member by member, never cast: the shim's numbers are a contract with .NET, and
 * TensorRT's may move between majors (DataType has not so far, BuilderFlag and TacticSource have).
 */
#include "shim_common.h"

#include <cstddef>
#include <type_traits>
#include <utility>

namespace trts
{

static_assert(nvinfer1::Dims::MAX_DIMS == TRTS_MAX_DIMS, "trts_dims must hold every rank TensorRT allows");
static_assert(std::is_same<decltype(std::declval<nvinfer1::Dims&>().d[0]), int64_t&>::value, "TensorRT 10+ dimensions are int64");

/* The .NET side declares these layouts with explicit offsets; a change here is an ABI change. */
static_assert(sizeof(void*) != 8 || sizeof(trts_dims) == 72, "trts_dims layout");
static_assert(sizeof(void*) != 8 || sizeof(trts_tensor_desc) == 96, "trts_tensor_desc layout");
static_assert(sizeof(void*) != 8 || offsetof(trts_tensor_desc, shape) == 24, "trts_tensor_desc layout");
static_assert(sizeof(void*) != 8 || sizeof(trts_profile_shape) == 224, "trts_profile_shape layout");
static_assert(sizeof(void*) != 8 || sizeof(trts_profile) == 16, "trts_profile layout");
static_assert(sizeof(void*) != 8 || sizeof(trts_build_options) == 64, "trts_build_options layout");
static_assert(sizeof(void*) != 8 || offsetof(trts_build_options, profiles) == 40, "trts_build_options layout");

nvinfer1::Dims toTensorRt(trts_dims const& dims, char const* what)
{
    if (dims.nb_dims < 0 || dims.nb_dims > TRTS_MAX_DIMS)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT,
            std::string(what) + ": nb_dims is " + std::to_string(dims.nb_dims) + ", expected 0.."
                + std::to_string(TRTS_MAX_DIMS));
    }
    nvinfer1::Dims result{};
    result.nbDims = dims.nb_dims;
    for (int32_t i = 0; i < dims.nb_dims; ++i)
    {
        result.d[i] = dims.d[i];
    }
    return result;
}

trts_dims fromTensorRt(nvinfer1::Dims const& dims)
{
    trts_dims result{};
    /* TensorRT answers nbDims = -1 for "unknown"; callers check for it before converting. */
    result.nb_dims = dims.nbDims;
    for (int32_t i = 0; i < dims.nbDims && i < TRTS_MAX_DIMS; ++i)
    {
        result.d[i] = dims.d[i];
    }
    return result;
}

namespace
{

template <typename Count, typename Value>
std::string formatDimsImpl(Count count, Value const* values)
{
    if (count < 0)
    {
        return "[unknown]";
    }
    std::string text = "[";
    for (Count i = 0; i < count && i < TRTS_MAX_DIMS; ++i)
    {
        if (i > 0)
        {
            text += ',';
        }
        text += std::to_string(values[i]);
    }
    return text + "]";
}

} // namespace

std::string formatDims(trts_dims const& dims)
{
    return formatDimsImpl(dims.nb_dims, dims.d);
}

std::string formatDims(nvinfer1::Dims const& dims)
{
    return formatDimsImpl(dims.nbDims, dims.d);
}

trts_data_type fromTensorRt(nvinfer1::DataType type) noexcept
{
    switch (type)
    {
    case nvinfer1::DataType::kFLOAT: return TRTS_TYPE_FLOAT32;
    case nvinfer1::DataType::kHALF: return TRTS_TYPE_FLOAT16;
    case nvinfer1::DataType::kBF16: return TRTS_TYPE_BFLOAT16;
    case nvinfer1::DataType::kINT8: return TRTS_TYPE_INT8;
    case nvinfer1::DataType::kUINT8: return TRTS_TYPE_UINT8;
    case nvinfer1::DataType::kINT32: return TRTS_TYPE_INT32;
    case nvinfer1::DataType::kINT64: return TRTS_TYPE_INT64;
    case nvinfer1::DataType::kBOOL: return TRTS_TYPE_BOOL;
    case nvinfer1::DataType::kFP8: return TRTS_TYPE_FP8;
    case nvinfer1::DataType::kINT4: return TRTS_TYPE_INT4;
#if TRTS_HAS_FP4
    case nvinfer1::DataType::kFP4: return TRTS_TYPE_FP4;
#endif
    /* kE8M0 (10.12+) and whatever later versions add: .NET treats the tensor as unsupported. */
    default: return TRTS_TYPE_UNKNOWN;
    }
}

trts_io_mode fromTensorRt(nvinfer1::TensorIOMode mode) noexcept
{
    switch (mode)
    {
    case nvinfer1::TensorIOMode::kINPUT: return TRTS_IO_INPUT;
    case nvinfer1::TensorIOMode::kOUTPUT: return TRTS_IO_OUTPUT;
    default: return TRTS_IO_NONE;
    }
}

} // namespace trts
