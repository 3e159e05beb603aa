/*
 * Serialized plans and timing caches as the builder hands them out: opaque buffers .NET reads and
 * releases (trts_host_memory, shim_handles.h).
 */
#include "shim_handles.h"

extern "C" TRTS_API const void* trts_host_memory_data(const trts_host_memory* memory)
{
    return memory != nullptr && memory->memory ? memory->memory->data() : nullptr;
}

extern "C" TRTS_API size_t trts_host_memory_size(const trts_host_memory* memory)
{
    return memory != nullptr && memory->memory ? memory->memory->size() : 0;
}

extern "C" TRTS_API void trts_host_memory_release(trts_host_memory* memory)
{
    delete memory;
}
