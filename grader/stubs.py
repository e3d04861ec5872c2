"""Generate `exercises/` from `solutions/`: each solution region becomes one `raise NotImplementedError`."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from .catalog import SOLUTIONS, chapter_names, parse_regions

HEADER = ("# Your copy of the exercises, generated from solutions/{name}.py by `python -m grader make-exercises`.\n"
          "# Replace each `raise NotImplementedError(...)` with your code, then grade it with\n"
          "# `pytest tests/test_{name}.py` or `python -m grader`.\n")
INIT = '"""Your solutions to the exercises: edit these files. `python -m grader` shows your progress."""\n'


MAINTAINER_NOTE = re.compile(r"Reference solutions\. The code between .*?`NotImplementedError`\.", re.S)
LEARNER_NOTE = ("Your copy of the exercises: replace each `raise NotImplementedError(...)` with your code.\n"
                "The docstrings say what each exercise takes and returns; `pytest tests/test_{name}.py`\n"
                "grades them, and `python -m grader hint ID` gives hints.")


def learner_docstring(source: str, chapter: str) -> str:
    """The module as a learner should read it: the sentences of its docstring that begin "Reference
    solutions." (written for maintainers) become a note about the learner's own copy, which is also
    added after the docstring's first paragraph when there are no such sentences."""
    tree = ast.parse(source)
    doc = tree.body[0] if tree.body and isinstance(tree.body[0], ast.Expr) else None
    if doc is None or not isinstance(doc.value, ast.Constant) or not isinstance(doc.value.value, str):
        return source
    lines = source.splitlines(keepends=True)
    head, rest = "".join(lines[:doc.end_lineno]), "".join(lines[doc.end_lineno:])
    note = LEARNER_NOTE.format(name=chapter)
    new_head, count = MAINTAINER_NOTE.subn(lambda _: note, head, count=1)
    if count == 0:
        body = head[3:-4] if head.endswith('"""\n') else head[3:-3]
        paragraphs = body.split("\n\n")
        new_head = '"""' + "\n\n".join([paragraphs[0], note, *paragraphs[1:]]).rstrip("\n") + '\n"""\n'
    return new_head + rest


def stub_source(chapter: str) -> str:
    """The exercises module for one chapter, as text."""
    path = SOLUTIONS / f"{chapter}.py"
    lines = path.read_text().splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for region in parse_regions(path, chapter):
        out.extend(lines[position: region.begin - 1])
        out.append(region.stub_line + "\n")
        position = region.end
    out.extend(lines[position:])
    return HEADER.format(name=chapter) + learner_docstring("".join(out), chapter)


def generate(out_dir: Path) -> list[Path]:
    """Write every chapter's stubs (and the package `__init__.py`) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "__init__.py"]
    written[0].write_text(INIT)
    for chapter in chapter_names():
        target = out_dir / f"{chapter}.py"
        target.write_text(stub_source(chapter))
        written.append(target)
    return written


def out_of_sync(exercises_dir: Path, chapters: list[str] | None = None) -> list[str]:
    """Files of `exercises_dir` that differ from what the generator makes (empty when in sync)."""
    problems = []
    expected = {"__init__.py": INIT} | {f"{c}.py": stub_source(c) for c in chapters or chapter_names()}
    for name, text in expected.items():
        path = exercises_dir / name
        if not path.exists():
            problems.append(f"{path} is missing")
        elif path.read_text() != text:
            problems.append(f"{path} differs from the generated stubs")
    for path in exercises_dir.glob("*.py"):
        if chapters is None and path.name not in expected:
            problems.append(f"{path} has no solutions module")
    return problems
