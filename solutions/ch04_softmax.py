"""Chapter 4: softmax, log-softmax, cross-entropy, and when a sigmoid per class is the right choice.

Reference solutions. The code between `# BEGIN SOLUTION` and `# END SOLUTION` is what the learner
writes; `python -m grader make-exercises` turns each such region into a `NotImplementedError`.

Every logarithm here is natural (base e), as in PyTorch. A spreadsheet's `LOG` is base 10: use `LN`.
"""
from __future__ import annotations

import torch
from torch import Tensor

REDUCTIONS = ("mean", "sum", "none")


def naive_log_softmax(x: Tensor) -> Tensor:
    """The textbook formula `x - log(sum(exp(x)))` over the last dim, with no protection at all.

    It is here to be shown failing: `exp` overflows to inf for logits around 89 in float32 and
    around 710 in float64, and `inf - inf` is nan. Use `log_softmax` instead.
    """
    return x - x.exp().sum(-1, keepdim=True).log()


def reduce_loss(losses: Tensor, reduction: str) -> Tensor:
    """Apply a loss reduction: 'mean' (the average), 'sum' or 'none' (the losses as they are)."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax along `dim`: `exp(x_i) / sum_j exp(x_j)`, computed without overflow.

    `x` is a float tensor of any shape, left unchanged; the result has the same shape and dtype, is
    non-negative (an entry far below the maximum underflows to 0), and
    sums to 1 along `dim`. Subtract the maximum along `dim` first: softmax does not change when
    the same constant is added to every input, and `exp` of a number <= 0 cannot overflow.
    Do not call `torch.softmax` or `F.softmax` (they are the tests' oracle).

    >>> softmax(torch.tensor([[1000.0, 1000.0], [1.0, 2.0]]))
    tensor([[0.5000, 0.5000],
            [0.2689, 0.7311]])

    Book: chapter 4, "Softmax".
    """
    # BEGIN SOLUTION
    shifted = x - x.amax(dim=dim, keepdim=True)
    exps = shifted.exp()
    return exps / exps.sum(dim=dim, keepdim=True)
    # END SOLUTION


