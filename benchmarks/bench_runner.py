"""What do chapter 5's callbacks cost? The `Runner` next to the plain PyTorch loop it replaces.

Trains the chapter's small MNIST model (784 -> 50 -> ReLU -> 10, SGD) on the same data twice per
repetition: once with a hand-written loop and once with `Runner` and the chapter's usual callbacks
(`TrainEvalCallback`, `AvgStatsCallback([accuracy])`, `Recorder`, and a `ParamScheduler` running a
one-cycle cosine learning rate). The plain loop does the same work by hand: it sets the learning
rate from the same schedule before every batch, averages loss and accuracy weighted by batch size
in training and validation, and records every training batch's learning rate and loss. The two are
timed interleaved, so both see the same machine load, and the script prints the median time of
the Runner divided by the median time of the plain loop, measured in one run. Target: at most 1.05.

    python benchmarks/bench_runner.py                      # 2 epochs, 9 repetitions, batch size 64
    python benchmarks/bench_runner.py --repeats 15 --threads 0 --bs 32

By default PyTorch runs on one thread, and the ratio printed last is that of the CPU time this
process used (`time.process_time`), which other programs on a busy machine do not inflate; with
`--threads N` (N > 1) or `--threads 0` it is the wall-clock ratio. Both are printed. What the Runner adds per batch is about
ten event dispatches; each looks up a list (built once per fit) of the callbacks that define that
event, so an event nobody listens to costs one dictionary look-up.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from solutions.ch05_learner import (AvgStatsCallback, DataBunch, Dataset, Learner, ParamScheduler,  # noqa: E402
                                    Recorder, Runner, accuracy, combine_scheds, cos_1cycle_anneal, get_dls,
                                    get_model)
from solutions.data import load_mnist  # noqa: E402

TARGET = 1.05


def make_data(bs: int) -> DataBunch:
    x_train, y_train, x_valid, y_valid = load_mnist()
    return DataBunch(*get_dls(Dataset(x_train, y_train), Dataset(x_valid, y_valid), bs), c_out=10)


def schedule():
    return combine_scheds([0.3, 0.7], cos_1cycle_anneal(0.1, 0.6, 0.05))


def plain_fit(epochs: int, data: DataBunch, seed: int) -> list[float]:
    """The loop of the chapter's start, doing by hand what the callbacks do. Returns the last valid stats."""
    torch.manual_seed(seed)
    model, opt = get_model(data)
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


def runner_fit(epochs: int, data: DataBunch, seed: int) -> list[float]:
    torch.manual_seed(seed)
    learn = Learner(*get_model(data), F.cross_entropy, data)
    run = Runner(cb_funcs=[partial(AvgStatsCallback, [accuracy]), Recorder,
                           partial(ParamScheduler, "lr", schedule())])
    run.logger = lambda line: None
    run.fit(epochs, learn)
    return run.avg_stats.valid_stats.avg_stats


def timed(fn, *args) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0: PyTorch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = make_data(args.bs)

    # Same seed, same shuffling: both loops must reach the same numbers.
    torch.manual_seed(0)
    plain_stats = plain_fit(1, data, seed=1)
    torch.manual_seed(0)
    runner_stats = runner_fit(1, data, seed=1)
    if not all(abs(a - b) < 1e-4 for a, b in zip(plain_stats, runner_stats)):
        raise SystemExit(f"the two loops disagree: plain {plain_stats}, Runner {runner_stats}")

    plain, runner = [], []
    for rep in range(args.repeats):
        # Alternate which goes first, so neither always gets the warmer cache.
        pair = [(plain, plain_fit), (runner, runner_fit)]
        for times, fn in pair if rep % 2 == 0 else pair[::-1]:
            torch.manual_seed(rep)
            times.append(timed(fn, args.epochs, data, rep))
    n_batches = args.epochs * (len(data.train_dl) + len(data.valid_dl))
    print(f"{args.repeats} repetitions of {args.epochs} epochs ({n_batches} batches of {args.bs}), "
          f"{torch.get_num_threads()} thread(s)")
    ratios = {}
    for i, clock in enumerate(["wall-clock", "CPU"]):
        p, r = statistics.median(t[i] for t in plain), statistics.median(t[i] for t in runner)
        ratios[clock] = r / p
        print(f"{clock:>10}: plain loop median {p * 1e3:7.1f} ms, Runner median {r * 1e3:7.1f} ms, "
              f"{(r - p) / n_batches * 1e6:+6.1f} us per batch, ratio {r / p:.3f}")
    # With one thread, the process's CPU time is the work done, whatever else the machine runs; the
    # wall clock also counts the time other programs held the CPU.
    ratio = ratios["CPU" if args.threads == 1 else "wall-clock"]
    print(f"median time ratio Runner/plain: {ratio:.3f}  (target <= {TARGET}: {'ok' if ratio <= TARGET else 'MISSED'})")
    return ratio


if __name__ == "__main__":
    main()
