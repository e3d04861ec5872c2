"""A pytest plugin for the nbval runs of `python -m grader check`: glued values are not compared.

myst-nb's `glue(name, value, display=False)` stores the value as an output of its cell (a
`application/papermill.record/...` entry), from which the prose reads it. Such a value comes from a
computation (often a training run), so its last digits differ from machine to machine; what the prose
claims about it is guarded by an assertion in the notebook, which both nbval runs execute. Comparing the
stored digits would fail on every other machine and check nothing the assertion does not.
"""
from __future__ import annotations

GLUE_PREFIX = "application/papermill.record/"
GLUE_TYPES = tuple(GLUE_PREFIX + kind for kind in ("text/plain", "text/html", "text/markdown", "text/latex",
                                                  "image/png", "image/jpeg", "image/svg+xml",
                                                  "application/json"))


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        parent = getattr(item, "parent", None)
        skip = getattr(parent, "skip_compare", None)
        if isinstance(skip, tuple) and GLUE_TYPES[0] not in skip:
            parent.skip_compare = skip + GLUE_TYPES
