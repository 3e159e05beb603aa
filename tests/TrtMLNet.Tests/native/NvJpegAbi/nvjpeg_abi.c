/*
 * The parts of nvjpeg.h that TrtMLNet's P/Invoke layer (src/TrtMLNet/Native/NvJpeg) hard-codes:
 * the nvjpegImage_t layout, the enum values and flags it passes, and the signatures of the functions
 * it imports. Compiled against a header, it fails to compile if a signature changed, and prints the
 * numbers that tests/TrtMLNet.Tests/NvJpeg/NvJpegAbiTests.cs asserts. check-nvjpeg-abi.sh compiles it
 * against any CUDA's header (11.8 here, 13.x on the GPU machine) and compares with nvjpeg_abi.expected.
 * Nothing is linked or called: the checks are compile-time only.
 */
#include <stddef.h>
#include <stdio.h>
#include <nvjpeg.h>

/* Each imported function's C type, as NvJpegApi.cs declares it (IntPtr for handles and cudaStream_t,
 * int for enums, nuint for size_t). A header whose function differs fails the static assertion. */
#define SAME_TYPE(fn, type) _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn " changed its signature")

SAME_TYPE(nvjpegGetProperty, nvjpegStatus_t (*)(libraryPropertyType, int *));
SAME_TYPE(nvjpegCreateEx, nvjpegStatus_t (*)(nvjpegBackend_t, nvjpegDevAllocator_t *, nvjpegPinnedAllocator_t *, unsigned int, nvjpegHandle_t *));
SAME_TYPE(nvjpegDestroy, nvjpegStatus_t (*)(nvjpegHandle_t));
SAME_TYPE(nvjpegGetHardwareDecoderInfo, nvjpegStatus_t (*)(nvjpegHandle_t, unsigned int *, unsigned int *));
SAME_TYPE(nvjpegJpegStateCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegState_t *));
SAME_TYPE(nvjpegJpegStateDestroy, nvjpegStatus_t (*)(nvjpegJpegState_t));
SAME_TYPE(nvjpegGetImageInfo, nvjpegStatus_t (*)(nvjpegHandle_t, const unsigned char *, size_t, int *, nvjpegChromaSubsampling_t *, int *, int *));
SAME_TYPE(nvjpegDecodeBatchedInitialize, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegState_t, int, int, nvjpegOutputFormat_t));
SAME_TYPE(nvjpegDecodeBatched, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegState_t, const unsigned char *const *, const size_t *, nvjpegImage_t *, cudaStream_t));
SAME_TYPE(nvjpegDecodeBatchedPreAllocate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegState_t, int, int, int, nvjpegChromaSubsampling_t, nvjpegOutputFormat_t));
SAME_TYPE(nvjpegDecodeBatchedSupported, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegStream_t, int *));
SAME_TYPE(nvjpegJpegStreamCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegStream_t *));
SAME_TYPE(nvjpegJpegStreamDestroy, nvjpegStatus_t (*)(nvjpegJpegStream_t));
SAME_TYPE(nvjpegJpegStreamParse, nvjpegStatus_t (*)(nvjpegHandle_t, const unsigned char *, size_t, int, int, nvjpegJpegStream_t));
SAME_TYPE(nvjpegJpegStreamParseHeader, nvjpegStatus_t (*)(nvjpegHandle_t, const unsigned char *, size_t, nvjpegJpegStream_t));
SAME_TYPE(nvjpegDecoderCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegBackend_t, nvjpegJpegDecoder_t *));
SAME_TYPE(nvjpegDecoderDestroy, nvjpegStatus_t (*)(nvjpegJpegDecoder_t));
SAME_TYPE(nvjpegDecoderStateCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegDecoder_t, nvjpegJpegState_t *));
SAME_TYPE(nvjpegBufferPinnedCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegPinnedAllocator_t *, nvjpegBufferPinned_t *));
SAME_TYPE(nvjpegBufferPinnedDestroy, nvjpegStatus_t (*)(nvjpegBufferPinned_t));
SAME_TYPE(nvjpegBufferDeviceCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegDevAllocator_t *, nvjpegBufferDevice_t *));
SAME_TYPE(nvjpegBufferDeviceDestroy, nvjpegStatus_t (*)(nvjpegBufferDevice_t));
SAME_TYPE(nvjpegBufferPinnedRetrieve, nvjpegStatus_t (*)(nvjpegBufferPinned_t, size_t *, void **));
SAME_TYPE(nvjpegBufferDeviceRetrieve, nvjpegStatus_t (*)(nvjpegBufferDevice_t, size_t *, void **));
SAME_TYPE(nvjpegStateAttachPinnedBuffer, nvjpegStatus_t (*)(nvjpegJpegState_t, nvjpegBufferPinned_t));
SAME_TYPE(nvjpegStateAttachDeviceBuffer, nvjpegStatus_t (*)(nvjpegJpegState_t, nvjpegBufferDevice_t));
SAME_TYPE(nvjpegDecodeParamsCreate, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegDecodeParams_t *));
SAME_TYPE(nvjpegDecodeParamsDestroy, nvjpegStatus_t (*)(nvjpegDecodeParams_t));
SAME_TYPE(nvjpegDecodeParamsSetOutputFormat, nvjpegStatus_t (*)(nvjpegDecodeParams_t, nvjpegOutputFormat_t));
SAME_TYPE(nvjpegDecodeJpegHost, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegDecoder_t, nvjpegJpegState_t, nvjpegDecodeParams_t, nvjpegJpegStream_t));
SAME_TYPE(nvjpegDecodeJpegTransferToDevice, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegDecoder_t, nvjpegJpegState_t, nvjpegJpegStream_t, cudaStream_t));
SAME_TYPE(nvjpegDecodeJpegDevice, nvjpegStatus_t (*)(nvjpegHandle_t, nvjpegJpegDecoder_t, nvjpegJpegState_t, nvjpegImage_t *, cudaStream_t));

