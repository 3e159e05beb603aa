/*
 * Versions and capabilities: what .NET checks before it trusts the shim.
 */
#include "shim_common.h"

extern "C" TRTS_API int32_t trts_abi_version(void)
{
    return TRTS_ABI_VERSION;
}

extern "C" TRTS_API void trts_compiled_version(int32_t* major, int32_t* minor, int32_t* patch)
{
    if (major != nullptr)
    {
        *major = NV_TENSORRT_MAJOR;
    }
    if (minor != nullptr)
    {
        *minor = NV_TENSORRT_MINOR;
    }
    if (patch != nullptr)
    {
        *patch = NV_TENSORRT_PATCH;
    }
}

/* Asks the libnvinfer the loader picked, which may be another minor than the headers: plans and
 * timing caches are only valid for the exact version that built them. */
extern "C" TRTS_API void trts_loaded_version(int32_t* major, int32_t* minor, int32_t* patch, int32_t* build)
{
    if (major != nullptr)
    {
        *major = getInferLibMajorVersion();
    }
    if (minor != nullptr)
    {
        *minor = getInferLibMinorVersion();
    }
    if (patch != nullptr)
    {
        *patch = getInferLibPatchVersion();
    }
    if (build != nullptr)
    {
        *build = getInferLibBuildVersion();
    }
}

extern "C" TRTS_API uint32_t trts_capabilities(void)
{
    uint32_t capabilities = 0;
#if TRTS_HAS_WEAK_TYPING
    capabilities |= TRTS_CAP_WEAK_TYPING;
#endif
#if TRTS_HAS_ENGINE_STAT
    capabilities |= TRTS_CAP_ENGINE_WEIGHTS_STAT;
#endif
    return capabilities;
}
