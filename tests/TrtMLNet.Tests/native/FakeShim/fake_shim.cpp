/*
 * trtmlnet_shim_fake: every function of trtmlnet_shim.h, with no TensorRT and no CUDA, for .NET tests.
 *
 * It answers from a text "plan", records each call, and can be told to fail; tests steer it through the
 * trts_fake_* exports at the bottom. Like the real shim it keeps a thread-local last error that every
 * call clears first, and it never lets a C++ exception out.
 *
 * Plan ("FAKEPLAN\n", then one item per line; '#' starts a comment; dims are "[d0,d1,...]", "[]" for a
 * scalar, -1 for a dynamic dimension; data types are trts_data_type numbers):
 *     input <name> <type> <dims> [host] [nonlinear]    an input tensor (host: on_device = 0)
 *     output <name> <type> <dims> [host] [nonlinear]
 *     profile <index> <input> <min dims> <opt dims> <max dims>
 *     scratch <profile> <bytes>                        getDeviceMemorySizeForProfileV2 (default 0)
 *     weights <stated> <measured>                      stated -1 = TensorRT before 10.14 (default -1 0)
 *     persistent <bytes>                               per context, counted by the runtime (default 0)
 * An engine always has at least one profile, as TensorRT's do. Anything else fails the way TensorRT
 * fails on a foreign plan: TRTS_ERR_TENSORRT, and the same words sent to the log callback as an ERROR.
 *
 * Model ("FAKEONNX\n" with input/output lines as above) is what trts_build_engine "parses"; anything
 * else is TRTS_ERR_PARSER. The plan it builds holds the model's tensors, the profiles from the options,
 * scratch = 256 bytes x the sum over each profile's inputs of their max volume, and weights equal to
 * the model's size; the timing cache handed back is "FAKECACHE\n" plus one line per build.
 *
 * Shapes a context reports (trts_context_tensor_shape): an input has the shape set for it, else the
 * engine's. An output has the engine's shape with each -1 at index i replaced by dimension i of the
 * first input's set shape (so a dynamic batch follows the first input). scratch_size_for_shapes
 * scales the profile's scratch by volume(first input's shape) / volume(its profile max), rounded up.
 *
 * Recorded calls (trts_fake_calls, one per line, pointers as 0x hex):
 *     runtime_create | runtime_release | engine_deserialize <size> | engine_release | engine_destroyed
 *     context_create <profile> <stream> | context_release | context_destroyed
 *     context_set_scratch <memory> <size> | context_set_input_shape <name> <dims>
 *     context_scratch_size_for_shapes | context_tensor_shape <name>
 *     context_set_tensor_address <name> <address> | context_enqueue <stream>
 *     build_engine <onnx size> model_path=<path|null> precision=<n> allow_tf32=<n> optimization_level=<n>
 *         workspace=<n> tactics_enable=0x<bits> tactics_disable=0x<bits> max_aux_streams=<n> profiles=<n>
 *         timing_cache=<size|null> timing_cache_out=<0|1>
 *     build_profile <profile> <input> <min> <opt> <max> (one per shape, after build_engine)
 *     host_memory_release
 * Queries that cannot change state (versions, counts, engine descriptions) are not recorded.
 *
 * Enqueued on a stream of the fake device (fake_device.h), an execution runs later, on that stream's
 * worker, as on a GPU: it writes a token over its scratch, works a while (trts_fake_set_work_micros),
 * checks the token is intact (else counts a violation: another execution shared the memory), and writes
 * its outputs: every value of row r of output k is the first value of row r of the first input, plus k.
 * It also keeps TensorRT's rule that contexts in concurrent use must each use a separate optimization
 * profile (NvInferRuntime.h, IExecutionContext): a second execution on a profile whose previous one has
 * not completed fails. On any other stream handle an execution does nothing, as before.
 */
#include "trtmlnet_shim.h"
#include "fake_device.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(_WIN32)
#define FAKE_API extern "C" __declspec(dllexport)
#else
#define FAKE_API extern "C" __attribute__((visibility("default")))
#endif

namespace
{

/* ---- global state ---------------------------------------------------------------------------- */

struct Versions
{
    int32_t abi = TRTS_ABI_VERSION;
    int32_t compiled[3] = {10, 16, 0};
    int32_t loaded[4] = {10, 16, 0, 72};
};

struct Failure
{
    trts_status status;
    std::string message;
};

std::mutex gMutex; /* guards everything below */
Versions gVersions;
std::vector<std::string> gCalls;
std::map<std::string, Failure> gFailures;
trts_log_callback gLogCallback = nullptr;
void* gLogUserData = nullptr;
int32_t gLogMinSeverity = -1;

std::atomic<int64_t> gScratchViolations{0};
std::atomic<int64_t> gWorkMicros{200};
std::atomic<uint64_t> gTokens{0};

thread_local std::string tLastError;
thread_local std::string tCallsText;

/* Thrown inside the fake only; guarded() turns it into a status and the last error. */
struct Error
{
    trts_status status;
    std::string message;
};

[[noreturn]] void fail(trts_status status, std::string message)
{
    throw Error{status, std::move(message)};
}

void record(std::string call)
{
    std::lock_guard<std::mutex> lock(gMutex);
    gCalls.push_back(std::move(call));
}

void log(int32_t severity, std::string const& message)
{
    trts_log_callback callback = nullptr;
    void* userData = nullptr;
    {
        std::lock_guard<std::mutex> lock(gMutex);
        if (severity > gLogMinSeverity)
        {
            return;
        }
        callback = gLogCallback;
        userData = gLogUserData;
    }
    /* Called without the lock, so a callback may call back into the fake. */
    if (callback != nullptr)
    {
        callback(severity, message.c_str(), userData);
    }
}

/* Fails with what trts_fake_fail_next armed for this function, once. */
void injectedFailure(char const* function)
{
    std::unique_lock<std::mutex> lock(gMutex);
    auto const found = gFailures.find(function);
    if (found != gFailures.end())
    {
        Failure failure = found->second;
        gFailures.erase(found);
        lock.unlock();
        fail(failure.status, failure.message);
    }
}

template <typename Body>
trts_status guarded(char const* function, Body&& body) noexcept
{
    tLastError.clear();
    try
    {
        injectedFailure(function);
        body();
        return TRTS_OK;
    }
    catch (Error const& e)
    {
        tLastError = e.message;
        return e.status;
    }
    catch (std::exception const& e)
    {
        tLastError = std::string("fake shim: ") + e.what();
        return TRTS_ERR_INTERNAL;
    }
    catch (...)
    {
        tLastError = "fake shim: unknown exception";
        return TRTS_ERR_INTERNAL;
    }
}

template <typename T, typename Body>
T guardedValue(char const* function, T onError, Body&& body) noexcept
{
    T result = onError;
    return guarded(function, [&] { result = body(); }) == TRTS_OK ? result : onError;
}

template <typename T>
T& require(T* pointer, char const* what)
{
    if (pointer == nullptr)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, std::string(what) + " is null");
    }
    return *pointer;
}