def logsumexp(x: Tensor, dim: int = -1, keepdim: bool = False) -> Tensor:
    """`log(sum(exp(x)))` along `dim`, computed stably with the log-sum-exp trick.

    With `m = max(x)` along `dim`: `log sum_j exp(x_j) = m + log sum_j exp(x_j - m)`.
    `x` is a float tensor of any shape. The result drops `dim` (or keeps it with size 1 when
    `keepdim=True`), like `torch.logsumexp`. Entries equal to -inf (masked out) contribute nothing;
    a slice that is entirely -inf gives -inf, not nan. Do not call `torch.logsumexp` (the tests' oracle).

    >>> logsumexp(torch.tensor([[100.0, 100.0], [0.0, float('-inf')]]))
    tensor([100.6931,   0.0000])

    Book: chapter 4, "The log-sum-exp trick".
    """
    # BEGIN SOLUTION
    m = x.amax(dim=dim, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()
    result = m + (x - m).exp().sum(dim=dim, keepdim=True).log()
    return result if keepdim else result.squeeze(dim)
    # END SOLUTION


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """The logarithm of `softmax(x, dim)`, computed stably: `x - logsumexp(x)` along `dim`.

    `x` is a float tensor of any shape; the result has the same shape and dtype, and its `exp()`
    sums to 1 along `dim`. Never take `softmax(x).log()`: a probability that underflows to 0 gives
    -inf. Do not call `torch.log_softmax` or `F.log_softmax` (they are the tests' oracle).

    >>> log_softmax(torch.tensor([[0.0, 0.0], [1000.0, 1000.0]]))
    tensor([[-0.6931, -0.6931],
            [-0.6931, -0.6931]])

    Book: chapter 4, "Log-softmax" and "The log-sum-exp trick".
    """
    # BEGIN SOLUTION
    shifted = x - x.amax(dim=dim, keepdim=True)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
    # END SOLUTION


def nll(log_probs: Tensor, targets: Tensor, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: minus the log-probability each row gives its target class.

    `log_probs`: float tensor of shape (n, c), e.g. the output of `log_softmax`.
    `targets`: int64 tensor of shape (n,) with class indices in [0, c).
    Pick one entry per row with integer-array indexing, `log_probs[range(n), targets]`, negate it,
    and reduce: 'mean' (a 0-dim tensor, the default), 'sum', or 'none' (shape (n,)). Any other
    `reduction` raises ValueError (use `reduce_loss`). Do not call `F.nll_loss` (the tests' oracle).

    >>> nll(torch.tensor([[-0.1, -2.3], [-1.6, -0.2]]), torch.tensor([0, 0]), reduction='none')
    tensor([0.1000, 1.6000])

    Book: chapter 4, "Negative log likelihood".
    """
    # BEGIN SOLUTION
    picked = log_probs[torch.arange(log_probs.shape[0]), targets]
    return reduce_loss(-picked, reduction)
    # END SOLUTION


def cross_entropy(logits: Tensor, targets: Tensor, reduction: str = "mean") -> Tensor:
    """Cross-entropy for single-label classification: `nll(log_softmax(logits), targets)`.

    `logits`: float tensor of shape (n, c), the model's raw outputs (pre-activations).
    `targets`: int64 tensor of shape (n,) with class indices. `reduction` as for `nll`.
    Matches `F.cross_entropy(logits, targets, reduction=...)`, and stays finite for logits in
    the thousands. Build it from your own `log_softmax` and `nll`, not from PyTorch's.

    >>> cross_entropy(torch.tensor([[0.0, 0.0], [1000.0, 998.0]]), torch.tensor([0, 1]), 'none')
    tensor([0.6931, 2.1269])

    Book: chapter 4, "Cross-entropy".
    """
    # BEGIN SOLUTION
    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)
    # END SOLUTION


def binary_cross_entropy_with_logits(logits: Tensor, targets: Tensor, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits: a sigmoid per entry, then `-(t log p + (1 - t) log(1 - p))`.

    `logits` and `targets` are float tensors of the same shape (any shape, e.g. (n, c) for n
    images and c independent "is there an X?" questions). Targets may be soft, anywhere in [0, 1].
    With `p = sigmoid(x)`, use `log p = -softplus(-x)` and `log(1 - p) = -softplus(x)`, which give
    the stable form `max(x, 0) - x * t + log(1 + exp(-|x|))`: finite for |x| = 100 and beyond.
    `reduction` as for `nll`. Matches `F.binary_cross_entropy_with_logits`, which you must not call.

    >>> binary_cross_entropy_with_logits(torch.tensor([100.0, -100.0, 0.0]),
    ...                                  torch.tensor([0.0, 1.0, 0.5]), reduction='none')
    tensor([100.0000, 100.0000,   0.6931])

    Book: chapter 4, "A sigmoid per class, and binary cross-entropy" (beyond the chapter: the stable form).
    """
    # BEGIN SOLUTION
    losses = logits.clamp(min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))
    return reduce_loss(losses, reduction)
    # END SOLUTION


def predict_single_label(logits: Tensor) -> tuple[Tensor, Tensor]:
    """For each row of logits, the most likely class and the softmax probability it gets.

    `logits`: float tensor of shape (n, c). Returns `(classes, confidences)`: an int64 tensor of
    shape (n,) (the argmax over classes) and a float tensor of shape (n,) with the softmax
    probability of that class, in (0, 1]. Use this when every input holds exactly one of the c
    classes.

    >>> predict_single_label(torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]]))
    (tensor([0, 2]), tensor([0.7870, 0.9867]))

    Book: chapter 4, "Softmax picks one thing" (beyond the chapter).
    """
    # BEGIN SOLUTION
    confidences, classes = softmax(logits, dim=-1).max(dim=-1)
    return classes, confidences
    # END SOLUTION


def predict_multi_label(logits: Tensor, threshold: float | Tensor = 0.5) -> Tensor:
    """Which classes are present: a sigmoid per class, then `probability > threshold`.

    `logits`: float tensor of shape (n, c), one independent logit per class. `threshold` is a
    probability in (0, 1): a float, or a tensor of shape (c,) with one threshold per class.
    Returns a bool tensor of shape (n, c). A row may have no True at all (nothing there) or
    several (many things there): that is what softmax cannot say.

    >>> predict_multi_label(torch.tensor([[3.0, 2.0, -4.0], [-3.0, -2.0, -5.0]]))
    tensor([[ True,  True, False],
            [False, False, False]])

    Book: chapter 4, "A sigmoid per class, and binary cross-entropy" (beyond the chapter).
    """
    # BEGIN SOLUTION
    return torch.sigmoid(logits) > torch.as_tensor(threshold, dtype=logits.dtype, device=logits.device)
    # END SOLUTION
