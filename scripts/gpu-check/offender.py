"""The GPU check's offender (docs/gpu-check.md): a CUDA process that takes
VRAM it was not given. Allocates --gib GiB on cuda:0 with torch.empty,
touches it, prints one line `ready pid=<pid> bytes=<n>` and holds the
memory until it is signalled. With --ignore-term it ignores SIGTERM, so
only SIGKILL ends it.

Exit 3 when PyTorch or CUDA is missing, 4 when the allocation fails.
"""

import argparse
import os
import signal
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--ignore-term", action="store_true")
    args = parser.parse_args()
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        import torch
    except ImportError as error:
        print(f"offender: PyTorch is not installed ({error})", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("offender: PyTorch sees no CUDA device", file=sys.stderr)
        return 3
    size_bytes = int(args.gib * 2**30)
    try:
        held = torch.empty(size_bytes, dtype=torch.uint8, device="cuda:0")
        held.fill_(1)
        torch.cuda.synchronize()
    except RuntimeError as error:
        print(f"offender: allocating {size_bytes} bytes failed: {error}", file=sys.stderr)
        return 4
    print(f"ready pid={os.getpid()} bytes={size_bytes}", flush=True)
    while held is not None:
        time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
