// The GPU check's offender without PyTorch (docs/gpu-check.md): allocates
// the given GiB on device 0 with cudaMalloc, touches it, prints
// `ready pid=<pid> bytes=<n>` and holds the memory until it is signalled;
// a second argument `--ignore-term` makes it ignore SIGTERM.
// Build: nvcc -o offender offender.cu. Exit 4 when the allocation fails.
#include <cuda_runtime.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  double gib = argc > 1 ? atof(argv[1]) : 2.0;
  if (argc > 2 && strcmp(argv[2], "--ignore-term") == 0) signal(SIGTERM, SIG_IGN);
  size_t size_bytes = (size_t)(gib * 1073741824.0);
  void *held = NULL;
  cudaError_t status = cudaMalloc(&held, size_bytes);
  if (status == cudaSuccess) status = cudaMemset(held, 1, size_bytes);
  if (status == cudaSuccess) status = cudaDeviceSynchronize();
  if (status != cudaSuccess) {
    fprintf(stderr, "offender: allocating %zu bytes failed: %s\n", size_bytes,
            cudaGetErrorString(status));
    return 4;
  }
  printf("ready pid=%d bytes=%zu\n", (int)getpid(), size_bytes);
  fflush(stdout);
  for (;;) pause();
}
