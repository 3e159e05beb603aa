/*
 * trtmlnet_shim: a flat C ABI over TensorRT's C++ API, for TrtMLNet's .NET P/Invoke layer.
 *
 * Rules every function follows:
 * - Functions that can fail return trts_status (0 = success). On failure the message is kept in a
 *   thread-local buffer read with trts_last_error(); it stays valid until the next shim call on the
 *   same thread.
 * - Handles are opaque. A context keeps its engine alive and an engine keeps its runtime alive
 *   (reference counts inside the shim), so .NET may release them in any order.
 * - Enum values are the shim's own, defined below, and never TensorRT's numbers: TensorRT 10 and 11
 *   renumber BuilderFlag and TacticSource, and the shim translates for the major it was built with.
 * - Streams and device pointers are passed as void*: a CUstream is a cudaStream_t.
 * - No C++ exception crosses this boundary.
 *
 * Bump TRTS_ABI_VERSION whenever a signature, struct layout or enum value below changes; .NET refuses
 * a shim whose trts_abi_version() differs from the one it was built for.
 */
#ifndef TRTMLNET_SHIM_H
#define TRTMLNET_SHIM_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TRTS_API __declspec(dllexport)
#else
#define TRTS_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define TRTS_ABI_VERSION 1
#define TRTS_MAX_DIMS 8

typedef int32_t trts_status;
enum trts_status_code
{
    TRTS_OK = 0,
    TRTS_ERR_INVALID_ARGUMENT = 1, /* a null handle, an unknown tensor name, a bad enum value */
    TRTS_ERR_TENSORRT = 2,         /* TensorRT refused the call; the message says what it logged */
    TRTS_ERR_CUDA = 3,             /* a CUDA call inside the shim failed */
    TRTS_ERR_OUT_OF_MEMORY = 4,
    TRTS_ERR_UNSUPPORTED = 5,      /* not possible with the TensorRT major the shim was built for */
    TRTS_ERR_PARSER = 6,           /* the ONNX parser rejected the model; the message lists its errors */
    TRTS_ERR_INTERNAL = 7
};

typedef struct trts_runtime trts_runtime;
typedef struct trts_engine trts_engine;
typedef struct trts_context trts_context;
typedef struct trts_host_memory trts_host_memory;

/* Same layout as nvinfer1::Dims64 (int32 count, then eight int64); -1 marks a dynamic dimension. */
typedef struct trts_dims
{
    int32_t nb_dims;
    int32_t reserved; /* padding, always 0 */
    int64_t d[TRTS_MAX_DIMS];
} trts_dims;

typedef enum trts_data_type
{
    TRTS_TYPE_UNKNOWN = 0,
    TRTS_TYPE_FLOAT32 = 1,
    TRTS_TYPE_FLOAT16 = 2,
    TRTS_TYPE_BFLOAT16 = 3,
    TRTS_TYPE_INT8 = 4,
    TRTS_TYPE_UINT8 = 5,
    TRTS_TYPE_INT32 = 6,
    TRTS_TYPE_INT64 = 7,
    TRTS_TYPE_BOOL = 8,
    TRTS_TYPE_FP8 = 9,
    TRTS_TYPE_INT4 = 10,
    TRTS_TYPE_FP4 = 11
} trts_data_type;

typedef enum trts_io_mode
{
    TRTS_IO_NONE = 0,
    TRTS_IO_INPUT = 1,
    TRTS_IO_OUTPUT = 2
} trts_io_mode;

typedef enum trts_log_severity
{
    TRTS_LOG_INTERNAL_ERROR = 0,
    TRTS_LOG_ERROR = 1,
    TRTS_LOG_WARNING = 2,
    TRTS_LOG_INFO = 3,
    TRTS_LOG_VERBOSE = 4
} trts_log_severity;

typedef enum trts_profile_selector
{
    TRTS_PROFILE_MIN = 0,
    TRTS_PROFILE_OPT = 1,
    TRTS_PROFILE_MAX = 2
} trts_profile_selector;