/* Handles and streams cross as pointers; enums as 4-byte ints. */
_Static_assert(sizeof(nvjpegHandle_t) == sizeof(void *), "handle");
_Static_assert(sizeof(cudaStream_t) == sizeof(void *), "stream");
_Static_assert(sizeof(nvjpegStatus_t) == 4 && sizeof(nvjpegBackend_t) == 4 && sizeof(nvjpegOutputFormat_t) == 4 &&
               sizeof(nvjpegChromaSubsampling_t) == 4 && sizeof(libraryPropertyType) == 4, "enums are ints");

int main(void)
{
    printf("nvjpegImage_t size %zu channel %zu pitch %zu\n",
           sizeof(nvjpegImage_t), offsetof(nvjpegImage_t, channel), offsetof(nvjpegImage_t, pitch));
    printf("NVJPEG_MAX_COMPONENT %d\n", NVJPEG_MAX_COMPONENT);
    printf("backend DEFAULT %d HYBRID %d GPU_HYBRID %d HARDWARE %d\n",
           NVJPEG_BACKEND_DEFAULT, NVJPEG_BACKEND_HYBRID, NVJPEG_BACKEND_GPU_HYBRID, NVJPEG_BACKEND_HARDWARE);
    printf("output RGBI %d\n", NVJPEG_OUTPUT_RGBI);
    printf("css 444 %d 422 %d 420 %d 440 %d 411 %d 410 %d GRAY %d 410V %d UNKNOWN %d\n",
           NVJPEG_CSS_444, NVJPEG_CSS_422, NVJPEG_CSS_420, NVJPEG_CSS_440, NVJPEG_CSS_411, NVJPEG_CSS_410,
           NVJPEG_CSS_GRAY, NVJPEG_CSS_410V, NVJPEG_CSS_UNKNOWN);
    printf("status SUCCESS %d NOT_INITIALIZED %d INVALID_PARAMETER %d BAD_JPEG %d JPEG_NOT_SUPPORTED %d "
           "ALLOCATOR_FAILURE %d EXECUTION_FAILED %d ARCH_MISMATCH %d INTERNAL_ERROR %d "
           "IMPLEMENTATION_NOT_SUPPORTED %d INCOMPLETE_BITSTREAM %d\n",
           NVJPEG_STATUS_SUCCESS, NVJPEG_STATUS_NOT_INITIALIZED, NVJPEG_STATUS_INVALID_PARAMETER,
           NVJPEG_STATUS_BAD_JPEG, NVJPEG_STATUS_JPEG_NOT_SUPPORTED, NVJPEG_STATUS_ALLOCATOR_FAILURE,
           NVJPEG_STATUS_EXECUTION_FAILED, NVJPEG_STATUS_ARCH_MISMATCH, NVJPEG_STATUS_INTERNAL_ERROR,
           NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED, NVJPEG_STATUS_INCOMPLETE_BITSTREAM);
    printf("flags DEFAULT %d\n", NVJPEG_FLAGS_DEFAULT);
    printf("property MAJOR %d MINOR %d PATCH %d\n", MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL);
    return 0;
}
