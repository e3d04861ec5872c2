"""Plausible wrong versions of chapter 4's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # softmax
    Mutant("ch04.softmax", "no max shift: exp overflows for large logits",
           old="    shifted = x - x.amax(dim=dim, keepdim=True)\n    exps = shifted.exp()",
           new="    exps = x.exp()",
           learner="You exponentiate the logits as they are, so `exp` overflows to inf for large logits and the "
                   "result is nan; subtract the maximum along `dim` first, which does not change the softmax.",
           section="The log-sum-exp trick"),
    Mutant("ch04.softmax", "reduces over the last dim whatever `dim` says",
           old="    return exps / exps.sum(dim=dim, keepdim=True)",
           new="    return exps / exps.sum(dim=-1, keepdim=True)",
           learner="You normalise over the last dimension whatever `dim` says; sum the exponentials along `dim`.",
           section="Softmax"),
    Mutant("ch04.softmax", "missing keepdim, so the sum broadcasts along the wrong axis",
           old="    return exps / exps.sum(dim=dim, keepdim=True)",
           new="    return exps / exps.sum(dim=dim)",
           learner="You sum the exponentials without `keepdim=True`, so the sums broadcast against the wrong axis "
                   "(or not at all); keep the reduced dimension so that each entry is divided by its own slice's "
                   "sum.",
           section="Softmax"),
    Mutant("ch04.softmax", "shifts by the maximum of the whole tensor, which underflows rows far below it",
           old="    shifted = x - x.amax(dim=dim, keepdim=True)\n    exps = shifted.exp()",
           new="    shifted = x - x.max()\n    exps = shifted.exp()",
           learner="You subtract the maximum of the whole tensor, so in a row far below it every `exp` underflows "
                   "to 0 and the row becomes nan; subtract each slice's own maximum along `dim`.",
           section="The log-sum-exp trick"),
    Mutant("ch04.softmax", "subtracts the maximum in place, overwriting the caller's logits",
           old="    shifted = x - x.amax(dim=dim, keepdim=True)\n    exps = shifted.exp()",
           new="    shifted = x.sub_(x.amax(dim=dim, keepdim=True))\n    exps = shifted.exp()",
           learner="You subtract the maximum in place (x -= m, x.sub_(m)), which overwrites the caller's logits; "
                   "subtract it into a new tensor, x - m.",
           section="The log-sum-exp trick"),
    # logsumexp
    Mutant("ch04.logsumexp", "no max shift: log(sum(exp(x))) overflows to inf",
           old="    result = m + (x - m).exp().sum(dim=dim, keepdim=True).log()",
           new="    result = x.exp().sum(dim=dim, keepdim=True).log()",
           learner="You compute log(sum(exp(x))) directly, which overflows to inf for large inputs; subtract the "
                   "maximum m first and add it back: m + log(sum(exp(x - m))).",
           section="The log-sum-exp trick"),
    Mutant("ch04.logsumexp", "subtracts the maximum but forgets to add it back",
           old="    result = m + (x - m).exp().sum(dim=dim, keepdim=True).log()",
           new="    result = (x - m).exp().sum(dim=dim, keepdim=True).log()",
           learner="You subtract the maximum before exponentiating but forget to add it back to the result; "
                   "logsumexp(x) = m + log(sum(exp(x - m))).",
           section="The log-sum-exp trick"),
    Mutant("ch04.logsumexp", "ignores keepdim",
           old="    return result if keepdim else result.squeeze(dim)",
           new="    return result.squeeze(dim)",
           learner="You ignore `keepdim`, so the reduced dimension is always dropped; keep it with size 1 when "
                   "`keepdim=True`, as `torch.logsumexp` does.",
           section="The log-sum-exp trick"),
    Mutant("ch04.logsumexp", "takes the maximum over the wrong dim",
           old="    m = x.amax(dim=dim, keepdim=True)\n",
           new="    m = x.amax(dim=0, keepdim=True)\n",
           learner="You take the maximum over a fixed dimension instead of `dim`, so the shift is not each slice's "
                   "own maximum and the shapes go wrong; take it along the same `dim` as the sum.",
           section="The log-sum-exp trick"),
    Mutant("ch04.logsumexp", "no guard for an all -inf slice: -inf - -inf is nan",
           old="    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()\n",
           new="    m = m.detach()\n",
           learner="When a whole slice is -inf, its maximum is -inf and x - m is -inf - -inf, which is nan; shift "
                   "such a slice by 0 instead, so that its logsumexp is -inf.",
           section="The log-sum-exp trick"),
    # log_softmax
    Mutant("ch04.log_softmax", "the textbook formula with no max shift",
           old="    shifted = x - x.amax(dim=dim, keepdim=True)\n    return shifted - shifted.exp()",
           new="    shifted = x\n    return shifted - shifted.exp()",
           learner="You compute x - log(sum(exp(x))) without shifting by the maximum, so `exp` overflows for large "
                   "logits and the result is nan; subtract the maximum along `dim` first.",
           section="Where the textbook formula breaks"),
    Mutant("ch04.log_softmax", "missing keepdim on the sum",
           old="    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()",
           new="    return shifted - shifted.exp().sum(dim=dim).log()",
           learner="You subtract the log of the sum without `keepdim=True`, so it broadcasts against the wrong axis "
                   "(or not at all); keep the reduced dimension.",
           section="Log-softmax"),
    Mutant("ch04.log_softmax", "reduces over the last dim whatever `dim` says",
           old="    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()",
           new="    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()",
           learner="You sum over the last dimension whatever `dim` says; reduce along `dim`.",
           section="Log-softmax"),
    Mutant("ch04.log_softmax", "the log of softmax: a probability that underflows to 0 gives -inf",
           old="    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()",
           new="    return (shifted.exp() / shifted.exp().sum(dim=dim, keepdim=True)).log()",
           learner="You take the log of the softmax, so a probability that underflows to 0 gives -inf; compute "
                   "log-softmax directly, as the shifted logits minus the log of the sum of their exponentials.",
           section="The log-sum-exp trick"),
    # nll
    Mutant("ch04.nll", "sums the losses when asked for the mean",
           old="    return reduce_loss(-picked, reduction)",
           new="    return reduce_loss(-picked, 'sum' if reduction == 'mean' else reduction)",
           learner="You sum the losses when the reduction is 'mean'; 'mean' averages them over the batch.",
           section="Negative log likelihood"),
    Mutant("ch04.nll", "forgets the minus sign",
           old="    return reduce_loss(-picked, reduction)",
           new="    return reduce_loss(picked, reduction)",
           learner="You forget the minus sign, so the loss is the log-probability itself, negative and rising as "
                   "the model gets worse; the negative log likelihood is minus the log-probability of each target.",
           section="Negative log likelihood"),
    Mutant("ch04.nll", "indexes a whole column per target instead of one entry per row",
           old="    picked = log_probs[torch.arange(log_probs.shape[0]), targets]",
           new="    picked = log_probs[:, targets]",
           learner="You index a whole column per target, which gives an (n, n) matrix instead of one entry per row; "
                   "pair the row numbers with the targets, so that row i gives its entry at column targets[i].",
           section="Negative log likelihood"),
    # cross_entropy
    Mutant("ch04.cross_entropy", "feeds the logits straight to nll (no log_softmax)",
           old="    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)",
           new="    return nll(logits, targets, reduction=reduction)",
           learner="You give the raw logits to `nll`, which expects log-probabilities; apply `log_softmax` over the "
                   "classes first.",
           section="Cross-entropy"),
    Mutant("ch04.cross_entropy", "uses softmax, not its log",
           old="    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)",
           new="    return nll(softmax(logits, dim=-1), targets, reduction=reduction)",
           learner="You give `nll` the probabilities from softmax; it expects their logarithm, from `log_softmax`.",
           section="Cross-entropy"),
    Mutant("ch04.cross_entropy", "normalises over the batch instead of the classes",
           old="    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)",
           new="    return nll(log_softmax(logits, dim=0), targets, reduction=reduction)",
           learner="You normalise over the batch (dim 0) instead of over the classes; log-softmax runs along the "
                   "last dimension, one distribution per row.",
           section="Cross-entropy"),
    Mutant("ch04.cross_entropy", "drops the reduction argument, so 'sum' and 'none' give the mean",
           old="    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)",
           new="    return nll(log_softmax(logits, dim=-1), targets)",
           learner="You do not pass `reduction` on, so 'sum' and 'none' both give the mean; hand it to `nll`.",
           section="Cross-entropy"),
    Mutant("ch04.cross_entropy", "reduces by itself and returns the losses for an unknown reduction",
           old="    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)",
           new="    losses = nll(log_softmax(logits, dim=-1), targets, reduction='none')\n"
               "    if reduction == 'mean':\n        return losses.mean()\n"
               "    if reduction == 'sum':\n        return losses.sum()\n    return losses",
           learner="You reduce the losses yourself and return them unreduced for any reduction you do not know; an "
                   "unknown reduction must raise ValueError, as nll does: pass `reduction` on to your nll.",
           section="Cross-entropy"),
    # binary_cross_entropy_with_logits
    Mutant("ch04.binary_cross_entropy_with_logits",
           "sigmoid computed as 1/(1+exp(-x)) inside a log without stabilisation",
           old="    losses = logits.clamp(min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))",
           new="    probs = 1 / (1 + torch.exp(-logits))\n"
               "    losses = -(targets * torch.log(probs) + (1 - targets) * torch.log(1 - probs))",
           learner="You compute the sigmoid and take logs of it, so for large |x| a probability rounds to 0 or 1 "
                   "and the loss is inf or nan; use the stable form max(x, 0) - x*t + log(1 + exp(-|x|)).",
           section="A sigmoid per class, and binary cross-entropy"),
    Mutant("ch04.binary_cross_entropy_with_logits", "averages when asked for the sum",
           old="    return reduce_loss(losses, reduction)",
           new="    return reduce_loss(losses, 'mean' if reduction == 'sum' else reduction)",
           learner="You average the losses when the reduction is 'sum'; 'sum' adds them up.",
           section="A sigmoid per class, and binary cross-entropy"),
    Mutant("ch04.binary_cross_entropy_with_logits", "clamps the wrong side: min(x, 0) instead of max(x, 0)",
           old="    losses = logits.clamp(min=0) - logits",
           new="    losses = logits.clamp(max=0) - logits",
           learner="You clamp the logits from above, min(x, 0), where the stable form needs max(x, 0).",
           section="A sigmoid per class, and binary cross-entropy"),
    Mutant("ch04.binary_cross_entropy_with_logits", "rounds soft targets to 0 or 1",
           old="- logits * targets +", new="- logits * targets.round() +",
           learner="You round soft targets to 0 or 1; a target may be anywhere in [0, 1] and must be used as it is.",
           section="A sigmoid per class, and binary cross-entropy"),
    Mutant("ch04.binary_cross_entropy_with_logits", "reduces by itself and returns the losses for an unknown reduction",
           old="    return reduce_loss(losses, reduction)",
           new="    if reduction == 'mean':\n        return losses.mean()\n"
               "    if reduction == 'sum':\n        return losses.sum()\n    return losses",
           learner="You reduce the losses yourself and return them unreduced for any reduction you do not know; an "
                   "unknown reduction must raise ValueError: use `reduce_loss`.",
           section="A sigmoid per class, and binary cross-entropy"),
    # predict_single_label
    Mutant("ch04.predict_single_label", "argmax over the batch instead of the classes",
           old="    confidences, classes = softmax(logits, dim=-1).max(dim=-1)",
           new="    confidences, classes = softmax(logits, dim=-1).max(dim=0)",
           learner="You take the maximum over the batch instead of over the classes; each row (each input) gets its "
                   "own most likely class.",
           section="Softmax picks one thing"),
    Mutant("ch04.predict_single_label", "reports the sigmoid of the top logit as the confidence",
           old="    confidences, classes = softmax(logits, dim=-1).max(dim=-1)",
           new="    confidences, classes = torch.sigmoid(logits).max(dim=-1)",
           learner="You report the sigmoid of the top logit as the confidence; for single-label prediction it is "
                   "the softmax probability of that class.",
           section="Softmax picks one thing"),
    Mutant("ch04.predict_single_label", "returns the largest logit instead of a probability",
           old="    confidences, classes = softmax(logits, dim=-1).max(dim=-1)",
           new="    confidences, classes = logits.max(dim=-1)",
           learner="You report the largest logit as the confidence; it should be a probability, the softmax "
                   "probability of the predicted class.",
           section="Softmax picks one thing"),
    # predict_multi_label
    Mutant("ch04.predict_multi_label", "uses softmax, so the classes compete and at most one or two pass",
           old="    return torch.sigmoid(logits) >",
           new="    return softmax(logits, dim=-1) >",
           learner="You use softmax for multi-label prediction, so the classes compete and at most one or two can "
                   "pass the threshold; take a sigmoid of each logit on its own.",
           section="A sigmoid per class, and binary cross-entropy"),
    Mutant("ch04.predict_multi_label", "compares the logits, not the probabilities, with the threshold",
           old="    return torch.sigmoid(logits) >",
           new="    return logits >",
           learner="You compare the logits with the threshold, but the threshold is a probability; turn each logit "
                   "into a probability with a sigmoid first.",
           section="A sigmoid per class, and binary cross-entropy"),
    Mutant("ch04.predict_multi_label", "applies the sigmoid in place, turning the caller's logits into probabilities",
           old="    return torch.sigmoid(logits) >", new="    return logits.sigmoid_() >",
           learner="You apply the sigmoid in place (logits.sigmoid_()), which turns the caller's logits into "
                   "probabilities; take torch.sigmoid(logits), a new tensor.",
           section="A sigmoid per class, and binary cross-entropy"),
    # shortcuts through the built-ins the tests use as oracles
    Mutant("ch04.softmax", "calls torch.softmax instead of writing it",
           old="    return exps / exps.sum(dim=dim, keepdim=True)",
           new="    return torch.softmax(x, dim=dim)",
           learner="You call `torch.softmax` (or `F.softmax`), which the exercise asks you not to use; compute it "
                   "yourself from the exponentials of the shifted logits.",
           section="Softmax"),
    Mutant("ch04.log_softmax", "calls torch.log_softmax instead of writing it",
           old="    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()",
           new="    return torch.log_softmax(x, dim=dim)",
           learner="You call `torch.log_softmax` (or `F.log_softmax`), which the exercise asks you not to use; "
                   "compute it yourself from the shifted logits.",
           section="Log-softmax"),
    Mutant("ch04.logsumexp", "calls torch.logsumexp instead of writing it",
           old="    return result if keepdim else result.squeeze(dim)",
           new="    return torch.logsumexp(x, dim=dim, keepdim=keepdim)",
           learner="You call `torch.logsumexp`, which the exercise asks you not to use; write the log-sum-exp trick "
                   "yourself.",
           section="The log-sum-exp trick"),
    Mutant("ch04.nll", "calls F.nll_loss instead of indexing",
           old="    return reduce_loss(-picked, reduction)",
           new="    return torch.nn.functional.nll_loss(log_probs, targets, reduction=reduction)",
           learner="You call `F.nll_loss`, which the exercise asks you not to use; pick one entry per row with "
                   "integer-array indexing and negate it.",
           section="Negative log likelihood"),
    Mutant("ch04.cross_entropy", "calls F.cross_entropy instead of log_softmax and nll",
           old="    return nll(log_softmax(logits, dim=-1), targets, reduction=reduction)",
           new="    return torch.nn.functional.cross_entropy(logits, targets, reduction=reduction)",
           learner="You call `F.cross_entropy`; build cross-entropy from your own `log_softmax` and `nll`.",
           section="Cross-entropy"),
    Mutant("ch04.binary_cross_entropy_with_logits", "calls F.binary_cross_entropy_with_logits",
           old="    return reduce_loss(losses, reduction)",
           new="    return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction=reduction)",
           learner="You call `F.binary_cross_entropy_with_logits`, which the exercise asks you not to use; write "
                   "the stable form yourself.",
           section="A sigmoid per class, and binary cross-entropy"),
]
