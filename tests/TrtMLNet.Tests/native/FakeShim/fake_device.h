/*
 * A fake device for the fake shim: streams that run their work later, in order, on a worker thread of
 * their own, and events with CUDA's semantics (a wait is for the latest record made before it; an
 * event never recorded has passed). Memory is plain host memory. It lets .NET tests run the execution
 * layer against something that, like a GPU, goes on working after the call that queued the work
 * returned, so fences and profile rules are tested against real asynchrony.
 */
#ifndef TRTMLNET_FAKE_DEVICE_H
#define TRTMLNET_FAKE_DEVICE_H

#include <functional>

namespace fake_device
{

/* True when stream is a live stream made by trts_fake_stream_create. */
bool isStream(void* stream);

/* Queues work on a live stream; it runs after everything queued there before it. */
void submit(void* stream, std::function<void()> work);

} // namespace fake_device

#endif
