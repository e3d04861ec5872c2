"""The diagnosis on mistakes it was not built from: a second set of hand-written wrong answers.

`python -m grader check` proves that every mutant in tests/mutants/ is diagnosed as itself, but a mutant is
the very edit its diagnosis was checked with. The diagnosis claims more (grader/diagnosis.py): it goes by
behaviour, never by the source, so a learner who makes the same mistake in other words gets the same
diagnosis. This test holds it to that claim. Each entry below is one mistake that an existing mutant
embodies, written again by hand with different code (another formula, other names, another structure; never
the mutant's `new` text), as a whole new body for one solution region of the reference. Each is graded for
its exercise as a learner's run grades it (all the exercise's tests, with the diagnosis), in a folder of
its own. The test asserts that

- every entry is rejected (a rewrite the tests accept would be a defect of the entry, not of the grader);
- at least 80% are diagnosed as exactly the intended mutant: the diagnosis names its `why` and no other.
  (The diagnosis names several mutants only when they all give the learner the same text; no two mutants of
  an exercise do today, so the intended one named alongside another, "ambiguous" below, counts as a miss,
  not as exact and not as wrong);
- none is diagnosed as a different mistake: a wrong diagnosis is worse than none (DESIGN 3.12). Each entry
  behaves as its mutant does on every input, and the runs are deterministic (derandomized hypothesis), so a
  different mutant named for it is a defect of the entry or of the grader to fix, not noise to tolerate;
- the reference solutions, graded whole, get no diagnosis at all (and pass every test).

An entry that is not diagnosed stays in the set and counts against the 80%: the entries marked "not
diagnosed today" below are the same mistake as their mutant but meet a limitation of the grader.

`pytest tests/maintainer/test_diagnosis_second_set.py -s` prints the table (entry, expected, got).

`pytest tests/maintainer/test_diagnosis_second_set.py -s` prints the table (entry, expected, got).
Run by `python -m grader check` with the other maintainer tests (tests/maintainer); about a minute and a
half on two cores.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import catalog, mutants

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(900)

MIN_DIAGNOSED = 0.8  # the fraction of entries named exactly as their intended mutant
MAX_WRONG = 0  # entries named as a different mistake: none (see above)
WORKER_SECONDS = 600  # one worker's jobs


@dataclass(frozen=True)
class Entry:
    name: str
    exercise: str  # "ch03.variance"
    why: str  # the `why` of the mutant whose mistake this is
    anchor: str  # a text that occurs once in the solutions module, before the region to rewrite
    body: str  # the region's new body (indentation is added)

    @property
    def chapter(self) -> str:
        return next(c for c in catalog.chapter_names() if c.startswith(self.exercise.split(".")[0] + "_"))

    def edit(self, source: str) -> str:
        """The reference source with the region that follows `anchor` replaced by `body`."""
        return replace_region(source, self.anchor, self.body, self.exercise, self.chapter)


def replace_region(source: str, anchor: str, body: str, exercise: str, chapter: str) -> str:
    assert source.count(anchor) == 1, f"{exercise}: the anchor {anchor!r} must occur once in solutions/{chapter}.py"
    at = source.index(anchor)
    begin = source.index("# BEGIN SOLUTION\n", at)
    end = source.index("# END SOLUTION", begin)
    between = source[at:begin].splitlines()[1:]
    assert not any(line.lstrip().startswith(("def ", "class ")) for line in between), \
        f"{exercise}: another definition lies between {anchor!r} and the next solution region"
    line = source.count("\n", 0, begin) + 1
    regions = [r for r in catalog.parse_regions(catalog.SOLUTIONS / f"{chapter}.py", chapter) if r.begin == line]
    assert regions and regions[0].exercise == exercise, \
        f"{exercise}: the region after {anchor!r} (line {line}) belongs to {regions[0].exercise if regions else 'nothing'}"
    indent = source[source.rindex("\n", 0, begin) + 1:begin]
    new = textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", indent)
    return source[:begin] + "# BEGIN SOLUTION\n" + new + indent + source[end:]


E = Entry
ENTRIES = [
    # --- chapter 1 ---------------------------------------------------------------------------------------
    E("counter returns the old value", "ch01.make_counter", "returns the value before stepping",
      "def make_counter(", """
        cell = [start]

        def tick():
            before = cell[0]
            cell[0] = before + step
            return before

        return tick
      """),
    E("partial merges frozen keywords last", "ch01.my_partial", "call-time keywords lose to the frozen ones",
      '"""Call `func` with the frozen arguments first', """
        merged = dict(keywords)
        merged.update(self.keywords)
        return self.func(*self.args, *args, **merged)
      """),
    E("slow_calculation never breaks", "ch01.slow_calculation", "ignores the stop signal",
      "def slow_calculation(", """
        total = 0
        for step in range(steps):
            if cb is not None and hasattr(cb, "before_calc"):
                cb.before_calc(step)
            total = total + step ** 2
            time.sleep(delay)
            if cb is not None and hasattr(cb, "after_calc"):
                cb.after_calc(step, val=total)  # its answer is never looked at
        return total
      """),
    E("only positional-or-keyword names", "ch01.call_with_accepted_kwargs", "forgets keyword-only parameters",
      "def call_with_accepted_kwargs(", """
        signature = inspect.signature(func)
        if any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
            return func(*args, **kwargs)
        names = [name for name, p in signature.parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
        return func(*args, **{key: kwargs[key] for key in kwargs if key in names})
      """),
    E("calc keeps the old sum", "ch01.SlowCalculator", "never resets the sum between runs",
      "    def calc(self) -> None:", """
        for step in range(self.steps):
            self.callback("before_calc", step)
            self.res = self.res + step * step
            time.sleep(self.delay)
            stop = self.callback("after_calc", step)
            if stop:
                break
      """),
    # --- chapter 2 ---------------------------------------------------------------------------------------
    E("exact sum", "ch02.SloppyAdder", "forgets the sloppy hundredth",
      '"""Return a new SloppyAdder holding', """
        if isinstance(other, numbers.Number):
            total = self.o + other
        elif isinstance(other, SloppyAdder):
            total = self.o + other.o
        else:
            return NotImplemented
        return SloppyAdder(total)
      """),
    E("snake case keeps its capitals", "ch02.camel2snake", "forgets to lower-case",
      "def camel2snake(", """
        words = re.sub("(.)([A-Z][a-z]+)", lambda m: m.group(1) + "_" + m.group(2), name)
        return re.sub("([a-z0-9])([A-Z])", lambda m: f"{m.group(1)}_{m.group(2)}", words)
      """),
    # not diagnosed today: test_timer_with_the_real_clock passes and its probe observes a real duration, which
    # no replay reproduces, so no mutant agrees with the passing sample (the mutant itself is named only with -x)
    E("timer gives up on an exception", "ch02.Timer", "records the time only when the block succeeded",
      '"""Stop the clock, record elapsed', """
        if exc_type is not None:
            return False
        stopped = time.perf_counter()
        self.elapsed = stopped - self._start
        self.times.append(self.elapsed)
        return False
      """),
    E("delegator answers None", "ch02.Delegator", "returns None for a missing attribute instead of raising AttributeError",
      '"""Forward a missing public attribute', """
        if name[:1] == "_" or "wrapped" not in self.__dict__:
            return None
        return getattr(self.__dict__["wrapped"], name)
      """),
    E("repr ellipsis from 10 items", "ch02.ListContainer", "adds '...' already at exactly 10 items",
      '"""Return \'ClassName (n items)\'', """
        count = len(self.items)
        head = ", ".join(repr(item) for item in self.items[:10])
        more = ", ..." if count >= 10 else ""
        return f"{type(self).__name__} ({count} items)\\n[{head}{more}]"
      """),
    E("hook results dropped", "ch02.MiniModule", "ignores what a hook returns",
      '"""Run forward, then each forward hook', """
        out = self.forward(*args, **kwargs)
        for fn in tuple(self._forward_hooks.values()):
            fn(self, args, out)
        return out
      """),
    # --- chapter 3 ---------------------------------------------------------------------------------------
    E("Bessel always", "ch03.variance", "divides by n - 1 whatever the correction (torch.var's default, the sample variance)",
      "def variance(", """
        dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
        count = x.numel() if dims is None else math.prod(x.shape[d] for d in dims)
        mu = x.mean(dim=dim, keepdim=True)
        squares = (x - mu) ** 2
        return squares.sum(dim=dim, keepdim=keepdim) / (count - 1)
      """),
    E("sample covariance", "ch03.covariance", "divides by n - 1 (the sample covariance)",
      "def covariance(", """
        n = count_along(x, dim)
        products = (x - x.mean(dim, keepdim=True)) * (y - y.mean(dim, keepdim=True))
        return products.mean(dim, keepdim=keepdim) / ((n - 1) / n)
      """),
    E("positive deviations only", "ch03.mean_abs_dev", "keeps only the deviations above the mean",
      "def mean_abs_dev(", """
        centre = x.mean(dim, keepdim=True)
        return torch.relu(x - centre).mean(dim, keepdim=keepdim)
      """),
    E("ewma seeded with the first value", "ch03.ewma", "starts from the first value instead of 0",
      "def ewma(", """
        running = values[0] * 1
        out = []
        for step, v in enumerate(values, start=1):
            running = (1 - mom) * running + mom * v
            out.append(running / (1 - (1 - mom) ** step) if debias else running)
        return torch.stack(out)
      """),
    E("uncentred correlation matrix", "ch03.corrcoef", "forgets to centre the rows",
      "def corrcoef(", """
        gram = torch.matmul(x, x.transpose(0, 1)) / x.shape[1]
        scale = torch.diagonal(gram).sqrt()
        return gram / torch.outer(scale, scale)
      """),
    # --- chapter 4 ---------------------------------------------------------------------------------------
    E("softmax without the shift", "ch04.softmax", "no max shift: exp overflows for large logits",
      "def softmax(", """
        e = torch.exp(x)
        return e / torch.sum(e, dim, keepdim=True)
      """),
    E("logsumexp loses the maximum", "ch04.logsumexp", "subtracts the maximum but forgets to add it back",
      "def logsumexp(", """
        top = x.amax(dim=dim, keepdim=True)
        top = torch.where(top.isfinite(), top, torch.zeros_like(top)).detach()
        return torch.log(torch.sum(torch.exp(x - top), dim=dim, keepdim=keepdim))
      """),
    E("nll without the minus", "ch04.nll", "forgets the minus sign",
      "def nll(", """
        rows = list(range(log_probs.shape[0]))
        likelihoods = log_probs[rows, targets]
        return reduce_loss(likelihoods, reduction)
      """),
    E("log-softmax down the batch", "ch04.cross_entropy", "normalises over the batch instead of the classes",
      "def cross_entropy(", """
        z = logits - logits.amax(dim=0, keepdim=True)
        log_probs = z - z.exp().sum(dim=0, keepdim=True).log()
        return nll(log_probs, targets, reduction=reduction)
      """),
    E("bce mean for sum", "ch04.binary_cross_entropy_with_logits", "averages when asked for the sum",
      "def binary_cross_entropy_with_logits(", """
        per_entry = torch.relu(logits) - logits * targets + torch.nn.functional.softplus(-logits.abs())
        if reduction == "sum":
            reduction = "mean"
        return reduce_loss(per_entry, reduction)
      """),
    E("confidence is the top logit", "ch04.predict_single_label", "returns the largest logit instead of a probability",
      "def predict_single_label(", """
        best = logits.argmax(dim=-1)
        top = logits.gather(-1, best.unsqueeze(-1)).squeeze(-1)
        return best, top
      """),
    # --- chapter 5 ---------------------------------------------------------------------------------------
    E("name lower-cased only", "ch05.Callback", "lower-cases the name instead of converting it to snake_case",
      '"""The class name without a trailing', """
        cls = type(self).__name__
        if cls.endswith("Callback"):
            cls = cls[:-len("Callback")]
        return (cls or "callback").lower()
      """),
    E("callbacks in the given order", "ch05.Runner", "leaves the callbacks in the order they were given",
      '"""Fire event `cb_name`', """
        if self._sorted != self.cbs:
            self._sorted, self._handlers = list(self.cbs), {}
        if cb_name not in self._handlers:
            self._handlers[cb_name] = [cb for cb in self.cbs if defines(cb, cb_name)]
        answer = False
        for cb in self._handlers[cb_name]:
            if cb(cb_name):
                answer = True
        return answer
      """),
    E("count of batches", "ch05.AvgStats", "counts batches instead of samples",
      '"""Add one batch, detached', """
        size = len(run.xb)
        self.count = self.count + 1
        self.tot_loss = self.tot_loss + size * run.loss.detach()
        for i, metric in enumerate(self.metrics):
            self.tot_mets[i] = self.tot_mets[i] + size * metric(run.pred, run.yb).detach()
      """),
    E("linear learning-rate sweep", "ch05.LRFinder", "a linear schedule instead of an exponential one",
      '"""Set every parameter group\'s learning rate', """
        if self.in_train:
            frac = self.n_iter / self.max_iter
            new_lr = (1 - frac) * self.min_lr + frac * self.max_lr
            for group in self.opt.param_groups:
                group["lr"] = new_lr
      """),
    E("early stopping without min_delta", "ch05.EarlyStoppingCallback", "ignores min_delta",
      '"""Compare the epoch\'s validation loss', """
        if not self.count:
            return
        loss = self.tot_loss / self.count
        if not loss < self.best:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = self.epoch
                raise CancelTrainException()
            return
        self.best, self.best_epoch, self.wait = loss, self.epoch, 0
      """),
    E("suggests the minimum itself", "ch05.suggest_lr", "returns the learning rate at the minimum itself",
      "def suggest_lr(", """
        lrs, losses = list(map(float, lrs)), list(map(float, losses))
        if len(lrs) != len(losses):
            raise ValueError("suggest_lr: lrs and losses differ in length")
        running, k, found = 0.0, 0, None
        for lr, loss in zip(lrs, losses):
            if math.isnan(loss) or math.isinf(loss):
                continue
            k += 1
            running += mom * (loss - running)
            value = running / (1 - (1 - mom) ** k)
            if found is None or value < found[0]:
                found = (value, lr)
        if found is None:
            raise ValueError("suggest_lr: no finite loss")
        return found[1]
      """),
    # --- chapter 6 ---------------------------------------------------------------------------------------
    # not diagnosed today: grader.probe.outcome() puts the ValueError's message into the observation, and the
    # learner's message is their own words, not the reference's
    E("padding on one side", "ch06.conv_out_size", "pads one side only",
      "def conv_out_size(", """
        reach = (ks - 1) * dilation + 1
        if size + 2 * padding < reach:
            raise ValueError("the kernel does not fit")
        return 1 + (size + padding - reach) // stride
      """),
    E("receptive field without jumps", "ch06.receptive_field", "forgets that earlier strides spread the kernel out",
      "def receptive_field(", """
        kernels, steps = list(kernel_sizes), list(strides)
        dils = [1] * len(kernels) if dilations is None else list(dilations)
        return 1 + sum(d * (k - 1) for k, _, d in zip(kernels, steps, dils))
      """),
    E("flatten everything", "ch06.flatten", "flattens over the batch dimension too",
      "def flatten(", """
        return torch.flatten(x)
      """),
    E("view as MNIST whatever the size", "ch06.view_tfm", "hard-codes the MNIST image size",
      "def view_tfm(", """
        def tfm(batch):
            return mnist_resize(batch)

        return tfm
      """),
    E("targets left behind", "ch06.DeviceCallback", "moves the inputs but not the targets",
      '"""Move the batch, `run.xb`', """
        run = self.run
        run.xb = run.xb.to(self.device)
      """),
    E("ten outputs", "ch06.get_cnn_layers", "hard-codes 10 classes",
      "def get_cnn_layers(", """
        channels = [1, *nfs]
        layers = []
        for i, (a, b) in enumerate(zip(channels, channels[1:])):
            layers.append(layer(a, b, 3 if i else 5, **kwargs))
        layers += [nn.AdaptiveAvgPool2d(1), Lambda(flatten), nn.Linear(channels[-1], 10)]
        return layers
      """),
    # --- chapter 7 ---------------------------------------------------------------------------------------
    E("removes the first hook only", "ch07.Hooks", "remove() stops after the first hook",
      '"""Remove every hook in the container."""', """
        if len(self):
            self[0].remove()
      """),
    # not diagnosed today: the ValueError messages (grader.probe.outcome), as for conv_out_size
    E("ratio without log10", "ch07.update_to_data_ratio", "forgets the log10",
      "def update_to_data_ratio(", """
        before, after = list(params_before), list(params_after)
        if len(before) != len(after):
            raise ValueError("as many parameters after the step as before, please")
        out = []
        for p0, p1 in zip(before, after):
            if p0.shape != p1.shape:
                raise ValueError("a parameter changed its shape")
            p0, p1 = p0.detach().to(torch.float64), p1.detach().to(torch.float64)
            out.append(torch.std(p1 - p0) / torch.std(p0))
        if not out:
            return torch.zeros(0, dtype=torch.float64)
        return torch.stack(out)
      """),
    E("one low activation kills a channel", "ch07.dead_channels", "any instead of all: one zero makes a channel dead",
      "def dead_channels(", """
        per_channel = acts.movedim(1, 0).reshape(acts.shape[1], -1)
        return (per_channel <= floor).any(1)
      """),
    E("maxv as a floor", "ch07.GeneralRelu", "clamps from below instead of above",
      '"""(Leaky) ReLU, then subtract', """
        out = F.relu(x) if self.leak is None else F.leaky_relu(x, self.leak)
        if self.sub is not None:
            out = out - self.sub
        if self.maxv is not None:
            out = out.clamp(min=self.maxv)
        return out
      """),
    E("histogram with log", "ch07.get_hist", "log instead of log1p: empty bins become -inf",
      "def get_hist(", """
        return torch.log(torch.stack(h.stats[2]).float().T)
      """),
    E("initialises the top level only", "ch07.init_cnn", "only looks at the direct children, missing nested convolutions",
      "def init_cnn(", """
        fill = nn.init.kaiming_uniform_ if uniform else nn.init.kaiming_normal_
        for child in m.children():
            if not isinstance(child, CONV_TYPES):
                continue
            fill(child.weight, a=a)
            if child.bias is not None:
                child.bias.data.zero_()
      """),
    # --- chapter 8 ---------------------------------------------------------------------------------------
    E("eps next to the std", "ch08.LayerNorm", "eps added outside the square root",
      '"""Normalise each item of the batch over its channels', """
        mu = x.mean(dim=(1, 2, 3), keepdim=True)
        sigma = (x - mu).pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
        return (x - mu) / (sigma + self.eps) * self.mult + self.add
      """),
    E("instance norm over the whole image", "ch08.InstanceNorm", "statistics over channels and pixels (axes 1, 2, 3: that is LayerNorm)",
      '"""Normalise each channel of each image over its pixels', """
        m = x.mean(dim=[1, 2, 3], keepdim=True)
        v = ((x - m) ** 2).mean(dim=[1, 2, 3], keepdim=True)
        return (x - m) * torch.rsqrt(v + self.eps) * self.mults + self.adds
      """),
    # not diagnosed today: the observation of a GroupNorm object is opaque, typed by module and class, and the
    # learner's module (_graded_..._ch08_norms) is not the mutant's (_diagnosis_mutant_ch08_norms_N); the
    # mutant itself is not diagnosed either
    E("any number of groups", "ch08.GroupNorm", "accepts a number of groups that does not divide the channels",
      '"""Check that `groups` divides `nf`', """
        self.groups = groups
        self.eps = eps
        self.mults = nn.Parameter(torch.ones(nf, 1, 1))
        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))
      """),
    E("instance axes with the channels", "ch08.norm_axes", "instance axes include the channels",
      "def norm_axes(", """
        if ndim < 2:
            raise ValueError("norm_axes needs a batch and a channel axis")
        pixels = list(range(2, ndim))
        if kind == "batch":
            return tuple([0] + pixels)
        elif kind == "layer":
            return tuple([1] + pixels)
        elif kind == "instance":
            if ndim < 3:
                raise ValueError("norm_axes: no pixels to average over")
            return tuple([1] + pixels)
        elif kind == "group":
            return tuple(range(2, ndim + 1))
        raise ValueError(f"norm_axes: unknown kind {kind!r}")
      """),
    # not diagnosed today: the ValueError message for a single value per channel (grader.probe.outcome)
    E("biased running variance", "ch08.BatchNorm", "stores the biased variance in the running estimate",
      '"""Normalise `x` with the batch statistics', """
        if not self.training:
            return (x - self.means) * (self.mults / torch.sqrt(self.vars + self.eps)) + self.adds
        if x.numel() // x.shape[1] < 2:
            raise ValueError("BatchNorm needs more than one value per channel when training")
        mu = x.mean(dim=(0, 2, 3), keepdim=True)
        d = x - mu
        sigma2 = (d * d).mean(dim=(0, 2, 3), keepdim=True)
        with torch.no_grad():
            self.means.lerp_(mu, self.mom)
            self.vars.lerp_(sigma2, self.mom)
        return d * (self.mults / torch.sqrt(sigma2 + self.eps)) + self.adds
      """),
]

