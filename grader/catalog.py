"""What exercises exist, where they are, what they are worth: read from the source, never imported.

The catalog parses `solutions/chNN_*.py` (solution regions), `tests/test_chNN_*.py` (exercise
markers and their points) and `hints/chNN_*.toml` with `ast` and `tomllib` only, so the progress
table and the hints answer instantly and never import torch.
"""
from __future__ import annotations

import ast
import copy
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
TESTS = ROOT / "tests"
HINTS = ROOT / "hints"

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
CHAPTER_RE = re.compile(r"^(ch\d\d)_[a-z0-9_]+$")


class CatalogError(Exception):
    """The solutions, tests or hints are not laid out as the grading contract says."""


@dataclass
class Region:
    """One `# BEGIN SOLUTION` ... `# END SOLUTION` block of a solutions module."""

    exercise: str  # "ch01.make_counter"
    begin: int  # 1-based line of the BEGIN marker
    end: int  # 1-based line of the END marker
    indent: str
    task: str  # one line of what to do

    @property
    def stub_line(self) -> str:
        message = f"Exercise {self.exercise}: {self.task}"
        return f"{self.indent}raise NotImplementedError({message!r})"


@dataclass
class Exercise:
    id: str  # "ch01.make_counter"
    chapter: str  # "ch01_callbacks"
    name: str  # "make_counter"
    line: int  # line of its def/class in the solutions module
    regions: list[Region] = field(default_factory=list)
    points: float | None = None  # from the tests' markers
    n_tests: int = 0  # test functions that carry its marker
    hints: list[str] = field(default_factory=list)
    beyond: bool = False


def chapter_names() -> list[str]:
    """The chapters that have a solutions module, in order: ["ch01_callbacks", ...]."""
    return sorted(p.stem for p in SOLUTIONS.glob("ch[0-9][0-9]_*.py"))


def chapter_prefix(chapter: str) -> str:
    match = CHAPTER_RE.match(chapter)
    if not match:
        raise CatalogError(f"{chapter!r} is not a chapter name like 'ch01_callbacks'")
    return match.group(1)


