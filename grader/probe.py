"""Observations: what an exercise did, as plain data, kept apart from the judgement of it.

A test asks `probe(observer, *args, **kwargs)`. The *observer* is a module-level function of the test module
that runs the learner's code and reports what it did: `observer(ch, *args, **kwargs)`, where `ch` is the
chapter module under test, returns an *observation* built only from None, bool, int, float, str, lists,
tuples and dicts of them, and torch tensors. The test then judges the observation against values it
computes itself (the oracles, the reference, the arithmetic), outside the observer.

In self-study the observer runs in this process. With `--secure` (class grading) it runs in a sandboxed
worker (grader/worker.py), and only the encoded observation crosses back: whatever the learner's code does
there (patching pytest, the oracles or `==`), the comparison happens here, on plain data of exact types.
In both modes the arguments and the observation make the same round trip through `encode` and `decode`,
so a test sees the same values either way, and a learner's code that mutates an input cannot change the
test's copy.

An exception raised by the observer (that is, by the learner's code) reaches the test as `ExerciseRaised`,
with the exception's type name, message and the line of the learner's file it came from; a stub's
`NotImplementedError("Exercise ...")` becomes `ExerciseNotStarted`.
"""
from __future__ import annotations

import base64
import contextlib
import io
import math
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

MAX_DEPTH = 64
MAX_ITEMS = 2_000_000  # elements in one observation, tensors' elements included
MAX_TEXT = 2_000_000  # characters of one string


class ObservationError(Exception):
    """An observation that is not plain data: an exercise returned something the tests cannot take."""


class ExerciseRaised(Exception):
    """The learner's code raised while a test observed it."""

    def __init__(self, kind: str, message: str, where: str = "", detail: str = ""):
        self.kind, self.message, self.where, self.detail = kind, message, where, detail
        at = f" at {where}" if where else ""
        super().__init__(f"your code raised {kind}{at}: {message}" if message else f"your code raised {kind}{at}")


class ExerciseNotStarted(ExerciseRaised):
    """The stub's NotImplementedError("Exercise ..."): the exercise is not started."""


class ExerciseTimedOut(ExerciseRaised):
    """The learner's code did not finish within the test's time limit (secure mode)."""


# --------------------------------------------------------------------------------------------
# Encoding: plain JSON values, with tagged objects for what JSON lacks
# --------------------------------------------------------------------------------------------

def _torch():
    return sys.modules.get("torch")


def encode(value, _depth: int = 0, _budget: list | None = None):
    """`value` as JSON-compatible data; ObservationError for anything that is not plain data.

    Exact types only: a subclass of int, str, list or dict (which could redefine `==`) is refused, as is
    any object. Tensors are copied to the CPU with their dtype, shape, device, `requires_grad` and
    contiguity.
    """
    budget = _budget if _budget is not None else [MAX_ITEMS]
    if _depth > MAX_DEPTH:
        raise ObservationError(f"the observation is nested more than {MAX_DEPTH} levels deep")
    budget[0] -= 1
    if budget[0] < 0:
        raise ObservationError(f"the observation holds more than {MAX_ITEMS:,} values")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        if kind is str and len(value) > MAX_TEXT:
            raise ObservationError(f"a string of {len(value):,} characters is too long to observe")
        return value
    if kind is int:
        return value if abs(value) < 2 ** 53 else {"$int": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(v, _depth + 1, budget) for v in value]
    if kind is tuple:
        return {"$tuple": [encode(v, _depth + 1, budget) for v in value]}
    if kind is dict:
        return {"$dict": [[encode(k, _depth + 1, budget), encode(v, _depth + 1, budget)] for k, v in value.items()]}
    torch = _torch()
    if torch is not None and kind in (torch.Tensor, torch.nn.Parameter):
        return _encode_tensor(value, budget)
    if torch is not None and kind is torch.Size:
        return {"$tuple": [int(v) for v in value]}
    if torch is not None and kind is torch.dtype:
        return {"$dtype": str(value).removeprefix("torch.")}
    if torch is not None and kind is torch.device:
        return {"$device": str(value)}
    # Anything else (an object, a numpy number, a subclass of int or list) crosses as its type and repr only:
    # it is never equal to an expected value, and a test's message shows what it was.
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 - a learner's __repr__ may raise
        text = f"<repr raised {type(error).__name__}>"
    return {"$opaque": {"type": f"{kind.__module__}.{kind.__qualname__}", "repr": text[:300]}}