typedef enum trts_precision
{
    TRTS_PRECISION_FP32 = 0, /* what the model says (on TensorRT 11: always) */
    TRTS_PRECISION_FP16 = 1, /* TensorRT 10: kFP16; TensorRT 11: TRTS_ERR_UNSUPPORTED */
    TRTS_PRECISION_BF16 = 2  /* TensorRT 10: kBF16; TensorRT 11: TRTS_ERR_UNSUPPORTED */
} trts_precision;

/* Tactic sources as a bit mask of the shim's bits. */
enum trts_tactic_source
{
    TRTS_TACTIC_CUBLAS = 1u << 0,    /* TensorRT 10 only */
    TRTS_TACTIC_CUBLAS_LT = 1u << 1, /* TensorRT 10 only */
    TRTS_TACTIC_CUDNN = 1u << 2,     /* TensorRT 10 only */
    TRTS_TACTIC_EDGE_MASK_CONVOLUTIONS = 1u << 3,
    TRTS_TACTIC_JIT_CONVOLUTIONS = 1u << 4
};

/* What the TensorRT major the shim was built for can do. */
enum trts_capability
{
    TRTS_CAP_WEAK_TYPING = 1u << 0,        /* precision flags (FP16/BF16) exist: TensorRT 10 */
    TRTS_CAP_ENGINE_WEIGHTS_STAT = 1u << 1 /* ICudaEngine::getEngineStat(kTOTAL_WEIGHTS_SIZE): 10.14+ */
};

/* ---- library ------------------------------------------------------------------------------ */

TRTS_API int32_t trts_abi_version(void);
/* The TensorRT headers the shim was compiled against (NV_TENSORRT_MAJOR/MINOR/PATCH). */
TRTS_API void trts_compiled_version(int32_t* major, int32_t* minor, int32_t* patch);
/* The libnvinfer actually loaded (getInferLibMajorVersion() and friends). */
TRTS_API void trts_loaded_version(int32_t* major, int32_t* minor, int32_t* patch, int32_t* build);
TRTS_API uint32_t trts_capabilities(void);
TRTS_API const char* trts_last_error(void);

/* One process-wide callback for TensorRT's log; TensorRT may call it from any thread. Messages below
 * min_severity (a larger number is less severe) are dropped in the shim. A null callback turns logging off. */
typedef void (*trts_log_callback)(int32_t severity, const char* message, void* user_data);
TRTS_API void trts_set_log_callback(trts_log_callback callback, void* user_data, int32_t min_severity);

/* ---- runtime ------------------------------------------------------------------------------ */

/* A runtime on the CUDA device whose context is current on the calling thread. Its GPU allocator
 * counts bytes, which is how weights and persistent context memory are measured (TensorRT states
 * neither for contexts). */
TRTS_API trts_status trts_runtime_create(trts_runtime** out);
TRTS_API void trts_runtime_release(trts_runtime* runtime);
/* Bytes currently allocated through the runtime's allocator: weights, persistent context memory.
 * -1 (with trts_last_error set) for a null runtime. */
TRTS_API int64_t trts_runtime_allocated_bytes(const trts_runtime* runtime);

/* ---- engine ------------------------------------------------------------------------------- */

TRTS_API trts_status trts_engine_deserialize(trts_runtime* runtime, const void* plan, size_t size, trts_engine** out);
TRTS_API void trts_engine_release(trts_engine* engine);

typedef struct trts_tensor_desc
{
    const char* name;   /* owned by the engine, valid while it lives */
    int32_t io_mode;    /* trts_io_mode */
    int32_t data_type;  /* trts_data_type */
    int32_t is_linear;  /* 1 when the format is kLINEAR (the only one TrtMLNet feeds) */
    int32_t on_device;  /* 1 when the location is kDEVICE; shape tensors may live on the host */
    trts_dims shape;    /* -1 for dynamic dimensions */
} trts_tensor_desc;

/* trts_engine_io_count and trts_engine_profile_count answer -1 (with trts_last_error set) for a null engine. */
TRTS_API int32_t trts_engine_io_count(const trts_engine* engine);
TRTS_API trts_status trts_engine_io_tensor(const trts_engine* engine, int32_t index, trts_tensor_desc* out);
TRTS_API int32_t trts_engine_profile_count(const trts_engine* engine);
TRTS_API trts_status trts_engine_profile_shape(const trts_engine* engine, const char* tensor_name, int32_t profile,
                                               int32_t selector, trts_dims* out);
