"""Which known mistake does a learner's failing exercise behave like? The mutants say, by behaviour.

Every mutant in `tests/mutants/` is a plausible wrong answer with a description of the mistake. When an
exercise fails, the probes its tests made (grader/probe.py: which observer, on which inputs, and what the
learner's code gave) are replayed on each of the exercise's mutants, here in the grading process (a mutant
is the reference with one edit: trusted code). A mutant *matches* when it gives the same observation as the
learner's code on every probe of the failing tests (the inputs where the learner's code went wrong) and on
a sample of the probes of the tests that passed (so a mutant that would also break what the learner got
right does not match). The source is never read: `/ (n - 1)`, `correction=1` and `torch.var(x)` with its
default are one mistake, and they behave alike.

Precision before recall: the diagnosis is given only when the matching mutants all describe the same
mistake; correct code is never diagnosed (only failing exercises are), and code that matches no mutant
gets none.
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from types import ModuleType

from . import catalog, mutants, probe as probes

PASSING_SAMPLE = 8  # probes of passed tests a mutant must also agree on
PROBE_SECONDS = 2.0  # one replay, or four times what the learner's code took on it if that is more
EXERCISE_SECONDS = 10.0  # all replays for one exercise, or twice what they should take (at most a minute)
MAX_EXERCISE_SECONDS = 60.0
UNDIAGNOSABLE = {"ChapterImportError", "WorkerDied", "WorkerFailed", "Timeout", "ProtocolError", "ObservationError"}


@dataclass(frozen=True)
class Diagnosis:
    exercise: str
    mistake: str  # for the learner ("You ...")
    section: str  # the book's section that explains the right way ("" if none)
    chapter: str  # "ch03_statistics"
    mutants: tuple[str, ...]  # the `why` of each matching mutant

    def where(self) -> str:
        number = int(self.chapter[2:4])
        return f'chapter {number}, "{self.section}"' if self.section else f"chapter {number}"

    def text(self) -> str:
        mistake = self.mistake[:1].lower() + self.mistake[1:] if self.mistake[:2] != self.mistake[:2].upper() else self.mistake
        return (f"This looks like a known mistake: {mistake} See {self.where()}, or "
                f"`python -m grader hint {self.exercise}`.")

    def as_dict(self) -> dict:
        return {"mistake": self.mistake, "section": self.section, "chapter": self.chapter, "mutants": list(self.mutants),
                "text": self.text()}


def learner_text(mutant: mutants.Mutant) -> str:
    text = mutant.learner.strip() or f"your code behaves as if it {mutant.why}."
    return text[0].upper() + text[1:] if text else text


# --------------------------------------------------------------------------------------------
# Comparing observations
# --------------------------------------------------------------------------------------------

def same(a, b, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Two decoded observations agree: tensors by shape, dtype and values (nan = nan), floats within tolerance,
    opaque values by type, everything else exactly. A lone float is compared relatively (its absolute
    tolerance is tiny): a learning rate of 1e-6 is not another of 1.3e-6."""
    if isinstance(a, probes.Opaque) or isinstance(b, probes.Opaque):
        return isinstance(a, probes.Opaque) and isinstance(b, probes.Opaque) and \
            _type_name(a.type) == _type_name(b.type)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and _is_raised(a) and _is_raised(b):
        return a["raised"] == b["raised"]  # the learner's message is their own words: the exception's type
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=min(atol, 1e-12))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol) for k in a)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(a, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype == torch.bool or not (a.is_floating_point() or a.is_complex()):
            return bool(torch.equal(a, b))
        return bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    return a == b


# A class of the graded chapter is `_graded_<hash>_ch08_norms.GroupNorm` in the learner's run and
# `_diagnosis_mutant_ch08_norms_3.GroupNorm` in a replay: the same class for the diagnosis.
_CHAPTER_MODULE_RE = re.compile(r"^(?:_graded_[0-9a-f]+_|_diagnosis_mutant_|_diagnosis_reference_)(ch\d\d)_\w*?\.")


def _type_name(name: str) -> str:
    return _CHAPTER_MODULE_RE.sub(r"\1.", name)


def _is_raised(value: dict) -> bool:
    """An observation made by probe.outcome() of a call that raised."""
    return "raised" in value and set(value) <= {"raised", "message"}


def _same_outcome(mine: probes.Probe, theirs_result, theirs_raised) -> bool:
    if mine.raised is not None or theirs_raised is not None:
        return (mine.raised is not None and theirs_raised is not None
                and mine.raised.get("type") == theirs_raised.get("type"))
    try:
        return same(probes.decode(mine.result), probes.decode(theirs_result))
    except probes.ObservationError:
        return False


# --------------------------------------------------------------------------------------------
# Replaying probes on a mutant
# --------------------------------------------------------------------------------------------

class _Slow(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """SIGALRM-based limit (the main thread only; elsewhere no limit)."""
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum, frame):
        raise _Slow()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def mutant_module(mutant: mutants.Mutant, chapter: str, index: int) -> ModuleType:
    return _fresh_module(mutants.apply(mutant, chapter), f"_diagnosis_mutant_{chapter}_{index}", mutant.why, chapter)


def reference_module(chapter: str) -> ModuleType:
    source = (catalog.SOLUTIONS / f"{chapter}.py").read_text()
    return _fresh_module(source, f"_diagnosis_reference_{chapter}", "reference", chapter)


def _fresh_module(source: str, name: str, label: str, chapter: str) -> ModuleType:
    module = ModuleType(name)
    module.__file__ = str(catalog.SOLUTIONS / f"{chapter}.py")
    if str(catalog.ROOT) not in sys.path:
        sys.path.insert(0, str(catalog.ROOT))
    sys.modules[name] = module  # while it is replayed: pickle and dataclasses find classes by their module's name
    try:
        exec(compile(source, f"<{label}>", "exec"), module.__dict__)  # noqa: S102 - trusted: the reference, or it edited
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _replay(runner: probes.InProcess, entry: probes.Probe):
    observer = entry.function
    if observer is None:
        return None, {"type": "Unreplayable"}
    with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()):
        with _time_limit(max(PROBE_SECONDS, 4 * entry.seconds)):
            try:
                return runner.run(observer, entry.args, entry.kwargs)
            except _Slow:
                return None, {"type": "Timeout"}