def _encode_tensor(t, budget: list) -> dict:
    torch = _torch()
    if t.is_meta or t.layout != torch.strided:  # no data to copy (a meta tensor), or a sparse one
        return {"$opaque": {"type": f"torch.Tensor ({t.layout}, {t.device})".replace("torch.", ""),
                            "repr": f"tensor of shape {tuple(t.shape)}, {t.dtype}, on {t.device}"}}
    budget[0] -= t.numel()
    if budget[0] < 0:
        raise ObservationError(f"a tensor of {t.numel():,} elements is too large to observe")
    meta = {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape), "device": str(t.device),
            "requires_grad": bool(t.requires_grad), "contiguous": bool(t.is_contiguous()),
            "parameter": type(t) is torch.nn.Parameter}
    flat = t.detach().to("cpu").contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    meta["data"] = base64.b64encode(raw).decode("ascii")
    return {"$tensor": meta}


def decode(data, _depth: int = 0):
    """The inverse of `encode`, building only plain values and fresh CPU tensors; ObservationError on
    anything that `encode` does not make (so a forged message cannot smuggle in an object)."""
    if _depth > MAX_DEPTH + 1:
        raise ObservationError("the observation is nested too deeply")
    kind = type(data)
    if data is None or kind in (bool, int, str):
        return data
    if kind is float:
        return data
    if kind is list:
        return [decode(v, _depth + 1) for v in data]
    if kind is dict and len(data) == 1:
        (tag, body), = data.items()
        if tag == "$tuple" and type(body) is list:
            return tuple(decode(v, _depth + 1) for v in body)
        if tag == "$dict" and type(body) is list:
            out = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise ObservationError("a malformed dictionary in the observation")
                key = decode(pair[0], _depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise ObservationError("an unhashable dictionary key in the observation") from None
                out[key] = decode(pair[1], _depth + 1)
            return out
        if tag == "$int" and type(body) is str and body.lstrip("-").isdigit():
            return int(body)
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$tensor" and type(body) is dict:
            return _decode_tensor(body)
        if tag == "$dtype" and type(body) is str:
            import torch

            value = getattr(torch, body, None)
            if type(value) is not torch.dtype:
                raise ObservationError(f"unknown dtype {body!r}")
            return value
        if tag == "$device" and type(body) is str:
            import torch

            return torch.device(body)
        if tag == "$opaque" and type(body) is dict:
            return Opaque(str(body.get("type", "?"))[:200], str(body.get("repr", ""))[:300])
    raise ObservationError(f"the observation holds something that is not plain data: {str(data)[:80]}")


class Opaque:
    """Something observed that is not plain data (an object, a numpy scalar, a subclass of int): its type
    and repr, equal to nothing but itself."""

    __slots__ = ("type", "text")

    def __init__(self, type_name: str, text: str):
        self.type, self.text = type_name, text

    def __repr__(self):
        short = self.type.removeprefix("builtins.")
        return f"<a {short}: {self.text}>"

    __str__ = __repr__


@dataclass(frozen=True)
class TensorInfo:
    """What a decoded tensor was, where the test needs it: the decoded tensor itself is a CPU copy."""

    device: str
    requires_grad: bool
    contiguous: bool
    parameter: bool


_TENSOR_INFO: dict[int, TensorInfo] = {}


def tensor_info(t) -> TensorInfo:
    """The device, `requires_grad`, contiguity and Parameter-ness of an observed tensor, as observed."""
    info = _TENSOR_INFO.get(id(t))
    if info is None:
        return TensorInfo(str(t.device), bool(t.requires_grad), bool(t.is_contiguous()),
                          type(t).__name__ == "Parameter")
    return info


def _decode_tensor(meta: dict):
    import torch

    dtype = getattr(torch, str(meta.get("dtype")), None)
    shape = meta.get("shape")
    if type(dtype) is not torch.dtype or type(shape) is not list or not all(type(s) is int and s >= 0 for s in shape):
        raise ObservationError("a malformed tensor in the observation")
    raw = base64.b64decode(str(meta.get("data", "")), validate=True)
    count = math.prod(shape)
    stored = torch.uint8 if dtype == torch.bool else dtype
    itemsize = torch.empty((), dtype=stored).element_size()
    if len(raw) != count * itemsize:
        raise ObservationError("a tensor whose data does not match its shape")
    if count:
        flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(stored).clone()
    else:
        flat = torch.empty(0, dtype=stored)
    tensor = flat.to(dtype).reshape(shape)
    _TENSOR_INFO[id(tensor)] = TensorInfo(str(meta.get("device", "cpu")), meta.get("requires_grad") is True,
                                          meta.get("contiguous") is not False, meta.get("parameter") is True)
    if len(_TENSOR_INFO) > 100_000:
        _TENSOR_INFO.clear()
    return tensor


def round_trip(value):
    return decode(encode(value))


# --------------------------------------------------------------------------------------------
# Running an observer
# --------------------------------------------------------------------------------------------

def calling(ch, name: str, *args, **kwargs):
    """The generic observer: what `ch.<name>(*args, **kwargs)` returns (`probe.name(...)` in a test)."""
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"not an exercise name: {name!r}")
    return getattr(ch, name)(*args, **kwargs)


