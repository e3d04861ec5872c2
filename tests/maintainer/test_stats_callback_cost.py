"""Chapter 7's `StatsCallback` keeps its statistics on the model's device: no `.item()`, `.cpu()` or other
copy to the host per batch, so on a GPU nothing waits for the GPU while it records.

Counted here on any machine: every call that copies a tensor's values to the host (a TorchFunctionMode sees
each one, however it is reached) during a fit. The count must not grow with the number of batches. The test
marked `cuda` repeats it on a GPU, with the gradient and update statistics too.
"""
import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from solutions.ch05_learner import DataBunch, Dataset, Learner, Runner, get_dls
from solutions.ch06_cnn import DeviceCallback
from solutions.ch07_hooks import StatsCallback

HOST_COPIES = {torch.Tensor.item, torch.Tensor.cpu, torch.Tensor.tolist, torch.Tensor.numpy, torch.Tensor.__float__,
               torch.Tensor.__int__, torch.Tensor.__bool__, torch.Tensor.__index__}


class CountHostCopies(TorchFunctionMode):
    """Counts the calls that bring a tensor's values to the host (from the device, if it is elsewhere)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in HOST_COPIES or (func is torch.Tensor.to and _to_host(args, kwargs or {})):
            self.count += 1
        return func(*args, **(kwargs or {}))


def _to_host(args, kwargs) -> bool:
    target = kwargs.get("device", args[1] if len(args) > 1 else None)
    return isinstance(args[0], torch.Tensor) and args[0].device.type != "cpu" and str(target).startswith("cpu")


def fit_with_stats(n_batches: int, device: str, every: int = 1, **kwargs) -> tuple[int, StatsCallback]:
    """Host copies made while fitting a small CNN for one epoch of `n_batches` with StatsCallback recording."""
    torch.manual_seed(0)
    bs = 4
    x, y = torch.randn(n_batches * bs, 2, 8, 8), torch.randint(0, 3, (n_batches * bs,))
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x[:bs], y[:bs]), bs=bs), c_out=3)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, stride=2), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
    stats = StatsCallback(every=every, **kwargs)
    run = Runner(cbs=[DeviceCallback(device), stats])
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data)
    counter = CountHostCopies()
    with counter:
        run.fit(1, learn)
    return counter.count, stats


@pytest.mark.parametrize("options", [{}, {"grads": True, "updates": True}, {"saturation": 0.9}],
                         ids=["activations", "gradients and updates", "saturation"])
def test_recording_makes_no_host_copy_per_batch(options):
    few, _ = fit_with_stats(5, "cpu", **options)
    many, stats = fit_with_stats(20, "cpu", **options)
    assert len(stats.iters) == 20, stats.iters
    assert many == few, (f"StatsCallback({options}) copied values to the host {few} times in a fit of 5 batches and "
                         f"{many} times in one of 20: it reads something back on every batch")


def test_the_counter_sees_a_copy_per_batch():
    """The counter itself: a loop that reads its loss back every batch is counted once per batch."""
    counter = CountHostCopies()
    with counter:
        for _ in range(7):
            torch.ones(3).sum().item()
    assert counter.count == 7


@pytest.mark.cuda
def test_recording_on_a_gpu_stays_on_the_gpu():
    few, _ = fit_with_stats(5, "cuda", grads=True, updates=True)
    many, stats = fit_with_stats(20, "cuda", grads=True, updates=True)
    assert len(stats.iters) == 20, stats.iters
    assert many == few, f"on the GPU, {few} host copies for 5 batches and {many} for 20: something waits per batch"
    assert all(value.device.type == "cpu" for value in stats.stats.values()), "after the fit, one copy to the CPU"