class _Discard:
    def write(self, text):
        return len(text)

    def flush(self):
        pass


def _agrees(mutant: mutants.Mutant, chapter: str, index: int, sequence: list[probes.Probe], deadline: float) -> bool:
    """Replay `sequence` in order on a fresh copy of the mutant; True when every observation agrees."""
    try:
        module = mutant_module(mutant, chapter, index)
    except Exception:  # noqa: BLE001 - a stale mutant: the check reports it, the diagnosis skips it
        return False
    try:
        return _replays_agree(probes.InProcess(module), mutant, sequence, deadline)
    finally:
        sys.modules.pop(module.__name__, None)


def _first_difference(a, b, path="") -> str:
    """Where two encoded observations first differ (for GRADER_DIAGNOSIS_DEBUG)."""
    if type(a) is not type(b):
        return f"{path or 'top'}: {str(a)[:120]} != {str(b)[:120]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path or 'top'}: {str(a)[:120]} != {str(b)[:120]}"


def _replays_agree(runner, mutant, sequence, deadline) -> bool:
    for entry in sequence:
        if time.monotonic() > deadline:
            return False
        result, raised = _replay(runner, entry)
        if raised is not None:
            raised = {k: v for k, v in raised.items() if k != "exception"}
        if not _same_outcome(entry, result, raised):
            if os.environ.get("GRADER_DIAGNOSIS_DEBUG"):
                print(f"[diagnosis] {mutant.why!r} disagrees at {entry.observer}: "
                      f"{_first_difference(entry.raised or entry.result, raised or result)}; args {str(entry.args)[:200]}",
                      file=sys.__stderr__)
            return False
    return True


