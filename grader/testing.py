"""Helpers for the chapters' tests (imported by tests/test_chNN_*.py, never by a learner's code).

"Written by hand" rules: an exercise compared with a built-in (its oracle) must not call that built-in. Two
checks, in two places:

- `spying(functions)`, inside an observer: every call of one of `functions` made while the block runs is
  noted, whether the code reaches it by its name, as a tensor method, or through a reference it saved
  earlier (PyTorch's functions are seen at their dispatch, by a TorchFunctionMode, not by their name);
- `oracle_references(source, exercise, functions, exercises)`, in the grading process: the learner's source
  text is read (never run) and every reference to one of those functions by name, and every dynamic lookup
  (`getattr`, `eval`, `__import__`, ...) in code the exercise can reach, is reported. A learner's code that
  hides the call from the first check (it runs where the learner's code runs) meets the second.
"""
from __future__ import annotations

import ast
import contextlib
import sys

DYNAMIC = {"getattr", "eval", "exec", "compile", "__import__", "globals", "vars", "locals", "import_module",
           "attrgetter", "methodcaller", "__getattribute__", "__dict__", "modules", "getmembers"}
ATTRIBUTE_LOOKUPS = {"import_module", "attrgetter", "methodcaller", "__getattribute__", "__dict__", "modules",
                     "getmembers"}


def _qualified(owner, attr: str) -> str:
    return f"{getattr(owner, '__name__', type(owner).__name__)}.{attr}"


@contextlib.contextmanager
def spying(functions):
    """`with spying([(owner, "name"), ...]) as called:` notes (in `called`) each of those functions called inside.

    Python-level spies replace the attributes for the duration of the block; for PyTorch's functions a
    TorchFunctionMode also recognises them by identity when they are reached another way (a saved
    reference, `Tensor.method`). Nothing is changed about what the functions compute.
    """
    called: list[str] = []
    originals = []
    watched: dict[object, str] = {}
    for owner, attr in functions:
        if not hasattr(owner, attr):
            continue
        original = getattr(owner, attr)
        name = _qualified(owner, attr)
        watched.setdefault(original, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            called.append(_name)
            return _original(*args, **kwargs)

        originals.append((owner, attr, original))
        try:
            setattr(owner, attr, spy)
        except (AttributeError, TypeError):
            originals.pop()
    mode = _torch_mode(watched, called)
    try:
        if mode is not None:
            with mode:
                yield called
        else:
            yield called
    finally:
        for owner, attr, original in reversed(originals):
            setattr(owner, attr, original)
        called[:] = sorted(set(called))


def _torch_mode(watched: dict, called: list):
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = watched.get(func)
            if name is not None:
                called.append(name)
            return func(*args, **(kwargs or {}))

    return Watch()


def calls_during(monkeypatch, functions, run) -> list[str]:
    """Run `run()` with spies on `functions`, a list of `(owner, attribute name)`; return the names called.

    (`monkeypatch` is accepted for the tests written before `spying`; it is not needed.)
    """
    with spying(functions) as called:
        run()
    return sorted(set(called))


def assert_written_by_hand(called: list[str], call: str, instead: str) -> None:
    """Fail with a learner-readable message when `calls_during` found the oracle being called."""
    assert not called, (f"{call} called {', '.join(called)}: that is the function the tests compare with, so "
                        f"calling it teaches nothing. {instead}")


# --------------------------------------------------------------------------------------------
# Reading the source: what the exercise refers to, without running it
# --------------------------------------------------------------------------------------------

def oracle_references(source: str, exercise: str, names: set[str], exercises: set[str]) -> list[str]:
    """References to `names` (attribute names such as "var" or "cross_entropy") in `source` outside the bodies
    of the chapter's other `exercises`, and dynamic look-ups (`getattr`, `eval`, `importlib`, ...) in the
    exercise's own body and the module's top-level statements: "line 12: .var", "line 30: getattr". Empty when
    the source does not parse (the tests report that on their own)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str] = []
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in tree.body:
        name = getattr(node, "name", None) if isinstance(node, definitions) else None
        if name in exercises and name != exercise:
            continue  # another exercise's own code may use what this one must not
        dynamic = name == exercise or not isinstance(node, definitions)
        for inner in ast.walk(node):
            found += _hits(inner, names, dynamic)
    return sorted(set(found), key=lambda text: int(text.split(":")[0].split()[1]))


def _hits(node: ast.AST, names: set[str], dynamic: bool) -> list[str]:
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Attribute) and node.attr in names:
        return [f"line {line}: .{node.attr}"]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [f"line {line}: imports {alias.name}" for alias in node.names if alias.name.split(".")[-1] in names]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
        return [f"line {line}: the string {node.value!r}"]
    if dynamic:
        if isinstance(node, ast.Name) and node.id in DYNAMIC:
            return [f"line {line}: {node.id}"]
        if isinstance(node, ast.Attribute) and node.attr in DYNAMIC:
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            # `self.vars` is a buffer, not `vars()`: a built-in's name as an attribute counts when it is read from
            # `builtins`; the look-up machinery (`sys.modules`, `obj.__dict__`, `importlib.import_module`) always.
            if node.attr in ATTRIBUTE_LOOKUPS or owner in ("builtins", "__builtins__"):
                return [f"line {line}: .{node.attr}"]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(m.split(".")[0] in ("importlib", "inspect", "operator", "builtins") for m in modules):
                return [f"line {line}: imports {', '.join(modules)}"]
    return []


def assert_no_oracle_in_source(found: list[str], call: str, instead: str) -> None:
    assert not found, (f"{call}: your file refers to the function the tests compare with, or looks functions up "
                       f"by name ({'; '.join(found[:5])}). {instead}")
