/*
 * Private to the shim: TensorRT version gates, the error and call machinery every exported function
 * goes through, and small conversions shared by the areas.
 */
#ifndef TRTMLNET_SHIM_COMMON_H
#define TRTMLNET_SHIM_COMMON_H

#include "trtmlnet_shim.h"

#include <NvInferVersion.h>

#include <NvInfer.h>
#include <NvInferRuntime.h>
#include <NvOnnxParser.h>
#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <utility>

#if !defined(NV_TENSORRT_MAJOR) || !defined(NV_TENSORRT_MINOR) || !defined(NV_TENSORRT_PATCH)
#error "NvInferVersion.h did not define NV_TENSORRT_MAJOR/MINOR/PATCH: point the build at TensorRT's include folder"
#endif

/* 10.1 brought getDeviceMemorySizeForProfileV2 and setDeviceMemoryV2, which the user-managed scratch
 * design rests on; there is no honest way to emulate them on 10.0. */
#if NV_TENSORRT_MAJOR < 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR < 1)
#error "trtmlnet_shim needs TensorRT 10.1 or later"
#endif

/* TensorRT 11 removed the weak-typing precision flags and the cuBLAS/cuDNN tactic sources. */
#define TRTS_HAS_WEAK_TYPING (NV_TENSORRT_MAJOR == 10)
/* ICudaEngine::getEngineStat arrived in 10.14 (absent from the v10.13.3 headers, present in v10.14). */
#define TRTS_HAS_ENGINE_STAT (NV_TENSORRT_MAJOR > 10 || NV_TENSORRT_MINOR >= 14)
/* DataType::kFP4 arrived in 10.8. */
#define TRTS_HAS_FP4 (NV_TENSORRT_MAJOR > 10 || NV_TENSORRT_MINOR >= 8)

/* TensorRT 10 marks kFP16, kBF16 and the cuBLAS/cuDNN tactic sources deprecated, yet they are the only
 * way to ask for those features on 10.x; these brackets keep -Werror from rejecting the deliberate use. */
#if defined(_MSC_VER)
#define TRTS_ALLOW_DEPRECATED_BEGIN __pragma(warning(push)) __pragma(warning(disable : 4996))
#define TRTS_ALLOW_DEPRECATED_END __pragma(warning(pop))
#else
#define TRTS_ALLOW_DEPRECATED_BEGIN \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define TRTS_ALLOW_DEPRECATED_END _Pragma("GCC diagnostic pop")
#endif

namespace trts
{

/* Thrown inside the shim only; guarded() turns it into a status and the thread's last error. */
class Failure : public std::exception
{
public:
    Failure(trts_status status, std::string message) : mStatus(status), mMessage(std::move(message)) {}
    trts_status status() const noexcept { return mStatus; }
    char const* what() const noexcept override { return mMessage.c_str(); }

private:
    trts_status mStatus;
    std::string mMessage;
};

[[noreturn]] void fail(trts_status status, std::string message);

/* ---- per-call state (errors.cpp) ---------------------------------------------------------- */

/* Starts an exported call on this thread: clears the last error and the errors TensorRT logged. */
void beginCall() noexcept;
/* Records a failure as the thread's last error, with every ERROR TensorRT logged on this thread
 * during the call appended, so the .NET exception carries TensorRT's own words. */
trts_status recordFailure(trts_status status, char const* message) noexcept;
/* How many errors TensorRT logged on this thread since the call began. Calls that return void in
 * TensorRT (setDeviceMemoryV2, setMemoryPoolLimit, ...) only report failure through the log. */
std::size_t loggedErrorCount() noexcept;
/* Called by the logger for kERROR and kINTERNAL_ERROR messages. */
void noteLoggedError(char const* message) noexcept;
/* Set by the GPU allocator when a CUDA allocation made on this thread fails, so a TensorRT failure
 * that follows is reported as out of memory rather than a generic refusal. */
void noteAllocationFailure() noexcept;
bool allocationFailedDuringCall() noexcept;

/* Throws TRTS_ERR_TENSORRT (or TRTS_ERR_OUT_OF_MEMORY when an allocation failed during the call). */
[[noreturn]] void failTensorRt(std::string message);
/* For TensorRT setters returning void: fails if TensorRT logged an error since `before`. */
void failIfErrorLogged(std::size_t before, char const* what);

template <typename Body>
trts_status guarded(Body&& body) noexcept
{
    beginCall();
    try
    {
        body();
        return TRTS_OK;
    }
    catch (Failure const& e)
    {
        return recordFailure(e.status(), e.what());
    }
    catch (std::bad_alloc const&)
    {
        return recordFailure(TRTS_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    catch (std::exception const& e)
    {
        return recordFailure(TRTS_ERR_INTERNAL, e.what());
    }
    catch (...)
    {
        return recordFailure(TRTS_ERR_INTERNAL, "unknown exception inside the shim");
    }
}

/* For exported functions that return a value instead of a status: onError is returned after the
 * failure has been recorded as the thread's last error. */
template <typename T, typename Body>
T guardedValue(T onError, Body&& body) noexcept
{
    T result = onError;
    trts_status const status = guarded([&] { result = body(); });
    return status == TRTS_OK ? result : onError;
}

/* ---- logger (logger.cpp) ------------------------------------------------------------------ */

/* The one logger every runtime, builder and parser is created with; it lives for the process. */
nvinfer1::ILogger& logger() noexcept;
/* Sends a message through the process-wide callback (and the per-call error capture). */
void logMessage(trts_log_severity severity, char const* message) noexcept;

/* ---- CUDA (runtime.cpp) ------------------------------------------------------------------- */

std::string cudaErrorText(CUresult result);
void checkCuda(CUresult result, char const* what);

/* Makes a CUDA context current for the scope when the thread has another one or none: releases run
 * on .NET's finalizer thread and calls may come from any thread-pool thread. */
class ScopedCudaContext
{
public:
    explicit ScopedCudaContext(CUcontext context) noexcept;
    ~ScopedCudaContext();
    ScopedCudaContext(ScopedCudaContext const&) = delete;
    ScopedCudaContext& operator=(ScopedCudaContext const&) = delete;

private:
    bool mPushed = false;
};

/* ---- conversions -------------------------------------------------------------------------- */

nvinfer1::Dims toTensorRt(trts_dims const& dims, char const* what);
trts_dims fromTensorRt(nvinfer1::Dims const& dims);
std::string formatDims(trts_dims const& dims);
std::string formatDims(nvinfer1::Dims const& dims);
trts_data_type fromTensorRt(nvinfer1::DataType type) noexcept;
trts_io_mode fromTensorRt(nvinfer1::TensorIOMode mode) noexcept;

template <typename T>
T& require(T* pointer, char const* what)
{
    if (pointer == nullptr)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, std::string(what) + " is null");
    }
    return *pointer;
}

} // namespace trts

#endif