/* Scratch (activation) memory one profile needs: getDeviceMemorySizeForProfileV2. */
TRTS_API trts_status trts_engine_scratch_size(const trts_engine* engine, int32_t profile, int64_t* out);
/* Weights as TensorRT states them (getEngineStat, 10.14+), else -1; and as the runtime's allocator
 * measured them while the plan was deserialized. */
TRTS_API trts_status trts_engine_weights_size(const trts_engine* engine, int64_t* stated, int64_t* measured);

/* ---- execution context -------------------------------------------------------------------- */

/* A context created with ExecutionContextAllocationStrategy::kUSER_MANAGED, on the given optimization
 * profile (a new context starts on profile 0; any other is selected with setOptimizationProfileAsync on
 * stream, which is synchronized before return). persistent_bytes (may be null) receives what its
 * creation allocated through the runtime's allocator. */
TRTS_API trts_status trts_context_create(trts_engine* engine, int32_t profile, void* stream, trts_context** out,
                                         int64_t* persistent_bytes);
TRTS_API void trts_context_release(trts_context* context);
/* setDeviceMemoryV2: scratch for the next enqueue; it must stay untouched until that enqueue's work
 * on its stream has completed. */
TRTS_API trts_status trts_context_set_scratch(trts_context* context, void* memory, int64_t size);
TRTS_API trts_status trts_context_set_input_shape(trts_context* context, const char* tensor_name, const trts_dims* dims);
/* updateDeviceMemorySizeForShapes, after all input shapes are set. */
TRTS_API trts_status trts_context_scratch_size_for_shapes(trts_context* context, int64_t* out);
/* The context's view of a tensor's shape (outputs resolved from the input shapes set). */
TRTS_API trts_status trts_context_tensor_shape(const trts_context* context, const char* tensor_name, trts_dims* out);
TRTS_API trts_status trts_context_set_tensor_address(trts_context* context, const char* tensor_name, void* address);
/* enqueueV3 on stream; returns once the work is queued. */
TRTS_API trts_status trts_context_enqueue(trts_context* context, void* stream);

/* ---- builder ------------------------------------------------------------------------------ */

typedef struct trts_profile_shape
{
    const char* tensor_name;
    trts_dims min;
    trts_dims opt;
    trts_dims max;
} trts_profile_shape;

typedef struct trts_profile
{
    int32_t shape_count;
    const trts_profile_shape* shapes;
} trts_profile;

typedef struct trts_build_options
{
    int32_t struct_size;            /* sizeof(trts_build_options), checked */
    int32_t precision;              /* trts_precision */
    int32_t allow_tf32;             /* 1 = leave kTF32 on (TensorRT's default), 0 = clear it */
    int32_t optimization_level;     /* 0..5, or -1 for TensorRT's default (3) */
    int64_t workspace_bytes;        /* setMemoryPoolLimit(kWORKSPACE); 0 = TensorRT's default */
    uint32_t tactics_enable;        /* trts_tactic_source bits to turn on */
    uint32_t tactics_disable;       /* trts_tactic_source bits to turn off */
    int32_t max_aux_streams;        /* -1 = TensorRT's heuristic */
    int32_t profile_count;
    const trts_profile* profiles;   /* none: TensorRT requires one for dynamic inputs, so pass one */
    const void* timing_cache;       /* serialized timing cache to start from, or null */
    size_t timing_cache_size;
} trts_build_options;

/* Parses ONNX bytes (model_path, if not null, lets the parser find external weights) and builds a
 * serialized plan. timing_cache_out (optional) receives the timing cache after the build. */
TRTS_API trts_status trts_build_engine(const void* onnx, size_t onnx_size, const char* model_path,
                                       const trts_build_options* options, trts_host_memory** plan_out,
                                       trts_host_memory** timing_cache_out);
TRTS_API const void* trts_host_memory_data(const trts_host_memory* memory);
TRTS_API size_t trts_host_memory_size(const trts_host_memory* memory);
TRTS_API void trts_host_memory_release(trts_host_memory* memory);

#ifdef __cplusplus
}
#endif

#endif /* TRTMLNET_SHIM_H */
