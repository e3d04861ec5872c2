"""What does looking inside cost? Chapter 7's CNN trained plain, and with `StatsCallback` recording.

Trains the chapter's third CNN (`conv_layer` with `GeneralRelu(leak=0.1, sub=0.4, maxv=6)`, filters
16-32-64-64-64, Kaiming init, batches of 32, as in the notebook) on the MNIST digits with the chapter's
`Runner`, three ways per repetition, interleaved so that all three see the same machine load and start
from the same weights and batches:

- plain;
- with `StatsCallback(lo=-7, hi=7)`: at every training batch, the exact mean, std, 40-bin histogram and
  near-floor share of the output of every module that has parameters (the five convolution blocks and the
  linear head), kept in tensors on the device;
- with `StatsCallback(every=10, lo=-7, hi=7)`: the same on every 10th batch, and no hook at all on the others.

Each repetition gives two ratios, (with statistics) / (plain) of that repetition's CPU times; the script
prints their minimum, median and maximum over the repetitions, the spread of the plain runs themselves, and a
95% interval for the median (benchmarks/measure.py): a target is met only when the whole interval is below it. Targets, on one thread of a 2-core
machine: every batch at most 1.35, every 10th batch at most 1.05.

    python benchmarks/bench_hooks.py                      # 1 epoch, 21 repetitions, batch size 32
    python benchmarks/bench_hooks.py --repeats 15 --epochs 2
    python benchmarks/bench_hooks.py --device cuda        # wall clock, one synchronisation per timing

By default PyTorch runs on one thread and the ratios are those of the CPU time this process used
(`time.process_time`), which other programs on a busy machine do not inflate; with `--threads 0` (PyTorch's
default) or `--device cuda` they are wall-clock ratios. The script prints its figures and exits 0 whether or
not a target is met.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.ch05_learner import Learner, Runner  # noqa: E402
from solutions.ch06_cnn import (BatchTransformXCallback, DeviceCallback, get_cnn_model, mnist_databunch,  # noqa: E402
                                view_tfm)
from solutions.ch07_hooks import StatsCallback, conv_layer, init_cnn  # noqa: E402

from measure import verdict  # noqa: E402  (benchmarks/measure.py)

TARGETS = {"every batch, all statistics": 1.35, "every 10th batch": 1.05}
NFS = [16, 32, 64, 64, 64]  # the chapter's model
RELU = dict(leak=0.1, sub=0.4, maxv=6.0)
WAYS = {"plain": None, "every batch, all statistics": 1, "every 10th batch": 10}


def train_once(model0, data, epochs: int, lr: float, every: int | None, device: torch.device, wall_clock: bool):
    """Seconds (CPU, or wall clock) of `epochs` of training a copy of `model0`, with or without statistics."""
    model = copy.deepcopy(model0)  # DeviceCallback moves it to `device` in place
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=lr), torch.nn.functional.cross_entropy, data)
    cbs = [partial(DeviceCallback, device), partial(BatchTransformXCallback, view_tfm(1, 28, 28))]
    if every is not None:
        cbs.append(partial(StatsCallback, every=every, lo=-7, hi=7))
    run = Runner(cb_funcs=cbs)
    torch.manual_seed(0)  # the same shuffled batches for every way
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    sync()
    start = time.perf_counter() if wall_clock else time.process_time()
    run.fit(epochs, learn)
    sync()
    seconds = (time.perf_counter() if wall_clock else time.process_time()) - start
    if every is not None:
        expected = -(-epochs * len(data.train_dl) // every)
        assert len(run.stats.iters) == expected, f"recorded {len(run.stats.iters)} batches, expected {expected}"
    return seconds


def spread(values) -> str:
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--bs", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0 keeps PyTorch's default")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    wall_clock = args.threads != 1 or device.type != "cpu"
    data = mnist_databunch(bs=args.bs)
    torch.manual_seed(0)
    model0 = init_cnn(get_cnn_model(data, NFS, conv_layer, **RELU), a=RELU["leak"])
    for every in WAYS.values():  # warm-up: allocator, kernels, caches
        train_once(model0, data, 1, args.lr, every, device, wall_clock)
    times = {way: [] for way in WAYS}
    for rep in range(args.repeats):
        order = list(WAYS.items())
        order = order[rep % len(order):] + order[:rep % len(order)]  # rotate who goes first
        for way, every in order:
            times[way].append(train_once(model0, data, args.epochs, args.lr, every, device, wall_clock))
    clock = "wall-clock" if wall_clock else "CPU"
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "the CPU"
    print(f"{args.epochs} epoch(s) of {len(data.train_dl)} batches of {args.bs}, {args.repeats} repetitions, "
          f"{torch.get_num_threads()} thread(s), on {where}; {clock} seconds")
    plain = times["plain"]
    print(f"plain runs: {spread(plain)} s  (spread {(max(plain) - min(plain)) / statistics.median(plain):.1%} "
          "of the median)")
    ratios = {}
    for way, target in TARGETS.items():
        per_rep = [t / p for t, p in zip(times[way], plain)]
        ratios[way] = statistics.median(per_rep)
        print(f"ratio ({way}): {ratios[way]:.3f}  [{spread(per_rep)} over the repetitions]")
        print(f"    {verdict(per_rep, target)}")
    return ratios


if __name__ == "__main__":
    main()
