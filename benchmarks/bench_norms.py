"""How fast is chapter 8's from-scratch BatchNorm next to PyTorch's fused `nn.BatchNorm2d`?

Prints the median forward+backward time of the chapter's `BatchNorm` divided by that of
`nn.BatchNorm2d` (training mode, CNN-sized activations), with the chapter's layer run eagerly and under
`torch.compile`, each against `nn.BatchNorm2d` as PyTorch ships it (one fused kernel each way), measured
in one run, with the smallest and largest per-round ratio. Targets: eager at most 3.5, compiled at
most 1.0. The script prints its figures and exits 0 whether or not a target is met.

    python benchmarks/bench_norms.py                     # the default sizes
    python benchmarks/bench_norms.py --shape 64 32 14 14 --repeats 50 --threads 1

On a CPU that other programs are using, pass `--threads 1 --clock cpu`: PyTorch's worker threads
otherwise wait on each other, wall-clock time counts the moments the benchmark waits for a core, and
the timings say more about the machine's load than about the layers.

Eager mode runs the chapter's layer as a handful of separate kernels (mean and variance, subtract,
divide, multiply, add, and as many again backwards), each one reading and writing the whole
activation; `nn.BatchNorm2d` does it in one fused kernel each way. `torch.compile` fuses the
chapter's layer too. On the CPU it needs a C++ compiler (gcc or clang). The timing code lives in
`solutions/ch08_norms.py` (`batchnorm_speed_ratios`), where the book uses it too.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.ch08_norms import TIMING_CLOCKS, batchnorm_speed_ratios  # noqa: E402

from measure import verdict  # noqa: E402  (benchmarks/measure.py)

DEFAULT_SHAPE = (128, 32, 14, 14)  # a batch of 128 activation maps of 14 x 14 pixels with 32 channels
TARGETS = {"eager": 3.5, "compiled": 1.0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=4, default=DEFAULT_SHAPE, metavar=("N", "C", "H", "W"))
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--no-compile", action="store_true", help="measure eager mode only")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: its own choice)")
    parser.add_argument("--clock", choices=sorted(TIMING_CLOCKS), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, steadier on a busy machine "
                             "(use with --threads 1)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    result = batchnorm_speed_ratios(tuple(args.shape), args.repeats, compiled=not args.no_compile,
                                    device=args.device, clock=args.clock)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"input {tuple(args.shape)} on {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads, {args.clock} clock, {args.repeats} rounds of one forward+backward pass each, training mode")
    for name, value in result["times"].items():
        print(f"  {name:<14} {value * 1e3:8.3f} ms (median)")
    for mode in ("eager", "compiled"):
        ratio = result[mode]
        if ratio is None:
            continue
        low, high = result["spread"][mode]
        print(f"{mode:<9} ratio BatchNorm / nn.BatchNorm2d: min {low:5.2f}  median {ratio:5.2f}  max {high:5.2f} "
              "over the rounds")
        print(f"    {verdict(result['ratios'][mode], TARGETS[mode])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