def observer_name(observer) -> str:
    """`module::qualname` of a module-level observer; ValueError for one a worker could not find."""
    qualname = getattr(observer, "__qualname__", "")
    if not callable(observer) or "<" in qualname or "." in qualname:
        raise ValueError(f"{observer!r}: an observer must be a module-level function of the test module")
    return f"{observer.__module__}::{qualname}"


def learner_frame(tb, files: set[str]) -> str:
    """`file:line` of the last frame of `tb` inside one of `files` (the learner's chapter files)."""
    where = ""
    for frame in traceback.extract_tb(tb):
        if str(Path(frame.filename).resolve()) in files or Path(frame.filename).name in files:
            where = f"{frame.filename}:{frame.lineno}"
    return where


def describe_exception(error: BaseException, files: set[str]) -> dict:
    """Plain data for an exception the learner's code raised."""
    from .plugin import is_stub_error

    message = str(error)
    if len(message) > 4000:
        message = message[:4000] + " ... (cut)"
    return {"type": type(error).__name__, "message": message, "where": learner_frame(error.__traceback__, files),
            "not_started": is_stub_error(error)}


def raised_from(report: dict) -> ExerciseRaised:
    """The exception a test sees for a report made by `describe_exception` (in this process or a worker's)."""
    kind, message, where = str(report.get("type", "Exception")), str(report.get("message", "")), str(report.get("where", ""))
    if report.get("not_started") is True:
        return ExerciseNotStarted(kind, message, where)
    if report.get("timed_out") is True:
        return ExerciseTimedOut(kind, message, where)
    return ExerciseRaised(kind, message, where, str(report.get("detail", "")))


@dataclass
class Probe:
    """One observation a test asked for: what was asked, and what came back (for the diagnosis)."""

    observer: str
    args: object  # encoded
    kwargs: object  # encoded
    result: object = None  # encoded observation, or None
    raised: dict | None = None
    function: object = None  # the observer itself, to replay the probe on a mutant
    seconds: float = 0.0  # how long the learner's code took, so that a replay gets a fair time limit