def diagnose(exercise: str, failing: list[list[probes.Probe]], passing: list[probes.Probe]) -> Diagnosis | None:
    """The known mistake whose mutants behave like the learner's code, or None.

    `failing`: for each failing test, all its probes in order (every example a hypothesis test tried, the
    failing one last), replayed in that order on a fresh copy of each mutant, so that a mistake that keeps
    state between calls (a shared counter) is replayed with the same history. `passing`: probes of tests that
    passed, of which a sample must also agree.
    """
    chapter = next((e.chapter for e in catalog.exercises() if e.id == exercise), None)
    if chapter is None or not failing:
        return None
    candidates = [(i, m) for i, m in enumerate(mutants.load_mutants(chapter)) if m.exercise == exercise]
    sample = _reproducible(chapter, passing[:: max(1, len(passing) // PASSING_SAMPLE)][:PASSING_SAMPLE])
    replays = [p for sequence in failing for p in sequence] + sample
    expected = len(candidates) * sum(p.seconds for p in replays)
    deadline = time.monotonic() + min(max(EXERCISE_SECONDS, 2 * expected), MAX_EXERCISE_SECONDS)
    matches = []
    for index, mutant in candidates:
        if all(_agrees(mutant, chapter, index, sequence, deadline) for sequence in failing) and \
                _agrees(mutant, chapter, index, sample, deadline):
            matches.append(mutant)
        if time.monotonic() > deadline:
            return None  # not every known mistake was compared: a match might not be the only one
    if os.environ.get("GRADER_DIAGNOSIS_DEBUG"):
        print(f"[diagnosis] {exercise}: behaves like {[m.why for m in matches]}", file=sys.__stderr__)
    if not matches:
        return None
    texts = {learner_text(m) for m in matches}
    if len(texts) != 1:
        return None
    section = next((m.section for m in matches if m.section), "")
    return Diagnosis(exercise, texts.pop(), section, chapter, tuple(m.why for m in matches))


def _reproducible(chapter: str, sample: list[probes.Probe]) -> list[probes.Probe]:
    """The passing probes that the reference itself reproduces: one that read the clock, say, would otherwise
    rule out every mistake."""
    try:
        module = reference_module(chapter)
    except Exception:  # noqa: BLE001
        return []
    runner, kept = probes.InProcess(module), []
    try:
        for entry in sample:
            result, raised = _replay(runner, entry)
            if raised is not None:
                raised = {k: v for k, v in raised.items() if k != "exception"}
            if _same_outcome(entry, result, raised):
                kept.append(entry)
    finally:
        sys.modules.pop(module.__name__, None)
    return kept


def diagnose_run(records) -> dict[str, Diagnosis]:
    """Diagnoses for the failed exercises of a run (`records`: the plugin's Graded records)."""
    by_exercise: dict[str, list] = {}
    for record in records:
        by_exercise.setdefault(record.exercise, []).append(record)
    found = {}
    for exercise, group in by_exercise.items():
        failed = [r for r in group if r.outcome in ("failed", "error") and r.probes and r.probes.probes]
        if not failed or any(r.outcome == "not started" for r in group):
            continue
        failing = [r.probes.probes for r in failed]
        last = [p for r in failed for p in r.probes.of_last_example()]
        if not last or all((p.raised or {}).get("type") in UNDIAGNOSABLE for p in last):
            continue  # nothing ran (an import error, a crash, a timeout): no mistake to recognise
        passing = [p for r in group if r.outcome == "passed" and r.probes for p in r.probes.of_last_example()]
        result = diagnose(exercise, failing, passing)
        if result is not None:
            found[exercise] = result
    return found