/* ---- text helpers ---------------------------------------------------------------------------- */

std::string hex(void const* pointer)
{
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(pointer)));
    return text;
}

std::string hexBits(uint32_t bits)
{
    char text[16];
    std::snprintf(text, sizeof text, "0x%x", bits);
    return text;
}

std::string format(trts_dims const& dims)
{
    std::string text = "[";
    for (int32_t i = 0; i < dims.nb_dims && i < TRTS_MAX_DIMS; ++i)
    {
        text += (i > 0 ? "," : "") + std::to_string(dims.d[i]);
    }
    return text + "]";
}

trts_dims parseDims(std::string const& text)
{
    if (text.size() < 2 || text.front() != '[' || text.back() != ']')
    {
        throw std::invalid_argument("dims must look like [d0,d1,...], got '" + text + "'");
    }
    trts_dims dims{};
    std::string body = text.substr(1, text.size() - 2);
    if (body.empty())
    {
        return dims;
    }
    std::stringstream stream(body);
    std::string item;
    while (std::getline(stream, item, ','))
    {
        if (dims.nb_dims == TRTS_MAX_DIMS)
        {
            throw std::invalid_argument("more than 8 dimensions in '" + text + "'");
        }
        dims.d[dims.nb_dims++] = std::stoll(item);
    }
    return dims;
}

int64_t volume(trts_dims const& dims)
{
    int64_t product = 1;
    for (int32_t i = 0; i < dims.nb_dims; ++i)
    {
        product *= dims.d[i];
    }
    return product;
}

void checkDims(trts_dims const& dims, std::string const& what)
{
    if (dims.nb_dims < 0 || dims.nb_dims > TRTS_MAX_DIMS)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT,
            what + ": nb_dims is " + std::to_string(dims.nb_dims) + ", expected 0.." + std::to_string(TRTS_MAX_DIMS));
    }
}

/* ---- plans ----------------------------------------------------------------------------------- */

struct Tensor
{
    std::string name;
    int32_t ioMode = TRTS_IO_NONE;
    int32_t dataType = TRTS_TYPE_UNKNOWN;
    bool linear = true;
    bool onDevice = true;
    trts_dims shape{};
};

struct ProfileShape
{
    std::string tensor;
    trts_dims min{}, opt{}, max{};
};

struct Profile
{
    std::vector<ProfileShape> shapes;
    int64_t scratch = 0;

    ProfileShape const* find(std::string const& tensor) const
    {
        for (ProfileShape const& shape : shapes)
        {
            if (shape.tensor == tensor)
            {
                return &shape;
            }
        }
        return nullptr;
    }
};

struct Plan
{
    std::vector<Tensor> tensors;
    std::vector<Profile> profiles;
    int64_t statedWeights = -1;
    int64_t measuredWeights = 0;
    int64_t persistent = 0;

    Tensor const* find(std::string const& name) const
    {
        for (Tensor const& tensor : tensors)
        {
            if (tensor.name == name)
            {
                return &tensor;
            }
        }
        return nullptr;
    }

    Tensor const* firstInput() const
    {
        for (Tensor const& tensor : tensors)
        {
            if (tensor.ioMode == TRTS_IO_INPUT)
            {
                return &tensor;
            }
        }
        return nullptr;
    }

    Profile& profile(std::size_t index)
    {
        if (index >= 64)
        {
            throw std::invalid_argument("profile index " + std::to_string(index) + " is too large");
        }
        if (profiles.size() <= index)
        {
            profiles.resize(index + 1);
        }
        return profiles[index];
    }
};

constexpr char kPlanMagic[] = "FAKEPLAN\n";
constexpr char kModelMagic[] = "FAKEONNX\n";
constexpr char kCacheMagic[] = "FAKECACHE\n";

bool startsWith(std::string const& text, char const* prefix)
{
    return text.compare(0, std::strlen(prefix), prefix) == 0;
}

/* Reads the lines after the magic; throws std::invalid_argument naming the line at fault. */
Plan parsePlan(std::string const& text, std::size_t magicLength, bool allowEngineLines)
{
    Plan plan;
    std::stringstream lines(text.substr(magicLength));
    std::string line;
    int lineNumber = 1;
    while (std::getline(lines, line))
    {
        ++lineNumber;
        line = line.substr(0, line.find('#'));
        std::stringstream words(line);
        std::string kind;
        if (!(words >> kind))
        {
            continue;
        }
        try
        {
            if (kind == "input" || kind == "output")
            {
                Tensor tensor;
                std::string dims;
                if (!(words >> tensor.name >> tensor.dataType >> dims))
                {
                    throw std::invalid_argument("expected: " + kind + " <name> <type> <dims>");
                }
                tensor.ioMode = kind == "input" ? TRTS_IO_INPUT : TRTS_IO_OUTPUT;
                tensor.shape = parseDims(dims);
                std::string flag;
                while (words >> flag)
                {
                    if (flag == "host")
                    {
                        tensor.onDevice = false;
                    }
                    else if (flag == "nonlinear")
                    {
                        tensor.linear = false;
                    }
                    else
                    {
                        throw std::invalid_argument("unknown tensor flag '" + flag + "'");
                    }
                }
                plan.tensors.push_back(tensor);
            }
            else if (kind == "profile" && allowEngineLines)
            {
                std::size_t index = 0;
                ProfileShape shape;
                std::string min, opt, max;
                if (!(words >> index >> shape.tensor >> min >> opt >> max))
                {
                    throw std::invalid_argument("expected: profile <index> <input> <min> <opt> <max>");
                }
                shape.min = parseDims(min);
                shape.opt = parseDims(opt);
                shape.max = parseDims(max);
                plan.profile(index).shapes.push_back(shape);
            }
            else if (kind == "scratch" && allowEngineLines)
            {
                std::size_t index = 0;
                int64_t bytes = 0;
                if (!(words >> index >> bytes))
                {
                    throw std::invalid_argument("expected: scratch <profile> <bytes>");
                }
                plan.profile(index).scratch = bytes;
            }
            else if (kind == "weights" && allowEngineLines)
            {
                if (!(words >> plan.statedWeights >> plan.measuredWeights))
                {
                    throw std::invalid_argument("expected: weights <stated> <measured>");
                }
            }
            else if (kind == "persistent" && allowEngineLines)
            {
                if (!(words >> plan.persistent))
                {
                    throw std::invalid_argument("expected: persistent <bytes>");
                }
            }
            else
            {
                throw std::invalid_argument("unknown item '" + kind + "'");
            }
        }
        catch (std::exception const& e)
        {
            throw std::invalid_argument("line " + std::to_string(lineNumber) + ": " + e.what());
        }
    }
    if (plan.profiles.empty())
    {
        plan.profiles.resize(1);
    }
    return plan;
}