@dataclass
class ProbeLog:
    """The probes of one test, in order (all of a hypothesis test's examples, the failing one last)."""

    probes: list[Probe] = field(default_factory=list)
    last_example: int = 0  # where the example tried last begins

    def new_example(self) -> None:
        self.last_example = len(self.probes)

    def of_last_example(self) -> list[Probe]:
        return self.probes[self.last_example:]


@contextlib.contextmanager
def same_random_state(seed: int = 0):
    """Run an observation from a fixed random state (Python's and torch's CPU generator), and put the caller's
    back afterwards: a layer that an observer builds gets the same initial weights in the learner's run, in the
    sandbox and in a mutant's replay, so that their observations can be compared at all."""
    state = random.getstate()
    random.seed(seed)
    torch = sys.modules.get("torch")
    try:
        if torch is None:
            yield
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                yield
    finally:
        random.setstate(state)


class InProcess:
    """Runs observers in this process on `module` (self-study, and the maintainer's runs)."""

    def __init__(self, module):
        self.module = module
        path = getattr(module, "__file__", None)
        self.files = {str(Path(path).resolve())} if path else set()

    def run(self, observer, args_data, kwargs_data, timeout: float | None = None):
        """(encoded observation, None) or (None, exception report)."""
        args, kwargs = decode(args_data), decode(kwargs_data)
        try:
            with same_random_state():
                value = observer(self.module, *args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - the learner's code may raise anything
            if _is_control(error):
                raise
            report = describe_exception(error, self.files)
            report["exception"] = error
            return None, report
        try:
            return encode(value), None
        except ObservationError as error:
            return None, {"type": "ObservationError", "message": str(error), "where": "", "not_started": False}


def _is_control(error: BaseException) -> bool:
    """What must pass through an observer untouched: ^C, and pytest-timeout's `Failed: Timeout` (the test's
    time limit, raised inside the learner's code). Everything else the code raises is the code's doing,
    `pytest.skip`, `pytest.exit` and `sys.exit` included: it becomes ExerciseRaised, never a skipped test."""
    if isinstance(error, KeyboardInterrupt):
        return True
    return type(error).__name__ == "Failed" and str(error).startswith("Timeout")


def call(runner, observer, args, kwargs, log: ProbeLog | None = None, timeout: float | None = None):
    """Ask `runner` for `observer(ch, *args, **kwargs)`; the decoded observation, or raise ExerciseRaised."""
    __tracebackhide__ = True
    name = observer_name(observer)
    args_data, kwargs_data = encode(tuple(args)), encode(dict(kwargs))
    started = time.monotonic()
    result, report = runner.run(observer, args_data, kwargs_data, timeout)
    entry = Probe(name, args_data, kwargs_data, result, None if report is None else
                  {k: v for k, v in report.items() if k != "exception"}, observer, time.monotonic() - started)
    if log is not None:
        log.probes.append(entry)
    if report is not None:
        error = raised_from(report)
        original = report.get("exception")
        if original is not None:
            raise error from original
        raise error
    return decode(result)


# --------------------------------------------------------------------------------------------
# Helpers for observers
# --------------------------------------------------------------------------------------------

class _CappedText(io.StringIO):
    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def write(self, text):
        if self.tell() + len(text) > self.limit:
            raise ObservationError(f"the exercise printed more than {self.limit:,} characters")
        return super().write(text)


@contextlib.contextmanager
def printed(limit: int = 100_000):
    """Collect what the code inside prints (`print`, `sys.stdout.write`); `.getvalue()` reads it."""
    buffer = _CappedText(limit)
    with contextlib.redirect_stdout(buffer):
        yield buffer


def outcome(function, *args, **kwargs) -> dict:
    """{"returned": value} or {"raised": type name, "message": text}: for a test that expects an error."""
    try:
        value = function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001
        from .plugin import is_stub_error

        if is_stub_error(error):
            raise
        return {"raised": type(error).__name__, "message": str(error)[:2000]}
    try:
        encode(value)
    except ObservationError:
        return {"returned": f"a {type(value).__name__}: {repr(value)[:200]}"}
    return {"returned": value}
