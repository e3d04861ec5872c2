"""What do chapter 5's callbacks cost? The `Runner` next to the plain PyTorch loop it replaces.

Two measurements, each made of repetitions in which the plain loop and the `Runner` are timed back to
back (in alternating order, so both see the same machine load), after a warm-up:

1. **The chapter's model.** The small MNIST model (784 -> 50 -> ReLU -> 10, SGD, batches of 64) trained
   once by a hand-written loop and once by `Runner` with the chapter's usual callbacks
   (`TrainEvalCallback`, `AvgStatsCallback([accuracy])`, `Recorder`, and a `ParamScheduler` running a
   one-cycle cosine learning rate). The plain loop does the same work by hand: it sets the learning rate
   from the same schedule before every batch, averages loss and accuracy weighted by batch size in
   training and validation, and records every training batch's learning rate and loss. Printed: the
   ratio Runner / plain of each repetition, as min / median / max, and the spread of the plain runs
   themselves. Target: a median of at most 1.05.
2. **The dispatch overhead.** The same two loops on a tiny model (4 inputs -> 2 outputs, batches of 8),
   where a batch's arithmetic costs almost nothing and the time per batch is the loop's own: what the
   Runner adds per batch (its event dispatches, attribute look-ups and callback calls), in microseconds,
   min / median / max over the repetitions. For scale: PyTorch Lightning documents an overhead of about
   0.06 s per MNIST epoch over a plain loop, roughly 60 us per batch.

    python benchmarks/bench_runner.py                      # 2 epochs, 25 repetitions
    python benchmarks/bench_runner.py --repeats 25 --threads 0

By default PyTorch runs on one thread and the times are the CPU time of this process
(`time.process_time`), which other programs on a busy machine do not inflate; with `--threads N` (N > 1)
or `--threads 0` they are wall-clock times. The script prints its figures and exits 0 whether or not
the target is met; the target is in the printed line.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn, optim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.ch05_learner import (AvgStatsCallback, DataBunch, Dataset, Learner, ParamScheduler,  # noqa: E402
                                    Recorder, Runner, accuracy, combine_scheds, cos_1cycle_anneal, get_dls,
                                    get_model)
from solutions.data import load_mnist  # noqa: E402

from measure import median_interval, verdict  # noqa: E402  (benchmarks/measure.py)

TARGET = 1.05


def mnist_data(bs: int) -> DataBunch:
    x_train, y_train, x_valid, y_valid = load_mnist()
    return DataBunch(*get_dls(Dataset(x_train, y_train), Dataset(x_valid, y_valid), bs), c_out=10)


def tiny_data(bs: int, n_train: int = 4000, n_valid: int = 1000) -> DataBunch:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_train + n_valid, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    return DataBunch(*get_dls(Dataset(x[:n_train], y[:n_train]), Dataset(x[n_train:], y[n_train:]), bs), c_out=2)


def tiny_model(data):
    model = nn.Sequential(nn.Linear(data.train_ds.x.shape[1], data.c_out))
    return model, optim.SGD(model.parameters(), lr=0.1)


def schedule():
    return combine_scheds([0.3, 0.7], cos_1cycle_anneal(0.1, 0.6, 0.05))


def plain_fit(epochs: int, data: DataBunch, seed: int, model_func=get_model) -> list[float]:
    """The loop of the chapter's start, doing by hand what the callbacks do. Returns the last valid stats."""
    torch.manual_seed(seed)
    model, opt = model_func(data)
    sched = schedule()
    lrs, losses = [], []
    n_iter, iters = 0, len(data.train_dl)
    for epoch in range(epochs):
        model.train()
        tot = [0., 0., 0]  # loss, accuracy, count
        for xb, yb in data.train_dl:
            for pg in opt.param_groups:
                pg["lr"] = sched(n_iter / iters / epochs)
            pred = model(xb)
            loss = F.cross_entropy(pred, yb)
            with torch.no_grad():
                bn = xb.shape[0]
                tot = [tot[0] + loss.detach() * bn, tot[1] + accuracy(pred, yb).detach() * bn, tot[2] + bn]
            loss.backward()
            opt.step()
            opt.zero_grad()
            lrs.append(opt.param_groups[-1]["lr"])
            losses.append(loss.detach().item())
            n_iter += 1
        train_stats = [float(tot[0]) / tot[2], float(tot[1]) / tot[2]]
        model.eval()
        tot = [0., 0., 0]
        with torch.no_grad():
            for xb, yb in data.valid_dl:
                pred = model(xb)
                loss = F.cross_entropy(pred, yb)
                bn = xb.shape[0]
                tot = [tot[0] + loss.detach() * bn, tot[1] + accuracy(pred, yb).detach() * bn, tot[2] + bn]
        valid_stats = [float(tot[0]) / tot[2], float(tot[1]) / tot[2]]
        _ = f"epoch {epoch + 1}  train: {train_stats}  |  valid: {valid_stats}"  # what the callback logs
    return valid_stats