std::string serialize(Plan const& plan)
{
    std::string text = kPlanMagic;
    for (Tensor const& tensor : plan.tensors)
    {
        text += (tensor.ioMode == TRTS_IO_INPUT ? "input " : "output ") + tensor.name + " "
            + std::to_string(tensor.dataType) + " " + format(tensor.shape) + (tensor.onDevice ? "" : " host")
            + (tensor.linear ? "" : " nonlinear") + "\n";
    }
    for (std::size_t p = 0; p < plan.profiles.size(); ++p)
    {
        for (ProfileShape const& shape : plan.profiles[p].shapes)
        {
            text += "profile " + std::to_string(p) + " " + shape.tensor + " " + format(shape.min) + " "
                + format(shape.opt) + " " + format(shape.max) + "\n";
        }
        text += "scratch " + std::to_string(p) + " " + std::to_string(plan.profiles[p].scratch) + "\n";
    }
    text += "weights " + std::to_string(plan.statedWeights) + " " + std::to_string(plan.measuredWeights) + "\n";
    text += "persistent " + std::to_string(plan.persistent) + "\n";
    return text;
}

/* ---- object state ---------------------------------------------------------------------------- */

struct RuntimeState
{
    std::mutex mutex;
    int64_t allocated = 0;

    void add(int64_t bytes)
    {
        std::lock_guard<std::mutex> lock(mutex);
        allocated += bytes;
    }
};

struct EngineState
{
    std::shared_ptr<RuntimeState> runtime;
    Plan plan;
    std::mutex inFlightMutex;
    std::map<int32_t, int32_t> inFlight; /* executions queued and not completed, per profile */

    ~EngineState()
    {
        runtime->add(-plan.measuredWeights);
        record("engine_destroyed");
    }

    Tensor const& tensor(char const* name) const
    {
        if (name == nullptr)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT, "tensor name is null");
        }
        Tensor const* found = plan.find(name);
        if (found == nullptr)
        {
            std::string message = "the engine has no IO tensor named '" + std::string(name) + "'; it has:";
            for (Tensor const& tensor : plan.tensors)
            {
                message += " '" + tensor.name + "'";
            }
            fail(TRTS_ERR_INVALID_ARGUMENT, message);
        }
        return *found;
    }

    void checkProfile(int32_t profile) const
    {
        if (profile < 0 || static_cast<std::size_t>(profile) >= plan.profiles.size())
        {
            fail(TRTS_ERR_INVALID_ARGUMENT,
                "optimization profile " + std::to_string(profile) + " does not exist: the engine has "
                    + std::to_string(plan.profiles.size()));
        }
    }
};

struct ContextState
{
    std::shared_ptr<EngineState> engine;
    int32_t profile = 0;
    std::map<std::string, trts_dims> inputShapes;
    std::map<std::string, void*> addresses;
    int64_t scratchSize = -1; /* -1: never set */
    void* scratchMemory = nullptr;

    ~ContextState()
    {
        engine->runtime->add(-engine->plan.persistent);
        record("context_destroyed");
    }

    Profile const& currentProfile() const
    {
        return engine->plan.profiles[static_cast<std::size_t>(profile)];
    }

    trts_dims shapeOf(Tensor const& tensor) const
    {
        auto const set = inputShapes.find(tensor.name);
        if (set != inputShapes.end())
        {
            return set->second;
        }
        trts_dims shape = tensor.shape;
        Tensor const* first = engine->plan.firstInput();
        if (tensor.ioMode == TRTS_IO_OUTPUT && first != nullptr)
        {
            auto const firstShape = inputShapes.find(first->name);
            for (int32_t i = 0; firstShape != inputShapes.end() && i < shape.nb_dims; ++i)
            {
                if (shape.d[i] == -1 && i < firstShape->second.nb_dims)
                {
                    shape.d[i] = firstShape->second.d[i];
                }
            }
        }
        return shape;
    }

    void requireInputShapes(char const* caller) const
    {
        for (Tensor const& tensor : engine->plan.tensors)
        {
            bool const dynamic = std::find(tensor.shape.d, tensor.shape.d + tensor.shape.nb_dims, -1)
                != tensor.shape.d + tensor.shape.nb_dims;
            if (tensor.ioMode == TRTS_IO_INPUT && dynamic && inputShapes.count(tensor.name) == 0)
            {
                std::string const message = std::string(caller) + ": Error Code 3: API Usage Error (Parameter "
                                            "check failed, condition: inputShapesSpecified. The shape of input '"
                    + tensor.name + "' has not been set.)";
                log(TRTS_LOG_ERROR, message);
                fail(TRTS_ERR_TENSORRT, message);
            }
        }
    }

    int64_t scratchForShapes() const
    {
        Profile const& current = currentProfile();
        Tensor const* first = engine->plan.firstInput();
        ProfileShape const* bounds = first != nullptr ? current.find(first->name) : nullptr;
        if (bounds == nullptr || volume(bounds->max) <= 0)
        {
            return current.scratch;
        }
        int64_t const used = volume(shapeOf(*first));
        int64_t const max = volume(bounds->max);
        return (current.scratch * used + max - 1) / max;
    }
};

} // namespace

struct trts_runtime
{
    std::shared_ptr<RuntimeState> state;
};

struct trts_engine
{
    std::shared_ptr<EngineState> state;
};

struct trts_context
{
    std::shared_ptr<ContextState> state;
};

struct trts_host_memory
{
    std::string bytes;
};

namespace
{

EngineState const& engineOf(trts_engine const* engine)
{
    return *require(engine, "engine").state;
}

ContextState& contextOf(trts_context const* context)
{
    return *require(context, "context").state;
}

} // namespace

/* ---- library --------------------------------------------------------------------------------- */

extern "C" TRTS_API int32_t trts_abi_version(void)
{
    std::lock_guard<std::mutex> lock(gMutex);
    return gVersions.abi;
}

extern "C" TRTS_API void trts_compiled_version(int32_t* major, int32_t* minor, int32_t* patch)
{
    std::lock_guard<std::mutex> lock(gMutex);
    int32_t* out[] = {major, minor, patch};
    for (int i = 0; i < 3; ++i)
    {
        if (out[i] != nullptr)
        {
            *out[i] = gVersions.compiled[i];
        }
    }
}

