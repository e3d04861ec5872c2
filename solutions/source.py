"""Show the book's library code in a chapter: `show_source(obj)` prints what the reader should read.

The exercise markers (`# BEGIN SOLUTION` / `# END SOLUTION`) are left out, and so are the docstrings
when `docstrings=False`, so that a printed function is the code itself.
"""
from __future__ import annotations

import ast
import inspect
import textwrap

MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")


def source_of(obj, docstrings: bool = True) -> str:
    """The source of a function, method or class, dedented, without the exercise markers."""
    source = textwrap.dedent(inspect.getsource(obj))
    skip: set[int] = set()
    if not docstrings:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and ast.get_docstring(node):
                doc = node.body[0]
                skip.update(range(doc.lineno - 1, doc.end_lineno))
    kept = [line for i, line in enumerate(source.splitlines(keepends=True))
            if i not in skip and line.strip() not in MARKERS]
    return "".join(kept).rstrip()


def show_source(obj, docstrings: bool = True) -> None:
    """Print `source_of(obj, docstrings)`: `show_source(Runner.__call__)` in chapter 5, say."""
    print(source_of(obj, docstrings))