# Two worker processes grade the jobs (the entries, each chapter's in one worker, and the reference) one
# after another, each with an in-process pytest run as grader/selfcheck.py's run_chapter_mutants
# grades the mutants: every test of the exercise, as in a learner's run (grader.catalog caches what it parses
# between runs), and without pytest's unraisableexception plugin, whose clean-up runs gc.collect() five times
# over torch's heap and only costs time.
WORKER = r"""
import contextlib, io, json, sys, time
import pytest

jobs = json.loads(open(sys.argv[1]).read())
done = []
for job in jobs:
    started = time.monotonic()
    args = [*job["tests"], "--target=" + job["target"], *["--exercise=" + e for e in job["exercises"]],
            "--results-json=" + job["results"], "-q", "--no-header", "--tb=no", "-p", "no:cacheprovider",
            "-p", "no:unraisableexception"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = pytest.main(args)
    done.append({"name": job["name"], "exit": int(code), "seconds": round(time.monotonic() - started, 2)})
print("RESULTS " + json.dumps(done))
"""
REFERENCE_WEIGHT = 12  # grading the reference whole costs about as much as this many entries


@functools.cache
def _mutants_of(chapter: str) -> tuple[mutants.Mutant, ...]:
    return tuple(mutants.load_mutants(chapter))