extern "C" TRTS_API void trts_loaded_version(int32_t* major, int32_t* minor, int32_t* patch, int32_t* build)
{
    std::lock_guard<std::mutex> lock(gMutex);
    int32_t* out[] = {major, minor, patch, build};
    for (int i = 0; i < 4; ++i)
    {
        if (out[i] != nullptr)
        {
            *out[i] = gVersions.loaded[i];
        }
    }
}

extern "C" TRTS_API uint32_t trts_capabilities(void)
{
    std::lock_guard<std::mutex> lock(gMutex);
    int32_t const major = gVersions.compiled[0];
    int32_t const minor = gVersions.compiled[1];
    uint32_t capabilities = 0;
    if (major == 10)
    {
        capabilities |= TRTS_CAP_WEAK_TYPING;
    }
    if (major > 10 || (major == 10 && minor >= 14))
    {
        capabilities |= TRTS_CAP_ENGINE_WEIGHTS_STAT;
    }
    return capabilities;
}

extern "C" TRTS_API const char* trts_last_error(void)
{
    return tLastError.c_str();
}

extern "C" TRTS_API void trts_set_log_callback(trts_log_callback callback, void* user_data, int32_t min_severity)
{
    std::lock_guard<std::mutex> lock(gMutex);
    gLogCallback = callback;
    gLogUserData = user_data;
    gLogMinSeverity = callback != nullptr ? min_severity : -1;
}

/* ---- runtime --------------------------------------------------------------------------------- */

extern "C" TRTS_API trts_status trts_runtime_create(trts_runtime** out)
{
    return guarded("runtime_create", [&] {
        require(out, "out") = nullptr;
        record("runtime_create");
        *out = new trts_runtime{std::make_shared<RuntimeState>()};
    });
}

extern "C" TRTS_API void trts_runtime_release(trts_runtime* runtime)
{
    if (runtime != nullptr)
    {
        record("runtime_release");
    }
    delete runtime;
}

extern "C" TRTS_API int64_t trts_runtime_allocated_bytes(const trts_runtime* runtime)
{
    return guardedValue<int64_t>("runtime_allocated_bytes", -1, [&] {
        RuntimeState& state = *require(runtime, "runtime").state;
        std::lock_guard<std::mutex> lock(state.mutex);
        return state.allocated;
    });
}

/* ---- engine ---------------------------------------------------------------------------------- */

extern "C" TRTS_API trts_status trts_engine_deserialize(trts_runtime* runtime, const void* plan, size_t size, trts_engine** out)
{
    return guarded("engine_deserialize", [&] {
        require(out, "out") = nullptr;
        std::shared_ptr<RuntimeState> const& runtimeState = require(runtime, "runtime").state;
        record("engine_deserialize " + std::to_string(size));
        if (plan == nullptr || size == 0)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT, "the plan is empty");
        }
        std::string const text(static_cast<char const*>(plan), size);
        std::string const prefix = "deserializeCudaEngine failed for a plan of " + std::to_string(size) + " bytes";
        if (!startsWith(text, kPlanMagic))
        {
            /* The words TensorRT 10 logs for a plan that is not one of its own. */
            std::string const logged = "IRuntime::deserializeCudaEngine: Error Code 1: Serialization (Serialization "
                                       "assertion magicTagRead == kMAGIC_TAG failed.Magic tag does not match)";
            log(TRTS_LOG_ERROR, logged);
            fail(TRTS_ERR_TENSORRT, prefix + "\nTensorRT: " + logged);
        }
        Plan parsed;
        try
        {
            parsed = parsePlan(text, std::strlen(kPlanMagic), true);
        }
        catch (std::invalid_argument const& e)
        {
            fail(TRTS_ERR_TENSORRT, prefix + "\nTensorRT: fake plan " + e.what());
        }
        auto state = std::make_shared<EngineState>();
        state->plan = std::move(parsed);
        state->runtime = runtimeState;
        runtimeState->add(state->plan.measuredWeights);
        *out = new trts_engine{std::move(state)};
    });
}

extern "C" TRTS_API void trts_engine_release(trts_engine* engine)
{
    if (engine != nullptr)
    {
        record("engine_release");
    }
    delete engine;
}

extern "C" TRTS_API int32_t trts_engine_io_count(const trts_engine* engine)
{
    return guardedValue<int32_t>(
        "engine_io_count", -1, [&] { return static_cast<int32_t>(engineOf(engine).plan.tensors.size()); });
}

extern "C" TRTS_API trts_status trts_engine_io_tensor(const trts_engine* engine, int32_t index, trts_tensor_desc* out)
{
    return guarded("engine_io_tensor", [&] {
        EngineState const& state = engineOf(engine);
        trts_tensor_desc& desc = require(out, "out");
        if (index < 0 || static_cast<std::size_t>(index) >= state.plan.tensors.size())
        {
            fail(TRTS_ERR_INVALID_ARGUMENT,
                "IO tensor index " + std::to_string(index) + " is out of range: the engine has "
                    + std::to_string(state.plan.tensors.size()));
        }
        Tensor const& tensor = state.plan.tensors[static_cast<std::size_t>(index)];
        desc = trts_tensor_desc{};
        desc.name = tensor.name.c_str();
        desc.io_mode = tensor.ioMode;
        desc.data_type = tensor.dataType;
        desc.is_linear = tensor.linear ? 1 : 0;
        desc.on_device = tensor.onDevice ? 1 : 0;
        desc.shape = tensor.shape;
    });
}

extern "C" TRTS_API int32_t trts_engine_profile_count(const trts_engine* engine)
{
    return guardedValue<int32_t>(
        "engine_profile_count", -1, [&] { return static_cast<int32_t>(engineOf(engine).plan.profiles.size()); });
}

extern "C" TRTS_API trts_status trts_engine_profile_shape(
    const trts_engine* engine, const char* tensor_name, int32_t profile, int32_t selector, trts_dims* out)
{
    return guarded("engine_profile_shape", [&] {
        EngineState const& state = engineOf(engine);
        trts_dims& result = require(out, "out");
        Tensor const& tensor = state.tensor(tensor_name);
        if (tensor.ioMode != TRTS_IO_INPUT)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT,
                "'" + tensor.name + "' is not an input: only inputs have optimization profile shapes");
        }
        state.checkProfile(profile);
        if (selector < TRTS_PROFILE_MIN || selector > TRTS_PROFILE_MAX)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT, "profile selector " + std::to_string(selector) + " is not 0, 1 or 2");
        }
        ProfileShape const* shape = state.plan.profiles[static_cast<std::size_t>(profile)].find(tensor.name);
        if (shape == nullptr)
        {
            /* TensorRT answers the fixed shape for an input no profile had to mention. */
            result = tensor.shape;
            return;
        }
        result = selector == TRTS_PROFILE_MIN ? shape->min : selector == TRTS_PROFILE_OPT ? shape->opt : shape->max;
    });
}

