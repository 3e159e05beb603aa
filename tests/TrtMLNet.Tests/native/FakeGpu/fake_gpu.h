// Shared by the fake driver (fake_gpu.cpp) and the fake nvJPEG (fake_nvjpeg.cpp), which are one library.
#pragma once
#include <cstddef>

#define EXPORT extern "C" __attribute__((visibility("default")))

// Records a broken contract (the test fails on any) and prints it.
void Violation(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Whether [p, p + bytes) lies inside one live allocation: device memory, or pinned host memory.
bool Inside(const void* p, size_t bytes, bool pinned);

// nvJPEG objects not yet destroyed.
long NvJpegLiveObjects();
