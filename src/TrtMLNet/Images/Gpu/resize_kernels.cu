// Resize, crop, normalise and lay out a batch of decoded images straight into a batch of an engine's input.
//
// Input: each image as nvJPEG decoded it, interleaved RGB (RGBI), one buffer per image with its own pitch.
// Output: its row of the batch tensor, float32, float16 or uint8, NCHW or NHWC, RGB or BGR, each value
// pixel * scale[c] + bias[c] (c in the tensor's channel order), which is what the CPU path writes.
//
// The resampling is PIL's antialiased bilinear filter for 8-bit images (Pillow's src/libImaging/Resample.c,
// read, not copied): separable, the horizontal pass first into an 8-bit intermediate, then the vertical
// pass; each pass sums source * weight in 32-bit integers with 22-bit fixed-point weights, starts from
// half (1 << 21) so the shift rounds, and clips to 0..255. The weights come from the host
// (TrtMLNet.Images.ResampleTaps, computed as Pillow computes them), so a pixel here is bit for bit the
// CPU path's for the same decoded image. The taps cover only the pixels the crop keeps; pixels of a crop
// larger than the resized image have no taps and are 0 (torchvision's CenterCrop pads with 0).
//
// Two kernels per batch, each one launch over (pixels, images) with grid.y = image:
//   resize_horizontal     source rows the vertical taps read -> intermediate (rowCount x outWidth x 3 bytes)
//   resize_vertical_write intermediate -> the image's row of the output tensor
//
// The per-image jobs and the tap tables travel in one buffer: ResizeJob[jobCount], then int32 tables.
// A table of n output pixels with at most m taps is First[n], Count[n], Weights[n * m], contiguous.
//
// The PTX beside this file is what TrtMLNet embeds and loads (cuModuleLoadData; the driver JIT-compiles it
// for the GPU at hand). Regenerate it after any change here with ./regen-ptx.sh (nvcc -ptx -arch=compute_70).

#ifdef __CUDACC__
#include <cuda_fp16.h>
#endif
// Without nvcc (tests/TrtMLNet.Tests/native/FakeGpu compiles this file as C++ and runs the kernels on the CPU),
// the includer defines __global__, __device__, __forceinline__, blockIdx and friends, __half and the intrinsics.
#include <stddef.h>

// One image's work. The layout is TrtMLNet.Images.Gpu.ResizeJob's ([StructLayout(Explicit)]); the static
// assertions below and ResizeJobLayoutTests keep the two the same.
struct ResizeJob
{
    const unsigned char* source;   // decoded RGBI pixels, row r at source + r * sourcePitch
    unsigned char* intermediate;   // rowCount rows of outWidth * 3 bytes
    long long sourcePitch;         // bytes
    long long outputOffset;        // bytes from the output's start to this image's row of the batch
    int sourceWidth;
    int sourceHeight;
    int rowStart;                  // first source row the vertical taps read: intermediate row 0
    int rowCount;                  // source rows the vertical taps read
    int horizontalTaps;            // int offset of the horizontal table (outWidth outputs) in the tables
    int horizontalMaxTaps;
    int verticalTaps;              // int offset of the vertical table (outHeight outputs)
    int verticalMaxTaps;
};

static_assert(sizeof(ResizeJob) == 64, "ResizeJob is 64 bytes");
static_assert(offsetof(ResizeJob, source) == 0, "source");
static_assert(offsetof(ResizeJob, intermediate) == 8, "intermediate");
static_assert(offsetof(ResizeJob, sourcePitch) == 16, "sourcePitch");
static_assert(offsetof(ResizeJob, outputOffset) == 24, "outputOffset");
static_assert(offsetof(ResizeJob, sourceWidth) == 32, "sourceWidth");
static_assert(offsetof(ResizeJob, sourceHeight) == 36, "sourceHeight");
static_assert(offsetof(ResizeJob, rowStart) == 40, "rowStart");
static_assert(offsetof(ResizeJob, rowCount) == 44, "rowCount");
static_assert(offsetof(ResizeJob, horizontalTaps) == 48, "horizontalTaps");
static_assert(offsetof(ResizeJob, horizontalMaxTaps) == 52, "horizontalMaxTaps");
static_assert(offsetof(ResizeJob, verticalTaps) == 56, "verticalTaps");
static_assert(offsetof(ResizeJob, verticalMaxTaps) == 60, "verticalMaxTaps");

// Values of the layout and elementType arguments (TrtMLNet.Images.Gpu.GpuResizeKernels).
#define LAYOUT_NCHW 0
#define LAYOUT_NHWC 1
#define ELEMENT_FLOAT32 0
#define ELEMENT_FLOAT16 1
#define ELEMENT_UINT8 2

