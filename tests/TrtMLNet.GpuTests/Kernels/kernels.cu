// Kernels for the GPU tests, loaded as PTX through the CUDA driver API (no CUDA runtime needed).
// Regenerate kernels.ptx after a change with:
//   nvcc -ptx -arch=compute_70 -o kernels.ptx kernels.cu
// (compute_70 PTX is JIT-compiled by the driver for any newer GPU, H100/H200 included.)

// Writes its own token over the whole scratch slab, holds the slab for spin_cycles (as a long layer
// would), then checks every word still holds the token. Another execution writing the same slab in
// that window leaves its token behind: each block that sees one counts a violation.
extern "C" __global__ void scratch_probe(unsigned long long* scratch, long long words, unsigned long long token,
                                         long long spin_cycles, unsigned int* violations)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    const long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    for (long long i = start; i < words; i += stride)
        scratch[i] = token;
    __threadfence();
    const long long begin = clock64();
    while (clock64() - begin < spin_cycles)
    {
    }
    __threadfence();
    for (long long i = start; i < words; i += stride)
    {
        if (scratch[i] != token)
        {
            atomicAdd(violations, 1u);
            break;
        }
    }
}

// y = x + 1, so a synthetic engine's outputs can be checked.
extern "C" __global__ void add_one(const float* x, float* y, long long n)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        y[i] = x[i] + 1.0f;
}