def runner_fit(epochs: int, data: DataBunch, seed: int, model_func=get_model) -> list[float]:
    torch.manual_seed(seed)
    learn = Learner(*model_func(data), F.cross_entropy, data)
    run = Runner(cb_funcs=[partial(AvgStatsCallback, [accuracy]), Recorder,
                           partial(ParamScheduler, "lr", schedule())])
    run.logger = lambda line: None
    run.fit(epochs, learn)
    return run.avg_stats.valid_stats.avg_stats


def spread(values, fmt=".3f") -> str:
    return f"min {min(values):{fmt}}  median {statistics.median(values):{fmt}}  max {max(values):{fmt}}"


def paired_times(epochs, data, model_func, repeats, clock):
    """[(plain seconds, Runner seconds)] per repetition, after one warm-up pair; the two agree on the result."""
    plain_stats, runner_stats = plain_fit(1, data, 1, model_func), runner_fit(1, data, 1, model_func)
    if not all(abs(a - b) < 1e-4 for a, b in zip(plain_stats, runner_stats)):
        raise SystemExit(f"the two loops disagree: plain {plain_stats}, Runner {runner_stats}")
    pairs = []
    for rep in range(repeats):
        times = {}
        order = [("plain", plain_fit), ("runner", runner_fit)]
        for name, fn in order if rep % 2 == 0 else order[::-1]:
            start = clock()
            fn(epochs, data, rep, model_func)
            times[name] = clock() - start
        pairs.append((times["plain"], times["runner"]))
    return pairs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0: PyTorch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    clock, clock_name = ((time.process_time, "CPU") if args.threads == 1 else (time.perf_counter, "wall-clock"))
    print(f"{torch.get_num_threads()} thread(s), {clock_name} time, {args.repeats} repetitions of "
          f"{args.epochs} epochs each way")

    data = mnist_data(64)
    n_batches = args.epochs * (len(data.train_dl) + len(data.valid_dl))
    pairs = paired_times(args.epochs, data, get_model, args.repeats, clock)
    plain = [p for p, _ in pairs]
    print(f"\nthe chapter's model, {n_batches} batches per run (training and validation, batches of 64)")
    print(f"  plain loop: {spread([p * 1e3 for p in plain], '.1f')} ms  "
          f"(spread {(max(plain) - min(plain)) / statistics.median(plain):.1%} of the median)")
    ratios = [r / p for p, r in pairs]
    print(f"  ratio Runner / plain: {spread(ratios)}")
    print(f"    {verdict(ratios, TARGET)}")

    tiny = tiny_data(8)
    n_tiny = args.epochs * (len(tiny.train_dl) + len(tiny.valid_dl))
    pairs = paired_times(args.epochs, tiny, tiny_model, args.repeats, clock)
    per_batch = [(p / n_tiny * 1e6) for p, _ in pairs]
    overhead = [((r - p) / n_tiny * 1e6) for p, r in pairs]
    print(f"\na tiny model (4 -> 2, batches of 8), {n_tiny} batches per run: the dispatch is what is timed")
    print(f"  plain loop per batch: {spread(per_batch, '.1f')} us")
    low, high = median_interval(overhead)
    print(f"  the Runner adds per batch: {spread(overhead, '+.1f')} us, 95% interval of the median "
          f"[{low:+.1f}, {high:+.1f}] us  (median {statistics.median(r / p for p, r in pairs):.2f}x the plain loop's time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
