"""Mutants: plausible wrong versions of one exercise, each of which the tests must reject.

A chapter's mutants live in `tests/mutants/chNN_topic.py` as a list `MUTANTS` of `Mutant`s. A mutant
is a textual edit of the reference solution: `old` must occur exactly once in the solutions module,
inside a solution region of the mutant's exercise, and is replaced by `new`.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from .catalog import SOLUTIONS, TESTS, CatalogError, parse_regions

MUTANTS_DIR = TESTS / "mutants"


@dataclass(frozen=True)
class Mutant:
    exercise: str  # "ch01.make_counter"
    why: str  # the mistake it stands for, in a few words (the maintainer's name for it)
    old: str
    new: str
    learner: str = ""  # the diagnosis a learner reads when their code behaves like this mutant ("You ...")
    section: str = ""  # the title of the chapter's section that explains the right way


def load_mutants(chapter: str) -> list[Mutant]:
    path = MUTANTS_DIR / f"{chapter}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"_mutants_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def apply(mutant: Mutant, chapter: str) -> str:
    """The solutions module's source with the mutant applied; CatalogError if the edit is stale."""
    path = SOLUTIONS / f"{chapter}.py"
    source = path.read_text()
    count = source.count(mutant.old)
    if count != 1:
        raise CatalogError(f"mutant {mutant.exercise} ({mutant.why}): its `old` text occurs {count} times "
                           f"in {path}, it must occur exactly once")
    start = source.index(mutant.old)
    first = source.count("\n", 0, start) + 1
    last = first + mutant.old.count("\n")
    inside = [r for r in parse_regions(path, chapter) if r.begin < first and last < r.end]
    if not inside or inside[0].exercise != mutant.exercise:
        raise CatalogError(f"mutant {mutant.exercise} ({mutant.why}): lines {first}-{last} of {path} are not "
                           f"inside a solution region of {mutant.exercise}")
    return source.replace(mutant.old, mutant.new)