def _mutant(entry: Entry) -> mutants.Mutant:
    found = [m for m in _mutants_of(entry.chapter) if m.exercise == entry.exercise and m.why == entry.why]
    assert len(found) == 1, f"{entry.name}: no mutant of {entry.exercise} is called {entry.why!r}"
    return found[0]


def _region_text(source: str, entry: Entry) -> str:
    begin = source.index("# BEGIN SOLUTION\n", source.index(entry.anchor))
    return source[begin:source.index("# END SOLUTION", begin)]


def _write_submission(entry: Entry, folder: Path) -> None:
    """The entry's wrong answer, after checks that it is what it claims to be: a real edit of the right
    region, which compiles, which is not the mutant's own text."""
    mutant = _mutant(entry)
    reference = (catalog.SOLUTIONS / f"{entry.chapter}.py").read_text()
    source = entry.edit(reference)
    assert source != reference, f"{entry.name}: the edit changes nothing"
    compile(source, f"{entry.name}.py", "exec")
    assert source != mutants.apply(mutant, entry.chapter), f"{entry.name}: this is the mutant itself"
    rewritten = _region_text(source, entry)
    old_lines = {line.strip() for line in mutant.old.splitlines()}
    copied = [line.strip() for line in mutant.new.splitlines()
              if len(line.strip()) >= 12 and line.strip() not in old_lines and line.strip() in rewritten]
    assert not copied, f"{entry.name}: the rewrite copies the mutant's `new` text: {copied}"
    folder.mkdir(parents=True)
    (folder / f"{entry.chapter}.py").write_text(source)


