/*
 * The thread-local last error and the per-call capture of what TensorRT logged.
 *
 * TensorRT reports most failures as a null or false return plus an ERROR log message; the message is
 * the useful part. The logger appends every error logged on the calling thread to a buffer that each
 * exported call clears first, and a failing call appends that buffer to its own message.
 */
#include "shim_common.h"

#include <algorithm>
#include <cstring>

namespace trts
{
namespace
{

/* Enough for every parser error of a large model, small enough that a runaway log cannot exhaust memory. */
constexpr std::size_t kMaxLoggedErrorBytes = 64 * 1024;

thread_local std::string tLastError;
thread_local std::string tLoggedErrors;
thread_local std::size_t tLoggedErrorCount = 0;
thread_local bool tAllocationFailed = false;

} // namespace

void fail(trts_status status, std::string message)
{
    throw Failure(status, std::move(message));
}

void beginCall() noexcept
{
    tLastError.clear();
    tLoggedErrors.clear();
    tLoggedErrorCount = 0;
    tAllocationFailed = false;
}

trts_status recordFailure(trts_status status, char const* message) noexcept
{
    try
    {
        tLastError.assign(message != nullptr ? message : "");
        if (!tLoggedErrors.empty() && tLastError.find(tLoggedErrors) == std::string::npos)
        {
            tLastError.append("\nTensorRT: ").append(tLoggedErrors);
        }
    }
    catch (...)
    {
        /* Out of memory while describing a failure: keep the status, lose the words. */
        tLastError.clear();
    }
    return status;
}

std::size_t loggedErrorCount() noexcept
{
    return tLoggedErrorCount;
}

void noteLoggedError(char const* message) noexcept
{
    ++tLoggedErrorCount;
    if (message == nullptr || tLoggedErrors.size() >= kMaxLoggedErrorBytes)
    {
        return;
    }
    try
    {
        if (!tLoggedErrors.empty())
        {
            tLoggedErrors.append("\nTensorRT: ");
        }
        tLoggedErrors.append(message, std::min(std::strlen(message), kMaxLoggedErrorBytes - tLoggedErrors.size()));
    }
    catch (...)
    {
    }
}

void noteAllocationFailure() noexcept
{
    tAllocationFailed = true;
}

bool allocationFailedDuringCall() noexcept
{
    return tAllocationFailed;
}

void failTensorRt(std::string message)
{
    fail(tAllocationFailed ? TRTS_ERR_OUT_OF_MEMORY : TRTS_ERR_TENSORRT, std::move(message));
}

void failIfErrorLogged(std::size_t before, char const* what)
{
    if (tLoggedErrorCount > before)
    {
        failTensorRt(std::string(what) + " was refused");
    }
}

} // namespace trts

extern "C" TRTS_API const char* trts_last_error(void)
{
    return trts::tLastError.c_str();
}