extern "C" TRTS_API trts_status trts_engine_scratch_size(const trts_engine* engine, int32_t profile, int64_t* out)
{
    return guarded("engine_scratch_size", [&] {
        EngineState const& state = engineOf(engine);
        int64_t& result = require(out, "out");
        state.checkProfile(profile);
        result = state.plan.profiles[static_cast<std::size_t>(profile)].scratch;
    });
}

extern "C" TRTS_API trts_status trts_engine_weights_size(const trts_engine* engine, int64_t* stated, int64_t* measured)
{
    return guarded("engine_weights_size", [&] {
        EngineState const& state = engineOf(engine);
        require(stated, "stated") = state.plan.statedWeights;
        require(measured, "measured") = state.plan.measuredWeights;
    });
}

/* ---- execution context ----------------------------------------------------------------------- */

extern "C" TRTS_API trts_status trts_context_create(
    trts_engine* engine, int32_t profile, void* stream, trts_context** out, int64_t* persistent_bytes)
{
    return guarded("context_create", [&] {
        require(out, "out") = nullptr;
        std::shared_ptr<EngineState> const& engineState = require(engine, "engine").state;
        record("context_create " + std::to_string(profile) + " " + hex(stream));
        engineState->checkProfile(profile);
        auto state = std::make_shared<ContextState>();
        state->engine = engineState;
        state->profile = profile;
        engineState->runtime->add(engineState->plan.persistent);
        if (persistent_bytes != nullptr)
        {
            *persistent_bytes = engineState->plan.persistent;
        }
        *out = new trts_context{std::move(state)};
    });
}

extern "C" TRTS_API void trts_context_release(trts_context* context)
{
    if (context != nullptr)
    {
        record("context_release");
    }
    delete context;
}

extern "C" TRTS_API trts_status trts_context_set_scratch(trts_context* context, void* memory, int64_t size)
{
    return guarded("context_set_scratch", [&] {
        ContextState& state = contextOf(context);
        record("context_set_scratch " + hex(memory) + " " + std::to_string(size));
        if (size < 0 || (memory == nullptr && size != 0))
        {
            fail(TRTS_ERR_INVALID_ARGUMENT,
                "scratch memory must be a non-null pointer with a size >= 0 (or null with size 0); got size "
                    + std::to_string(size));
        }
        state.scratchSize = size;
        state.scratchMemory = memory;
    });
}

extern "C" TRTS_API trts_status trts_context_set_input_shape(trts_context* context, const char* tensor_name, const trts_dims* dims)
{
    return guarded("context_set_input_shape", [&] {
        ContextState& state = contextOf(context);
        trts_dims const& shape = require(dims, "dims");
        record("context_set_input_shape " + std::string(tensor_name != nullptr ? tensor_name : "(null)") + " "
            + (shape.nb_dims >= 0 && shape.nb_dims <= TRTS_MAX_DIMS ? format(shape)
                                                                     : "nb_dims=" + std::to_string(shape.nb_dims)));
        Tensor const& tensor = state.engine->tensor(tensor_name);
        if (tensor.ioMode != TRTS_IO_INPUT)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT, "'" + tensor.name + "' is an output; only inputs take a shape");
        }
        checkDims(shape, "shape of '" + tensor.name + "'");
        if (shape.nb_dims != tensor.shape.nb_dims)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT,
                "shape " + format(shape) + " for '" + tensor.name + "' has " + std::to_string(shape.nb_dims)
                    + " dimensions; the engine's " + format(tensor.shape) + " has "
                    + std::to_string(tensor.shape.nb_dims));
        }
        ProfileShape const* bounds = state.currentProfile().find(tensor.name);
        for (int32_t i = 0; i < shape.nb_dims; ++i)
        {
            bool const fixedMismatch = tensor.shape.d[i] != -1 && shape.d[i] != tensor.shape.d[i];
            bool const outOfProfile = bounds != nullptr && i < bounds->min.nb_dims && i < bounds->max.nb_dims
                && (shape.d[i] < bounds->min.d[i] || shape.d[i] > bounds->max.d[i]);
            if (shape.d[i] < 0 || fixedMismatch || outOfProfile)
            {
                std::string const message = "IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter "
                                            "check failed, condition: satisfyProfile. Set dimension "
                    + format(shape) + " for tensor " + tensor.name + " does not satisfy any optimization profiles.)";
                log(TRTS_LOG_ERROR, message);
                fail(TRTS_ERR_TENSORRT, "setInputShape('" + tensor.name + "', " + format(shape) + ") failed on profile "
                        + std::to_string(state.profile) + "\nTensorRT: " + message);
            }
        }
        state.inputShapes[tensor.name] = shape;
    });
}

extern "C" TRTS_API trts_status trts_context_scratch_size_for_shapes(trts_context* context, int64_t* out)
{
    return guarded("context_scratch_size_for_shapes", [&] {
        ContextState& state = contextOf(context);
        int64_t& result = require(out, "out");
        record("context_scratch_size_for_shapes");
        state.requireInputShapes("IExecutionContext::updateDeviceMemorySizeForShapes");
        result = state.scratchForShapes();
    });
}

extern "C" TRTS_API trts_status trts_context_tensor_shape(const trts_context* context, const char* tensor_name, trts_dims* out)
{
    return guarded("context_tensor_shape", [&] {
        ContextState& state = contextOf(context);
        trts_dims& result = require(out, "out");
        record("context_tensor_shape " + std::string(tensor_name != nullptr ? tensor_name : "(null)"));
        result = state.shapeOf(state.engine->tensor(tensor_name));
    });
}

extern "C" TRTS_API trts_status trts_context_set_tensor_address(trts_context* context, const char* tensor_name, void* address)
{
    return guarded("context_set_tensor_address", [&] {
        ContextState& state = contextOf(context);
        record("context_set_tensor_address " + std::string(tensor_name != nullptr ? tensor_name : "(null)") + " "
            + hex(address));
        Tensor const& tensor = state.engine->tensor(tensor_name);
        state.addresses[tensor.name] = address;
    });
}

