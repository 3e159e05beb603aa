/*
 * The fake device's streams and events (fake_device.h), exported as trts_fake_stream_* and
 * trts_fake_event_* for the .NET test device.
 */
#include "fake_device.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#if defined(_WIN32)
#define FAKE_API extern "C" __declspec(dllexport)
#else
#define FAKE_API extern "C" __attribute__((visibility("default")))
#endif

namespace
{

class Stream
{
public:
    Stream() : mWorker([this] { run(); }) {}

    ~Stream()
    {
        {
            std::lock_guard<std::mutex> lock(mMutex);
            mStopping = true;
        }
        mChanged.notify_all();
        mWorker.join();
    }

    void submit(std::function<void()> work)
    {
        {
            std::lock_guard<std::mutex> lock(mMutex);
            mQueue.push_back(std::move(work));
        }
        mChanged.notify_all();
    }

    void synchronize()
    {
        std::unique_lock<std::mutex> lock(mMutex);
        mChanged.wait(lock, [this] { return mQueue.empty() && !mBusy; });
    }

private:
    void run()
    {
        std::unique_lock<std::mutex> lock(mMutex);
        while (true)
        {
            mChanged.wait(lock, [this] { return mStopping || !mQueue.empty(); });
            if (mQueue.empty())
            {
                return; /* stopping, and everything queued has run */
            }
            std::function<void()> work = std::move(mQueue.front());
            mQueue.pop_front();
            mBusy = true;
            lock.unlock();
            work();
            lock.lock();
            mBusy = false;
            mChanged.notify_all();
        }
    }

    std::mutex mMutex;
    std::condition_variable mChanged;
    std::deque<std::function<void()>> mQueue;
    bool mBusy = false;
    bool mStopping = false;
    std::thread mWorker; /* last: starts once the members above exist */
};

struct Event
{
    std::mutex mutex;
    std::condition_variable passed;
    uint64_t recorded = 0;
    uint64_t completed = 0;

    void waitFor(uint64_t generation)
    {
        std::unique_lock<std::mutex> lock(mutex);
        passed.wait(lock, [&] { return completed >= generation; });
    }
};

std::mutex gRegistryMutex;
std::map<void*, std::shared_ptr<Stream>> gStreams;
std::map<void*, std::shared_ptr<Event>> gEvents;

std::shared_ptr<Stream> streamOf(void* handle)
{
    std::lock_guard<std::mutex> lock(gRegistryMutex);
    auto const found = gStreams.find(handle);
    return found == gStreams.end() ? nullptr : found->second;
}

std::shared_ptr<Event> eventOf(void* handle)
{
    std::lock_guard<std::mutex> lock(gRegistryMutex);
    auto const found = gEvents.find(handle);
    return found == gEvents.end() ? nullptr : found->second;
}

} // namespace

namespace fake_device
{

bool isStream(void* stream) { return streamOf(stream) != nullptr; }

void submit(void* stream, std::function<void()> work)
{
    if (std::shared_ptr<Stream> const target = streamOf(stream))
    {
        target->submit(std::move(work));
    }
}

} // namespace fake_device

/* ---- exports for the .NET test device ---------------------------------------------------------- */

FAKE_API void* trts_fake_stream_create(void)
{
    auto stream = std::make_shared<Stream>();
    void* handle = stream.get();
    std::lock_guard<std::mutex> lock(gRegistryMutex);
    gStreams[handle] = std::move(stream);
    return handle;
}

/* Runs what is queued, then stops the worker. */
FAKE_API void trts_fake_stream_destroy(void* handle)
{
    std::shared_ptr<Stream> stream;
    {
        std::lock_guard<std::mutex> lock(gRegistryMutex);
        auto const found = gStreams.find(handle);
        if (found == gStreams.end())
        {
            return;
        }
        stream = std::move(found->second);
        gStreams.erase(found);
    }
    stream->synchronize();
}

FAKE_API void trts_fake_stream_synchronize(void* handle)
{
    if (std::shared_ptr<Stream> const stream = streamOf(handle))
    {
        stream->synchronize();
    }
}

FAKE_API void trts_fake_memcpy_async(void* destination, const void* source, size_t bytes, void* stream)
{
    fake_device::submit(stream, [=] { std::memmove(destination, source, bytes); });
}

FAKE_API void* trts_fake_event_create(void)
{
    auto event = std::make_shared<Event>();
    void* handle = event.get();
    std::lock_guard<std::mutex> lock(gRegistryMutex);
    gEvents[handle] = std::move(event);
    return handle;
}

FAKE_API void trts_fake_event_destroy(void* handle)
{
    std::lock_guard<std::mutex> lock(gRegistryMutex);
    gEvents.erase(handle);
}

FAKE_API void trts_fake_event_record(void* handle, void* stream)
{
    std::shared_ptr<Event> const event = eventOf(handle);
    if (event == nullptr)
    {
        return;
    }
    uint64_t generation;
    {
        std::lock_guard<std::mutex> lock(event->mutex);
        generation = ++event->recorded;
    }
    fake_device::submit(stream, [event, generation] {
        {
            std::lock_guard<std::mutex> lock(event->mutex);
            event->completed = std::max(event->completed, generation);
        }
        event->passed.notify_all();
    });
}

/* The stream's later work waits for the event's latest record made before this call. */
FAKE_API void trts_fake_stream_wait_event(void* stream, void* handle)
{
    std::shared_ptr<Event> const event = eventOf(handle);
    if (event == nullptr)
    {
        return;
    }
    uint64_t generation;
    {
        std::lock_guard<std::mutex> lock(event->mutex);
        generation = event->recorded;
    }
    fake_device::submit(stream, [event, generation] { event->waitFor(generation); });
}

FAKE_API void trts_fake_event_synchronize(void* handle)
{
    std::shared_ptr<Event> const event = eventOf(handle);
    if (event == nullptr)
    {
        return;
    }
    uint64_t generation;
    {
        std::lock_guard<std::mutex> lock(event->mutex);
        generation = event->recorded;
    }
    event->waitFor(generation);
}

FAKE_API int32_t trts_fake_event_query(void* handle)
{
    std::shared_ptr<Event> const event = eventOf(handle);
    if (event == nullptr)
    {
        return 1;
    }
    std::lock_guard<std::mutex> lock(event->mutex);
    return event->completed >= event->recorded ? 1 : 0;
}