#define PRECISION_BITS 22                          // Pillow's PRECISION_BITS for 8-bit images: 32 - 8 - 2
#define ROUNDING_HALF (1 << (PRECISION_BITS - 1))

// Pillow's clip8: the sum shifted down, clamped to 0..255.
__device__ __forceinline__ unsigned char clip8(int sum)
{
    const int value = sum >> PRECISION_BITS;
    return (unsigned char)(value < 0 ? 0 : (value > 255 ? 255 : value));
}

extern "C" __global__ void resize_horizontal(const ResizeJob* __restrict__ jobs, const int* __restrict__ tables, int outWidth)
{
    const ResizeJob& job = jobs[blockIdx.y];
    const int* first = tables + job.horizontalTaps;
    const int* count = first + outWidth;
    const int* weights = count + outWidth;
    const long long total = (long long)job.rowCount * outWidth;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += (long long)gridDim.x * blockDim.x)
    {
        const int row = (int)(k / outWidth);
        const int x = (int)(k - (long long)row * outWidth);
        const int n = count[x];
        int r = ROUNDING_HALF, g = ROUNDING_HALF, b = ROUNDING_HALF;
        if (n > 0)
        {
            const int* w = weights + (long long)x * job.horizontalMaxTaps;
            const unsigned char* in = job.source + (long long)(job.rowStart + row) * job.sourcePitch + (long long)first[x] * 3;
            for (int t = 0; t < n; t++)
            {
                const int weight = w[t];
                r += in[3 * t] * weight;
                g += in[3 * t + 1] * weight;
                b += in[3 * t + 2] * weight;
            }
        }
        unsigned char* out = job.intermediate + k * 3;
        out[0] = clip8(r);
        out[1] = clip8(g);
        out[2] = clip8(b);
    }
}

// Writes one channel value. The float math is a separate multiply and add, each rounded to nearest
// (no fused multiply-add), as the CPU path computes pixel * scale + bias in single precision.
__device__ __forceinline__ void store(unsigned char* row, int elementType, long long index, unsigned char pixel, float scale, float bias)
{
    if (elementType == ELEMENT_UINT8)
    {
        row[index] = pixel;
        return;
    }
    const float value = __fadd_rn(__fmul_rn((float)pixel, scale), bias);
    if (elementType == ELEMENT_FLOAT32)
        ((float*)row)[index] = value;
    else
        ((__half*)row)[index] = __float2half_rn(value);
}

extern "C" __global__ void resize_vertical_write(const ResizeJob* __restrict__ jobs, const int* __restrict__ tables,
    int outWidth, int outHeight, unsigned char* __restrict__ output, int layout, int elementType, int bgr,
    float scale0, float scale1, float scale2, float bias0, float bias1, float bias2)
{
    const ResizeJob& job = jobs[blockIdx.y];
    const int* first = tables + job.verticalTaps;
    const int* count = first + outHeight;
    const int* weights = count + outHeight;
    const long long rowBytes = (long long)outWidth * 3;
    const int plane = outWidth * outHeight;
    unsigned char* row = output + job.outputOffset;
    for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < plane; k += gridDim.x * blockDim.x)
    {
        const int y = k / outWidth;
        const int x = k - y * outWidth;
        const int n = count[y];
        int r = ROUNDING_HALF, g = ROUNDING_HALF, b = ROUNDING_HALF;
        if (n > 0)
        {
            const int* w = weights + (long long)y * job.verticalMaxTaps;
            const unsigned char* in = job.intermediate + (long long)(first[y] - job.rowStart) * rowBytes + (long long)x * 3;
            for (int t = 0; t < n; t++)
            {
                const int weight = w[t];
                const unsigned char* p = in + t * rowBytes;
                r += p[0] * weight;
                g += p[1] * weight;
                b += p[2] * weight;
            }
        }
        const unsigned char red = clip8(r), green = clip8(g), blue = clip8(b);
        const unsigned char c0 = bgr ? blue : red;
        const unsigned char c2 = bgr ? red : blue;
        if (layout == LAYOUT_NCHW)
        {
            store(row, elementType, k, c0, scale0, bias0);
            store(row, elementType, (long long)plane + k, green, scale1, bias1);
            store(row, elementType, 2LL * plane + k, c2, scale2, bias2);
        }
        else
        {
            const long long at = (long long)k * 3;
            store(row, elementType, at, c0, scale0, bias0);
            store(row, elementType, at + 1, green, scale1, bias1);
            store(row, elementType, at + 2, c2, scale2, bias2);
        }
    }
}
