/*
 * TensorRT's ILogger, forwarding to the one process-wide callback .NET registers.
 *
 * TensorRT logs from whatever thread does the work (builder worker threads included) and requires the
 * logger to be thread-safe. A shared lock is held while the callback runs, so trts_set_log_callback
 * returns only once no thread is still inside the callback it replaced: the caller may then free
 * user_data or unload what the old callback lives in.
 */
#include "shim_common.h"

#include <atomic>
#include <mutex>
#include <shared_mutex>

namespace trts
{
namespace
{

struct LogSink
{
    trts_log_callback callback = nullptr;
    void* userData = nullptr;
};

std::shared_mutex gSinkMutex;
LogSink gSink;
/* Read without the lock so that filtered messages (most VERBOSE ones during a build) cost one load;
 * -1 while no callback is set drops everything. */
std::atomic<int32_t> gMinSeverity{-1};

class ShimLogger final : public nvinfer1::ILogger
{
public:
    /* ILogger derives from IVersionedInterface since TensorRT 11, which already implements
     * getInterfaceInfo; log() is the only member both majors need from us. */
    void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override
    {
        logMessage(static_cast<trts_log_severity>(static_cast<int32_t>(severity)), msg);
    }
};

/* TensorRT's Severity values are the shim's, checked here so that the cast above stays honest. */
static_assert(static_cast<int32_t>(nvinfer1::ILogger::Severity::kINTERNAL_ERROR) == TRTS_LOG_INTERNAL_ERROR, "");
static_assert(static_cast<int32_t>(nvinfer1::ILogger::Severity::kERROR) == TRTS_LOG_ERROR, "");
static_assert(static_cast<int32_t>(nvinfer1::ILogger::Severity::kWARNING) == TRTS_LOG_WARNING, "");
static_assert(static_cast<int32_t>(nvinfer1::ILogger::Severity::kINFO) == TRTS_LOG_INFO, "");
static_assert(static_cast<int32_t>(nvinfer1::ILogger::Severity::kVERBOSE) == TRTS_LOG_VERBOSE, "");

} // namespace

nvinfer1::ILogger& logger() noexcept
{
    /* Never destroyed: TensorRT objects released during static destruction may still log. */
    static ShimLogger* const instance = new ShimLogger();
    return *instance;
}

void logMessage(trts_log_severity severity, char const* message) noexcept
{
    if (severity <= TRTS_LOG_ERROR)
    {
        noteLoggedError(message);
    }
    if (severity > gMinSeverity.load(std::memory_order_relaxed))
    {
        return;
    }
    try
    {
        std::shared_lock<std::shared_mutex> lock(gSinkMutex);
        if (gSink.callback != nullptr && severity <= gMinSeverity.load(std::memory_order_relaxed))
        {
            gSink.callback(static_cast<int32_t>(severity), message != nullptr ? message : "", gSink.userData);
        }
    }
    catch (...)
    {
        /* Locking failed (system error): a lost log line is better than an exception into TensorRT. */
    }
}

} // namespace trts

extern "C" TRTS_API void trts_set_log_callback(trts_log_callback callback, void* user_data, int32_t min_severity)
{
    try
    {
        std::unique_lock<std::shared_mutex> lock(trts::gSinkMutex);
        trts::gSink.callback = callback;
        trts::gSink.userData = user_data;
        trts::gMinSeverity.store(callback != nullptr ? min_severity : -1, std::memory_order_relaxed);
    }
    catch (...)
    {
    }
}
