"""The docstrings point into the book correctly, and the learner's copies describe themselves as theirs.

Every `Book: chapter N, "Section"` in solutions/ must name a heading of that chapter's notebook (backticks
ignored), and every exercise's docstring must have one: a learner who follows a reference must land on
the section it names.
"""
import ast
import json
import re
from pathlib import Path

import pytest

from grader import catalog, stubs

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r'Book: chapter (\d+), (.*?)(?:\(|$)', re.S)


def headings(chapter_number: int) -> set[str]:
    (path,) = (ROOT / "book").glob(f"ch{chapter_number:02d}_*.ipynb")
    found = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("#"):
                found.add(line.lstrip("#").strip().replace("`", ""))
    return found


def references(path: Path):
    """(object name, chapter number, [section titles]) for every docstring of a solutions module."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)):
            doc = ast.get_docstring(node)
            for match in REFERENCE.finditer(doc or ""):
                titles = re.findall(r'"([^"]+)"', match.group(2).split("\n\n")[0])
                yield getattr(node, "name", path.stem), int(match.group(1)), titles


@pytest.mark.parametrize("chapter", catalog.chapter_names())
def test_every_book_reference_names_a_heading(chapter):
    path = catalog.SOLUTIONS / f"{chapter}.py"
    wrong = []
    for name, number, titles in references(path):
        known = headings(number)
        assert titles, f"{path.name}: {name}'s Book: reference names no section in quotes"
        wrong += [f'{name}: chapter {number} has no heading "{t}"' for t in titles if t.replace("`", "") not in known]
    assert not wrong, f"{path.name}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("chapter", catalog.chapter_names())
def test_every_exercise_points_into_the_book(chapter):
    documented = {name for name, _, _ in references(catalog.SOLUTIONS / f"{chapter}.py")}
    missing = [e.id for e in catalog.exercises([chapter]) if e.name not in documented]
    assert not missing, f"exercises without a Book: reference in their docstring: {missing}"


@pytest.mark.parametrize("chapter", catalog.chapter_names())
def test_the_learners_copy_describes_itself_as_theirs(chapter):
    text = stubs.stub_source(chapter)
    doc = ast.get_docstring(ast.parse(text))
    assert "Reference solutions" not in text, f"exercises/{chapter}.py calls itself the reference solutions"
    assert doc and "Your copy of the exercises" in doc, f"exercises/{chapter}.py's docstring does not say it is the learner's copy"


@pytest.mark.timeout(120)  # one full MNIST epoch on a CPU: several seconds, more on a loaded machine
def test_the_gpu_appendix_example_runs():
    text = (ROOT / "book" / "appendix_gpu.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "DeviceCallback" in b]
    assert blocks, "book/appendix_gpu.md has no python example with DeviceCallback"
    namespace = {}
    exec(compile(blocks[0], "appendix_gpu.md", "exec"), namespace)  # noqa: S102 - the book's own example
    assert namespace["run"].n_iter > 0, "the example did not train"
