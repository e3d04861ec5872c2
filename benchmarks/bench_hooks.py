"""What does looking inside cost? Training with chapter 7's statistics hooks next to training without.

Trains the chapter's third CNN (`conv_layer` with `GeneralRelu(leak=0.1, sub=0.4, maxv=6)`,
filters 16-32-64-64-64, Kaiming init, batches of 32, as in the notebook) on the MNIST digits with
the chapter's `Runner`, twice per repetition: once plain, and once inside `with Hooks(model, partial(append_stats, lo=-7, hi=7))`, which records
on every layer of the model, at every training batch, the mean, the std and a 40-bin histogram of
its output (detached, on the CPU). Both runs start from the same weights and see the same batches;
they are timed interleaved, so both see the same machine load. The script prints the median time
with hooks divided by the median time without, measured in one run. Target: at most 1.25.

    python benchmarks/bench_hooks.py                      # 1 epoch, 7 repetitions, batch size 32
    python benchmarks/bench_hooks.py --repeats 11 --threads 0 --bs 32

By default PyTorch runs on one thread, and the ratio printed last is that of the CPU time this
process used (`time.process_time`), which other programs on a busy machine do not inflate; with
`--threads N` (N > 1) or `--threads 0` it is the wall-clock ratio. Both are printed.
`--device cuda` trains on a GPU (through chapter 6's `DeviceCallback`) and prints the wall-clock
ratio, waiting for the GPU before each clock reading.

The hooks' cost per layer and batch is a mean, a std (`mean_std`) and a histogram (`fast_histc`) of
the activation, a few passes over memory the forward pass has just written, against the
convolutions' forward and backward passes; on a GPU each recorded batch also copies the activation to the CPU.
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
from solutions.ch07_hooks import Hooks, append_stats, conv_layer, init_cnn  # noqa: E402

TARGET = 1.25
NFS = [16, 32, 64, 64, 64]  # the chapter's model
RELU = dict(leak=0.1, sub=0.4, maxv=6.0)


def train_once(model0, data, epochs: int, lr: float, hooked: bool, device: torch.device):
    """(wall seconds, CPU seconds) of `epochs` of training a copy of `model0`, with or without the hooks."""
    model = copy.deepcopy(model0)  # DeviceCallback moves it to `device` in place
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=lr), torch.nn.functional.cross_entropy, data)
    run = Runner(cb_funcs=[partial(DeviceCallback, device), partial(BatchTransformXCallback, view_tfm(1, 28, 28))])
    torch.manual_seed(0)  # the same shuffled batches for both
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    sync()
    wall, cpu = time.perf_counter(), time.process_time()
    if hooked:
        with Hooks(model, partial(append_stats, lo=-7, hi=7)) as hooks:
            run.fit(epochs, learn)
        n_recorded = len(hooks[0].stats[0])
        assert n_recorded == epochs * len(data.train_dl), f"hooks recorded {n_recorded} batches"
    else:
        run.fit(epochs, learn)
    sync()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--bs", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0 keeps PyTorch's default")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = mnist_databunch(bs=args.bs)
    torch.manual_seed(0)
    model0 = init_cnn(get_cnn_model(data, NFS, conv_layer, **RELU), a=RELU["leak"])
    train_once(model0, data, 1, args.lr, True, device)  # warm-up: allocator, kernels, caches
    plain, hooked = [], []
    for i in range(args.repeats):
        order = (False, True) if i % 2 == 0 else (True, False)
        for with_hooks in order:
            (hooked if with_hooks else plain).append(train_once(model0, data, args.epochs, args.lr, with_hooks, device))
    wall = statistics.median(t for t, _ in hooked) / statistics.median(t for t, _ in plain)
    cpu = statistics.median(c for _, c in hooked) / statistics.median(c for _, c in plain)
    print(f"{args.epochs} epoch(s) of {len(data.train_dl)} batches of {args.bs}, {args.repeats} repetitions, "
          f"{torch.get_num_threads()} thread(s), on {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'the CPU'}")
    print(f"median without hooks: {statistics.median(t for t, _ in plain):.3f} s wall, "
          f"{statistics.median(c for _, c in plain):.3f} s CPU")
    print(f"median with hooks:    {statistics.median(t for t, _ in hooked):.3f} s wall, "
          f"{statistics.median(c for _, c in hooked):.3f} s CPU")
    print(f"wall-clock ratio (hooks / no hooks): {wall:.3f}")
    ratio = wall if args.threads != 1 or device.type != "cpu" else cpu
    print(f"time ratio (hooks / no hooks): {ratio:.3f}  (target <= {TARGET})")
    return ratio


if __name__ == "__main__":
    main()