def _run_worker(jobs: list[dict], tmp_path: Path, number: int) -> tuple[dict[str, dict], str]:
    spec = tmp_path / f"jobs{number}.json"
    spec.write_text(json.dumps(jobs))
    completed = subprocess.run([sys.executable, "-c", WORKER, str(spec)], cwd=ROOT, capture_output=True,
                               text=True, timeout=WORKER_SECONDS)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULTS ")]
    if completed.returncode != 0 or not lines:
        return {}, f"worker {number} failed (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
    return {d["name"]: d for d in json.loads(lines[-1][len("RESULTS "):])}, ""


def _share_out(chapters: dict[str, list[dict]], reference: dict, workers: int) -> list[list[dict]]:
    """The jobs in `workers` lists of about the same cost, each chapter's entries in one list."""
    loads = [[0, []] for _ in range(workers)]
    pieces = [(REFERENCE_WEIGHT, [reference])] + sorted(((len(js), js) for js in chapters.values()), key=lambda p: -p[0])
    for weight, jobs in pieces:
        lightest = min(loads, key=lambda load: load[0])
        lightest[0] += weight
        lightest[1].extend(jobs)
    return [jobs for _, jobs in loads if jobs]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every entry graded for its exercise, and the reference graded whole:
    (rows, the reference's results, problems, seconds in all, the reference's seconds)."""
    tmp_path = tmp_path_factory.mktemp("second_set")
    started = time.monotonic()
    chapters: dict[str, list[dict]] = {}
    for number, entry in enumerate(ENTRIES):
        folder = tmp_path / f"entry{number:02d}"
        _write_submission(entry, folder)
        chapters.setdefault(entry.chapter, []).append({
            "name": entry.name, "exercises": [entry.exercise], "target": str(folder),
            "results": str(folder / "results.json"), "tests": [str(catalog.TESTS / f"test_{entry.chapter}.py")]})
    reference_results = tmp_path / "reference.json"
    reference = {"name": "(the reference)", "exercises": [], "target": "solutions", "results": str(reference_results),
                 "tests": [str(catalog.TESTS / f"test_{c}.py") for c in catalog.chapter_names()]}
    shares = _share_out(chapters, reference, max(1, min(2, os.cpu_count() or 1)))
    finished, problems = {}, []
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for done, problem in pool.map(lambda share: _run_worker(*share), [(s, tmp_path, i) for i, s in enumerate(shares)]):
            finished.update(done)
            if problem:
                problems.append(problem)
    reference_data = json.loads(reference_results.read_text()) if reference_results.exists() else None
    rows = []
    for number, entry in enumerate(ENTRIES):
        results = tmp_path / f"entry{number:02d}" / "results.json"
        row = {"entry": entry.name, "exercise": entry.exercise, "expected": entry.why, "outcomes": [], "got": None,
               "seconds": finished.get(entry.name, {}).get("seconds")}
        if results.exists():
            data = json.loads(results.read_text())
            row["outcomes"] = sorted({t["extra_data"]["outcome"] for t in data["tests"]})
            diagnosis = data["extra_data"]["exercises"].get(entry.exercise, {}).get("diagnosis")
            row["got"] = list(diagnosis["mutants"]) if diagnosis else None
        rows.append(row)
    reference_seconds = finished.get(reference["name"], {}).get("seconds")
    return rows, reference_data, problems, time.monotonic() - started, reference_seconds


def _verdict(row) -> str:
    if not row["outcomes"]:
        return "not graded"
    if not any(o in ("failed", "error") for o in row["outcomes"]):
        return "accepted"
    if row["got"] is None:
        return "none"
    if row["got"] == [row["expected"]]:
        return "exact"
    if row["expected"] in row["got"]:
        return "ambiguous"  # named with others: not counted as exact
    return "wrong"


def test_the_table(graded):
    rows, _, problems, seconds, _ = graded
    print(f"\n\nSecond set of wrong answers: {len(rows)} entries, graded in {seconds:.0f} s")
    print(f"{'entry':<36} {'exercise':<38} {'s':>5} {'verdict':<8} expected -> got")
    for row in rows:
        got = "; ".join(row["got"]) if row["got"] else "(no diagnosis)"
        seconds = f"{row['seconds']:.1f}" if row["seconds"] is not None else "-"
        print(f"{row['entry']:<36} {row['exercise']:<38} {seconds:>5} {_verdict(row):<8} {row['expected']} -> {got}")
    exact = sum(_verdict(r) == "exact" for r in rows)
    print(f"exactly diagnosed: {exact}/{len(rows)} = {exact / len(rows):.0%}; wrong: "
          f"{sum(_verdict(r) == 'wrong' for r in rows)}")
    reference, reference_seconds = graded[1], graded[4]
    if reference is not None:
        diagnosed = sum("diagnosis" in e for e in reference["extra_data"]["exercises"].values())
        print(f"the reference: {reference['extra_data']['counts']['passed']}/{len(reference['tests'])} tests passed, "
              f"{diagnosed} diagnoses, {reference_seconds or 0:.0f} s")
    assert not problems, "\n".join(problems)


def test_the_set_covers_every_chapter():
    chapters = {}
    for entry in ENTRIES:
        _mutant(entry)  # the intended mutant exists
        chapters[entry.chapter] = chapters.get(entry.chapter, 0) + 1
    assert len(ENTRIES) >= 24
    assert len({entry.name for entry in ENTRIES}) == len(ENTRIES), "entry names must be unique"
    assert all(chapters.get(c, 0) >= 2 for c in catalog.chapter_names()), chapters


def test_every_entry_is_rejected(graded):
    rows = graded[0]
    not_graded = [r["entry"] for r in rows if _verdict(r) == "not graded"]
    accepted = [r["entry"] for r in rows if _verdict(r) == "accepted"]
    assert not not_graded, f"no results for {not_graded}"
    assert not accepted, f"the tests accept these wrong answers (fix the entries): {accepted}"


def test_most_entries_are_diagnosed_as_their_mistake(graded):
    rows = graded[0]
    exact = [r for r in rows if _verdict(r) == "exact"]
    missed = [f"{r['entry']} ({r['exercise']}): {r['got'] or 'no diagnosis'}" for r in rows if _verdict(r) != "exact"]
    assert len(exact) / len(rows) >= MIN_DIAGNOSED, \
        f"only {len(exact)}/{len(rows)} diagnosed as their mutant; missed:\n  " + "\n  ".join(missed)


def test_no_entry_is_diagnosed_as_another_mistake(graded):
    rows = graded[0]
    wrong = [f"{r['entry']} ({r['exercise']}): expected {r['expected']!r}, got {r['got']}" for r in rows
             if _verdict(r) == "wrong"]
    assert len(wrong) <= MAX_WRONG, "wrong diagnoses:\n  " + "\n  ".join(wrong)


def test_the_reference_gets_no_diagnosis(graded):
    reference = graded[1]
    assert reference is not None, "the reference run did not finish"
    assert reference["extra_data"]["counts"]["passed"] == len(reference["tests"]), "the reference fails tests"
    diagnosed = {e: v["diagnosis"]["mutants"] for e, v in reference["extra_data"]["exercises"].items() if "diagnosis" in v}
    assert len(reference["extra_data"]["exercises"]) == len(catalog.exercises())
    assert not diagnosed, f"the reference solutions were diagnosed: {diagnosed}"
