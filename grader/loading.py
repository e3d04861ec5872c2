"""Load a chapter module from the grading target: exercises/, solutions/ or a submission folder."""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path

from .catalog import EXERCISES, ROOT

ENV_VAR = "GRADER_TARGET"


class ChapterImportError(Exception):
    """The target's chapter module is missing or does not import; its tests become errors."""


def target_dir(target: str) -> Path | None:
    """The folder that holds the target's chNN files; None for the reference solutions."""
    if target == "solutions":
        return None
    if target == "exercises":
        return EXERCISES
    path = Path(target).expanduser().resolve()
    if not path.is_dir():
        raise ChapterImportError(f"--target={target}: {path} is not a folder")
    # A submission may be a whole copy of the repository: grade its exercises/ folder.
    if not any(path.glob("ch[0-9][0-9]_*.py")) and (path / "exercises").is_dir():
        return path / "exercises"
    return path


def default_target() -> str:
    return os.environ.get(ENV_VAR, "exercises")


def load_chapter(target: str, chapter: str):
    """Import `chapter` ("ch01_callbacks") from `target`; raise ChapterImportError with file:line."""
    folder = target_dir(target)
    if folder is None:
        return importlib.import_module(f"solutions.{chapter}")
    path = folder / f"{chapter}.py"
    if not path.exists():
        raise ChapterImportError(f"{path} does not exist: the target has no {chapter} module")
    tag = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    name = f"_graded_{tag}_{chapter}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    if str(ROOT) not in sys.path:  # chapters import earlier chapters from `solutions`
        sys.path.insert(0, str(ROOT))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:  # noqa: BLE001 - a timeout (pytest's Failed) included
        del sys.modules[name]
        raise ChapterImportError(describe_import_failure(path, error)) from None
    return module


def describe_import_failure(path: Path, error: BaseException) -> str:
    """`file:line: Type: message`, pointing into the learner's file where possible."""
    if isinstance(error, SyntaxError):
        where = f"{error.filename}:{error.lineno}"
        code = f"\n    {error.text.rstrip()}" if error.text else ""
        return f"{where}: SyntaxError: {error.msg}{code}\nFix this line; no test of this chapter can run until the file imports."
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    where = f"{path}:{frames[-1].lineno}" if frames else str(path)
    kind = type(error).__name__
    text = str(error).splitlines()[0] if str(error) else ""
    if kind == "Failed" and text.startswith("Timeout"):
        text, kind = "importing the module took too long (an infinite loop at the top level?)", "Timeout"
    return f"{where}: {kind}: {text}\nThe module raised while being imported; no test of this chapter can run until it imports."