namespace
{

/* A tensor of one execution as the work on the fake device sees it. */
struct BoundTensor
{
    unsigned char* data = nullptr;
    int32_t type = TRTS_TYPE_UNKNOWN;
    int64_t rows = 1;
    int64_t perRow = 0;
};

BoundTensor bind(ContextState const& state, Tensor const& tensor)
{
    BoundTensor bound;
    bound.data = static_cast<unsigned char*>(state.addresses.at(tensor.name));
    bound.type = tensor.dataType;
    trts_dims const shape = state.shapeOf(tensor);
    int64_t const elements = volume(shape);
    bound.rows = shape.nb_dims > 0 ? shape.d[0] : 1;
    bound.perRow = bound.rows > 0 ? elements / bound.rows : 0;
    return bound;
}

double readFirst(BoundTensor const& input, int64_t row)
{
    unsigned char const* at = input.data;
    int64_t const index = row * input.perRow;
    switch (input.type)
    {
    case TRTS_TYPE_FLOAT32: return reinterpret_cast<float const*>(at)[index];
    case TRTS_TYPE_INT32: return reinterpret_cast<int32_t const*>(at)[index];
    case TRTS_TYPE_INT64: return static_cast<double>(reinterpret_cast<int64_t const*>(at)[index]);
    case TRTS_TYPE_UINT8:
    case TRTS_TYPE_BOOL: return at[index];
    default: return 0;
    }
}

void writeRow(BoundTensor const& output, int64_t row, double value)
{
    for (int64_t i = row * output.perRow; i < (row + 1) * output.perRow; ++i)
    {
        switch (output.type)
        {
        case TRTS_TYPE_FLOAT32: reinterpret_cast<float*>(output.data)[i] = static_cast<float>(value); break;
        case TRTS_TYPE_INT32: reinterpret_cast<int32_t*>(output.data)[i] = static_cast<int32_t>(value); break;
        case TRTS_TYPE_INT64: reinterpret_cast<int64_t*>(output.data)[i] = static_cast<int64_t>(value); break;
        case TRTS_TYPE_UINT8:
        case TRTS_TYPE_BOOL: output.data[i] = static_cast<unsigned char>(value); break;
        default: break;
        }
    }
}

/* Holds the scratch for a while under a token of its own; false when another execution wrote it meanwhile. */
bool holdScratch(unsigned char* scratch, int64_t size)
{
    int64_t const words = std::min<int64_t>(size, int64_t{1} << 20) / static_cast<int64_t>(sizeof(uint64_t));
    uint64_t* memory = reinterpret_cast<uint64_t*>(scratch);
    uint64_t const token = ++gTokens;
    std::fill(memory, memory + words, token);
    std::this_thread::sleep_for(std::chrono::microseconds(gWorkMicros.load()));
    return std::all_of(memory, memory + words, [token](uint64_t word) { return word == token; });
}

void enqueueOnFakeDevice(ContextState const& state, void* stream)
{
    std::shared_ptr<EngineState> const engine = state.engine;
    int32_t const profile = state.profile;
    {
        std::lock_guard<std::mutex> lock(engine->inFlightMutex);
        if (engine->inFlight[profile] > 0)
        {
            std::string const message = "IExecutionContext::enqueueV3: Error Code 3: API Usage Error (the fake shim's rule, from "
                                        "NvInferRuntime.h: each execution context in concurrent use must use a separate optimization "
                                        "profile; profile "
                + std::to_string(profile) + " is in use by an execution that has not completed)";
            log(TRTS_LOG_ERROR, message);
            fail(TRTS_ERR_TENSORRT, "enqueueV3 failed\nTensorRT: " + message);
        }
        ++engine->inFlight[profile];
    }
    BoundTensor first;
    std::vector<BoundTensor> outputs;
    for (Tensor const& tensor : engine->plan.tensors)
    {
        if (tensor.ioMode == TRTS_IO_INPUT && first.data == nullptr)
        {
            first = bind(state, tensor);
        }
        else if (tensor.ioMode == TRTS_IO_OUTPUT)
        {
            outputs.push_back(bind(state, tensor));
        }
    }
    unsigned char* const scratch = static_cast<unsigned char*>(state.scratchMemory);
    int64_t const scratchBytes = scratch != nullptr ? state.scratchSize : 0;
    fake_device::submit(stream, [engine, profile, first, outputs, scratch, scratchBytes] {
        if (scratchBytes > 0 && !holdScratch(scratch, scratchBytes))
        {
            ++gScratchViolations;
        }
        for (std::size_t k = 0; k < outputs.size(); ++k)
        {
            for (int64_t row = 0; row < outputs[k].rows; ++row)
            {
                double const value = first.data != nullptr && row < first.rows ? readFirst(first, row) : 0;
                writeRow(outputs[k], row, value + static_cast<double>(k));
            }
        }
        std::lock_guard<std::mutex> lock(engine->inFlightMutex);
        --engine->inFlight[profile];
    });
}

} // namespace

extern "C" TRTS_API trts_status trts_context_enqueue(trts_context* context, void* stream)
{
    return guarded("context_enqueue", [&] {
        ContextState& state = contextOf(context);
        record("context_enqueue " + hex(stream));
        state.requireInputShapes("IExecutionContext::enqueueV3");
        for (Tensor const& tensor : state.engine->plan.tensors)
        {
            auto const address = state.addresses.find(tensor.name);
            if (address == state.addresses.end() || address->second == nullptr)
            {
                std::string const message = "IExecutionContext::enqueueV3: Error Code 3: API Usage Error (Parameter "
                                            "check failed, condition: mContext.profileObliviousBindings.at(profileObliviousIndex) "
                                            "|| getPtrOrNull(mOutputAllocators, profileObliviousIndex). Address is not set "
                                            "for tensor "
                    + tensor.name + ".)";
                log(TRTS_LOG_ERROR, message);
                fail(TRTS_ERR_TENSORRT, "enqueueV3 failed\nTensorRT: " + message);
            }
        }
        int64_t const needed = state.scratchForShapes();
        if (needed > 0 && state.scratchSize < needed)
        {
            std::string const message = "IExecutionContext::enqueueV3: Error Code 1: Cuda Runtime (device memory of "
                + std::to_string(std::max<int64_t>(state.scratchSize, 0)) + " bytes set with setDeviceMemoryV2 is smaller than the "
                + std::to_string(needed) + " bytes the shapes need)";
            log(TRTS_LOG_ERROR, message);
            fail(TRTS_ERR_TENSORRT, "enqueueV3 failed\nTensorRT: " + message);
        }
        if (fake_device::isStream(stream))
        {
            enqueueOnFakeDevice(state, stream);
        }
    });
}

/* ---- builder --------------------------------------------------------------------------------- */