def _first_doc_line(node: ast.AST) -> str | None:
    doc = ast.get_docstring(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None
    if doc:
        return doc.strip().splitlines()[0].strip()
    return None


def parse_regions(path: Path, chapter: str) -> list[Region]:
    """The solution regions of one solutions module, each tied to its top-level def or class."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    prefix = chapter_prefix(chapter)
    regions: list[Region] = []
    begin: int | None = None
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if stripped == BEGIN:
            if begin is not None:
                raise CatalogError(f"{path}:{number}: {BEGIN} inside another region (opened at line {begin})")
            begin = number
        elif stripped == END:
            if begin is None:
                raise CatalogError(f"{path}:{number}: {END} without a {BEGIN}")
            regions.append(_region(path, tree, lines, prefix, begin, number))
            begin = None
        elif stripped.startswith("#") and ("BEGIN SOLUTION" in stripped or "END SOLUTION" in stripped):
            raise CatalogError(f"{path}:{number}: malformed marker {stripped!r}; write exactly {BEGIN!r} or {END!r}")
    if begin is not None:
        raise CatalogError(f"{path}:{begin}: {BEGIN} is never closed")
    return regions


def _region(path: Path, tree: ast.Module, lines: list[str], prefix: str, begin: int, end: int) -> Region:
    top = next((n for n in tree.body if n.lineno <= begin <= (n.end_lineno or n.lineno)), None)
    if not isinstance(top, (ast.FunctionDef, ast.ClassDef)):
        raise CatalogError(f"{path}:{begin}: a solution region must sit inside a top-level function or class")
    # The innermost function whose body holds the region's first statement: the stub's raise goes there.
    first = next((n for n in range(begin + 1, end) if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#")), None)
    if first is None:
        raise CatalogError(f"{path}:{begin}: the solution region is empty")
    inner = None
    for node in ast.walk(top):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            if node.body[0].lineno <= first <= (node.end_lineno or 0):
                if inner is None or node.lineno > inner.lineno:
                    inner = node
    if inner is None:
        raise CatalogError(f"{path}:{begin}: a solution region must sit inside a function body, "
                           "so that the stub raises when called, not when imported")
    indent = lines[begin - 1][: len(lines[begin - 1]) - len(lines[begin - 1].lstrip())]
    task = _first_doc_line(inner) or _first_doc_line(top) or f"implement {inner.name}"
    return Region(exercise=f"{prefix}.{top.name}", begin=begin, end=end, indent=indent, task=task)


def _marker_calls(tree: ast.AST):
    """Every `pytest.mark.exercise(...)` / `mark.exercise(...)` call in a test module."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name == "exercise" and node.args and isinstance(node.args[0], ast.Constant):
            yield node  # `pytest.mark.exercise(...)`, or an alias such as `exercise = pytest.mark.exercise`


def parse_test_markers(path: Path) -> dict[str, tuple[float, int]]:
    """{exercise id: (points, number of marker uses)} for one test module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: dict[str, tuple[float, int]] = {}
    for call in _marker_calls(tree):
        if not call.args or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
            raise CatalogError(f"{path}:{call.lineno}: the exercise marker needs the id as a string literal")
        points = 1.0
        for kw in call.keywords:
            if kw.arg == "points":
                points = float(ast.literal_eval(kw.value))
        exercise = call.args[0].value
        if exercise in found and found[exercise][0] != points:
            raise CatalogError(f"{path}:{call.lineno}: {exercise} is worth {found[exercise][0]} points elsewhere "
                               f"in this file but {points} here; give every test of an exercise the same points")
        found[exercise] = (points, found.get(exercise, (points, 0))[1] + 1)
    return found


def load_hints(chapter: str) -> dict[str, dict]:
    path = HINTS / f"{chapter}.toml"
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: {error}") from None


_PARSED: dict[str, tuple[tuple, list[Exercise]]] = {}


def exercises(chapters: list[str] | None = None) -> list[Exercise]:
    """Every exercise of the given chapters (default: all), in book order. A chapter is parsed again only
    when its solutions, tests or hints file changed (the mutant step and the diagnosis ask hundreds of times)."""
    result: list[Exercise] = []
    for chapter in chapters or chapter_names():
        files = (SOLUTIONS / f"{chapter}.py", TESTS / f"test_{chapter}.py", HINTS / f"{chapter}.toml")
        key = tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else None for f in files)
        cached = _PARSED.get(chapter)
        if cached is None or cached[0] != key:
            _PARSED[chapter] = cached = (key, _chapter_exercises(chapter))
        result.extend(copy.deepcopy(cached[1]))
    return result


def _chapter_exercises(chapter: str) -> list[Exercise]:
    by_id: dict[str, Exercise] = {}
    for region in parse_regions(SOLUTIONS / f"{chapter}.py", chapter):
        if region.exercise not in by_id:
            tree_line = _def_line(SOLUTIONS / f"{chapter}.py", region.exercise.split(".", 1)[1])
            by_id[region.exercise] = Exercise(region.exercise, chapter, region.exercise.split(".", 1)[1], tree_line)
        by_id[region.exercise].regions.append(region)
    test_file = TESTS / f"test_{chapter}.py"
    if test_file.exists():
        for exercise, (points, uses) in parse_test_markers(test_file).items():
            if exercise in by_id:
                by_id[exercise].points, by_id[exercise].n_tests = points, uses
    hints = load_hints(chapter)
    for exercise in by_id.values():
        entry = hints.get(exercise.name, {})
        exercise.hints = list(entry.get("hints", []))
        exercise.beyond = bool(entry.get("beyond", False))
    return sorted(by_id.values(), key=lambda e: e.line)


def _def_line(path: Path, name: str) -> int:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node.lineno
    return 0


def find(exercise_id: str, catalog: list[Exercise]) -> Exercise:
    """Look an exercise up the same way everywhere (`hint`, `--exercise`, `check`, `watch`): by its id
    ("ch01.make_counter"), by its bare name if only one chapter has it ("make_counter"), ignoring case, and
    with the chapter written either way ("ch01_callbacks.make_counter", "1.make_counter"). CatalogError
    with did-you-mean suggestions otherwise."""
    wanted = exercise_id.strip()
    by_id = {e.id: e for e in catalog}
    if wanted in by_id:
        return by_id[wanted]
    lowered = {e.id.lower(): e for e in catalog}
    key = wanted.lower()
    if "." in key:
        chapter, _, name = key.partition(".")
        chapter = re.sub(r"^(ch)?0*(\d+)(_.*)?$", lambda m: f"ch{int(m.group(2)):02d}", chapter)
        key = f"{chapter}.{name}"
        if key in lowered:
            return lowered[key]
    bare = [e for e in catalog if e.name.lower() == key.split(".")[-1] and "." not in key]
    if len(bare) == 1:
        return bare[0]
    import difflib

    chapter = key.partition(".")[0] if "." in key else ""
    in_chapter = [e for e in catalog if e.id.lower().startswith(f"{chapter}.")] if chapter else []
    pool = in_chapter or catalog  # a known chapter: suggest only its exercises
    names = [e.id.lower() for e in pool] + [e.name.lower() for e in pool]
    close = difflib.get_close_matches(key, names, n=4, cutoff=0.6)
    close_ids = sorted({lowered[c].id if c in lowered else next(e.id for e in pool if e.name.lower() == c)
                        for c in close})
    suggestion = f" Did you mean {', '.join(close_ids)}?" if close_ids else ""
    if in_chapter and not close_ids:
        suggestion = f" {in_chapter[0].id.partition('.')[0]} has {', '.join(e.id for e in in_chapter)}."
    if len(bare) > 1:
        suggestion = f" Several chapters have it: {', '.join(e.id for e in bare)}."
    raise CatalogError(f"No exercise called {exercise_id!r}.{suggestion} "
                       "`python -m grader` lists them all.")