namespace
{

void validate(trts_build_options const& options, int32_t major)
{
    if (options.struct_size != static_cast<int32_t>(sizeof(trts_build_options)))
    {
        fail(TRTS_ERR_INVALID_ARGUMENT,
            "trts_build_options.struct_size is " + std::to_string(options.struct_size) + ", this shim expects "
                + std::to_string(sizeof(trts_build_options)));
    }
    if (options.precision < TRTS_PRECISION_FP32 || options.precision > TRTS_PRECISION_BF16)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "precision " + std::to_string(options.precision) + " is not a trts_precision");
    }
    if (major >= 11 && options.precision != TRTS_PRECISION_FP32)
    {
        fail(TRTS_ERR_UNSUPPORTED,
            std::string(options.precision == TRTS_PRECISION_FP16 ? "FP16" : "BF16") + " precision cannot be requested from TensorRT "
                + std::to_string(major)
                + ": it is strongly typed and takes each layer's precision from the model. Export the model in "
                  "that precision (for example with ModelOpt AutoCast) and build it as FP32 (as the model says).");
    }
    if (options.optimization_level < -1 || options.optimization_level > 5)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "optimization_level " + std::to_string(options.optimization_level) + " is not -1 or 0..5");
    }
    if (options.workspace_bytes < 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "workspace_bytes is negative");
    }
    if (options.max_aux_streams < -1)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "max_aux_streams " + std::to_string(options.max_aux_streams) + " is below -1");
    }
    uint32_t const known = TRTS_TACTIC_CUBLAS | TRTS_TACTIC_CUBLAS_LT | TRTS_TACTIC_CUDNN
        | TRTS_TACTIC_EDGE_MASK_CONVOLUTIONS | TRTS_TACTIC_JIT_CONVOLUTIONS;
    if (((options.tactics_enable | options.tactics_disable) & ~known) != 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "unknown tactic source bits " + hexBits((options.tactics_enable | options.tactics_disable) & ~known));
    }
    if ((options.tactics_enable & options.tactics_disable) != 0)
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "tactic sources both enabled and disabled: bits " + hexBits(options.tactics_enable & options.tactics_disable));
    }
    if (major >= 11 && (options.tactics_enable & (TRTS_TACTIC_CUBLAS | TRTS_TACTIC_CUBLAS_LT | TRTS_TACTIC_CUDNN)) != 0)
    {
        fail(TRTS_ERR_UNSUPPORTED,
            "TensorRT " + std::to_string(major) + " has no cuBLAS, cuBLASLt or cuDNN tactic sources (removed in 11.0)");
    }
    if (options.profile_count < 0 || (options.profile_count > 0 && options.profiles == nullptr))
    {
        fail(TRTS_ERR_INVALID_ARGUMENT, "profile_count is " + std::to_string(options.profile_count) + " but profiles is null");
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

void addProfile(Plan& plan, int32_t index, trts_profile const& profile)
{
    Profile& target = plan.profile(static_cast<std::size_t>(index));
    for (int32_t s = 0; s < profile.shape_count; ++s)
    {
        trts_profile_shape const& shape = profile.shapes[s];
        std::string const where = "profile " + std::to_string(index) + ", input '" + shape.tensor_name + "'";
        checkDims(shape.min, where + " min");
        checkDims(shape.opt, where + " opt");
        checkDims(shape.max, where + " max");
        Tensor const* tensor = plan.find(shape.tensor_name);
        bool valid = tensor != nullptr && tensor->ioMode == TRTS_IO_INPUT && shape.min.nb_dims == tensor->shape.nb_dims
            && shape.opt.nb_dims == tensor->shape.nb_dims && shape.max.nb_dims == tensor->shape.nb_dims;
        for (int32_t i = 0; valid && i < shape.min.nb_dims; ++i)
        {
            valid = shape.min.d[i] >= 0 && shape.min.d[i] <= shape.opt.d[i] && shape.opt.d[i] <= shape.max.d[i];
        }
        if (!valid)
        {
            std::string const message = "IOptimizationProfile::setDimensions: Error Code 3: API Usage Error (" + where
                + ": " + format(shape.min) + " " + format(shape.opt) + " " + format(shape.max) + " is not a valid min/opt/max)";
            log(TRTS_LOG_ERROR, message);
            fail(TRTS_ERR_TENSORRT, where + ": setDimensions failed (is it an input of the model, and min <= opt <= max?)"
                    + "\nTensorRT: " + message);
        }
        target.shapes.push_back(ProfileShape{shape.tensor_name, shape.min, shape.opt, shape.max});
        target.scratch += 256 * volume(shape.max);
    }
}

trts_host_memory* hostMemory(std::string bytes)
{
    return new trts_host_memory{std::move(bytes)};
}

} // namespace

extern "C" TRTS_API trts_status trts_build_engine(const void* onnx, size_t onnx_size, const char* model_path,
    const trts_build_options* options, trts_host_memory** plan_out, trts_host_memory** timing_cache_out)
{
    return guarded("build_engine", [&] {
        require(plan_out, "plan_out") = nullptr;
        if (timing_cache_out != nullptr)
        {
            *timing_cache_out = nullptr;
        }
        trts_build_options const& opts = require(options, "options");
        record("build_engine " + std::to_string(onnx_size) + " model_path=" + (model_path != nullptr ? model_path : "null")
            + " precision=" + std::to_string(opts.precision) + " allow_tf32=" + std::to_string(opts.allow_tf32)
            + " optimization_level=" + std::to_string(opts.optimization_level)
            + " workspace=" + std::to_string(opts.workspace_bytes) + " tactics_enable=" + hexBits(opts.tactics_enable)
            + " tactics_disable=" + hexBits(opts.tactics_disable) + " max_aux_streams=" + std::to_string(opts.max_aux_streams)
            + " profiles=" + std::to_string(opts.profile_count)
            + " timing_cache=" + (opts.timing_cache != nullptr ? std::to_string(opts.timing_cache_size) : "null")
            + " timing_cache_out=" + (timing_cache_out != nullptr ? "1" : "0"));
        for (int32_t p = 0; opts.profiles != nullptr && p < opts.profile_count; ++p)
        {
            for (int32_t s = 0; opts.profiles[p].shapes != nullptr && s < opts.profiles[p].shape_count; ++s)
            {
                trts_profile_shape const& shape = opts.profiles[p].shapes[s];
                bool const printable = shape.min.nb_dims >= 0 && shape.min.nb_dims <= TRTS_MAX_DIMS
                    && shape.opt.nb_dims >= 0 && shape.opt.nb_dims <= TRTS_MAX_DIMS && shape.max.nb_dims >= 0
                    && shape.max.nb_dims <= TRTS_MAX_DIMS;
                record("build_profile " + std::to_string(p) + " "
                    + (shape.tensor_name != nullptr ? shape.tensor_name : "(null)") + " "
                    + (printable ? format(shape.min) + " " + format(shape.opt) + " " + format(shape.max) : "(bad dims)"));
            }
        }
        int32_t major = 0;
        {
            std::lock_guard<std::mutex> lock(gMutex);
            major = gVersions.compiled[0];
        }
        if (onnx == nullptr || onnx_size == 0)
        {
            fail(TRTS_ERR_INVALID_ARGUMENT, "the ONNX model is empty");
        }
        validate(opts, major);

        std::string const model(static_cast<char const*>(onnx), onnx_size);
        Plan plan;
        try
        {
            if (!startsWith(model, kModelMagic))
            {
                throw std::invalid_argument("Failed to parse ONNX model from file: the bytes are not a FAKEONNX model");
            }
            plan = parsePlan(model, std::strlen(kModelMagic), false);
        }
        catch (std::invalid_argument const& e)
        {
            std::string const error = std::string(e.what()) + " | ModelImporter.cpp:1000 parseGraph | code 3";
            log(TRTS_LOG_ERROR, "In node -1 with name:  and operator:  (parseGraph): " + std::string(e.what()));
            fail(TRTS_ERR_PARSER, "the ONNX parser rejected the model (1 error)\n  [1] " + error);
        }
        plan.profiles.clear();
        for (int32_t p = 0; p < opts.profile_count; ++p)
        {
            addProfile(plan, p, opts.profiles[p]);
        }
        bool const dynamic = std::any_of(plan.tensors.begin(), plan.tensors.end(), [](Tensor const& tensor) {
            return tensor.ioMode == TRTS_IO_INPUT
                && std::find(tensor.shape.d, tensor.shape.d + tensor.shape.nb_dims, -1) != tensor.shape.d + tensor.shape.nb_dims;
        });
        if (dynamic && opts.profile_count == 0)
        {
            std::string const message = "IBuilder::buildSerializedNetwork: Error Code 4: API Usage Error (Network has "
                                        "dynamic or shape inputs, but no optimization profile has been defined.)";
            log(TRTS_LOG_ERROR, message);
            fail(TRTS_ERR_TENSORRT, "buildSerializedNetwork failed\nTensorRT: " + message);
        }
        if (plan.profiles.empty())
        {
            plan.profiles.resize(1);
        }
        plan.statedWeights = static_cast<int64_t>(onnx_size);
        plan.measuredWeights = static_cast<int64_t>(onnx_size);

        std::string cache;
        if (opts.timing_cache != nullptr)
        {
            cache.assign(static_cast<char const*>(opts.timing_cache), opts.timing_cache_size);
            if (!startsWith(cache, kCacheMagic))
            {
                fail(TRTS_ERR_TENSORRT, "setTimingCache refused the timing cache (built by another TensorRT version or GPU?)");
            }
        }
        else
        {
            cache = kCacheMagic;
        }
        cache += "build " + std::to_string(onnx_size) + "\n";

        std::unique_ptr<trts_host_memory> planMemory(hostMemory(serialize(plan)));
        if (timing_cache_out != nullptr)
        {
            *timing_cache_out = hostMemory(cache);
        }
        *plan_out = planMemory.release();
    });
}

extern "C" TRTS_API const void* trts_host_memory_data(const trts_host_memory* memory)
{
    return memory != nullptr ? memory->bytes.data() : nullptr;
}

extern "C" TRTS_API size_t trts_host_memory_size(const trts_host_memory* memory)
{
    return memory != nullptr ? memory->bytes.size() : 0;
}

extern "C" TRTS_API void trts_host_memory_release(trts_host_memory* memory)
{
    if (memory != nullptr)
    {
        record("host_memory_release");
    }
    delete memory;
}

/* ---- test controls --------------------------------------------------------------------------- */

/* Every call recorded since the last reset, one per line; valid until the next call on this thread. */
FAKE_API const char* trts_fake_calls(void)
{
    std::lock_guard<std::mutex> lock(gMutex);
    tCallsText.clear();
    for (std::string const& call : gCalls)
    {
        tCallsText += call + "\n";
    }
    return tCallsText.c_str();
}

/* Forgets recorded calls and armed failures and restores the default versions (ABI 1, TensorRT
 * 10.16.0.72). The log callback stays: .NET registers it once per process. */
FAKE_API void trts_fake_reset(void)
{
    std::lock_guard<std::mutex> lock(gMutex);
    gCalls.clear();
    gFailures.clear();
    gVersions = Versions();
    gScratchViolations = 0;
    gWorkMicros = 200;
}

/* Executions on the fake device that found their scratch written by another one while they held it. */
FAKE_API int64_t trts_fake_scratch_violations(void) { return gScratchViolations.load(); }

/* How long an execution on the fake device holds its scratch. */
FAKE_API void trts_fake_set_work_micros(int64_t micros) { gWorkMicros = micros; }

/* The next call of function_name ("trts_context_enqueue" or "context_enqueue") fails with status and
 * message, after its arguments are recorded and before it does anything. */
FAKE_API void trts_fake_fail_next(const char* function_name, int32_t status, const char* message)
{
    if (function_name == nullptr)
    {
        return;
    }
    std::string name = function_name;
    if (name.compare(0, 5, "trts_") == 0)
    {
        name = name.substr(5);
    }
    std::lock_guard<std::mutex> lock(gMutex);
    gFailures[name] = Failure{status, message != nullptr ? message : ""};
}

/* Sends one message through the log callback from a new native thread, and waits for it: .NET sees a
 * callback on a thread it has never met, as TensorRT's builder threads are. */
FAKE_API void trts_fake_emit_log(int32_t severity, const char* message)
{
    std::string const text = message != nullptr ? message : "";
    try
    {
        std::thread([severity, text] { log(severity, text); }).join();
    }
    catch (...)
    {
        /* Thread creation failed: the test waiting for the message will say so. */
    }
}

/* The ABI version, the TensorRT headers the fake claims to be compiled against (which also decide its
 * capabilities and whether FP16 is refused as on TensorRT 11) and the library it claims to have loaded. */
FAKE_API void trts_fake_set_versions(int32_t abi_version, int32_t compiled_major, int32_t compiled_minor,
    int32_t compiled_patch, int32_t loaded_major, int32_t loaded_minor, int32_t loaded_patch, int32_t loaded_build)
{
    std::lock_guard<std::mutex> lock(gMutex);
    gVersions.abi = abi_version;
    gVersions.compiled[0] = compiled_major;
    gVersions.compiled[1] = compiled_minor;
    gVersions.compiled[2] = compiled_patch;
    gVersions.loaded[0] = loaded_major;
    gVersions.loaded[1] = loaded_minor;
    gVersions.loaded[2] = loaded_patch;
    gVersions.loaded[3] = loaded_build;
}
