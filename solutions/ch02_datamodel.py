"""Chapter 2: Python's data model (dunder methods) and reading library source.

Reference solutions; see CONTRIBUTING.md for the `# BEGIN SOLUTION` / `# END SOLUTION` markers.
"""
from __future__ import annotations

import re


def listify(o) -> list:
    """Turn `o` into a list: None -> [], a string or a non-iterable -> [o], an iterable -> list(o)."""
    if o is None:
        return []
    if isinstance(o, list):
        return o
    if isinstance(o, (str, bytes)):
        return [o]
    try:
        return list(o)
    except TypeError:
        return [o]


class ListContainer:
    """A list with numpy-style indexing: an int, a slice, a boolean mask, or a list of indices.

    `ListContainer(items)` keeps `listify(items)` in `self.items`.

    >>> lc = ListContainer(["a", "b", "c"])
    >>> lc[0], lc[[0, 2]], lc[[True, False, True]]
    ('a', ['a', 'c'], ['a', 'c'])

    Book: chapter 2, "A container that indexes like numpy".
    """

    def __init__(self, items=None):
        self.items = listify(items)

    def __getitem__(self, idx):
        """Return one item for an int, else a list: for a slice, a boolean mask (length checked) or a list of indices."""
        # BEGIN SOLUTION
        if isinstance(idx, (int, slice)):
            return self.items[idx]
        idx = list(idx)
        if idx and isinstance(idx[0], bool):
            if len(idx) != len(self.items):
                raise IndexError(f"boolean mask of length {len(idx)} for {len(self.items)} items")
            return [item for item, keep in zip(self.items, idx) if keep]
        return [self.items[i] for i in idx]
        # END SOLUTION

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __setitem__(self, idx, value):
        self.items[idx] = value

    def __delitem__(self, idx):
        del self.items[idx]

    def __repr__(self):
        shown = f"{self.items[:10]}"
        if len(self.items) > 10:
            shown = shown[:-1] + ", ...]"
        return f"{type(self).__name__} ({len(self)} items)\n{shown}"


def camel2snake(name: str) -> str:
    """Convert a CamelCase class name to snake_case.

    >>> camel2snake("TrainEvalCallback"), camel2snake("LRFinder"), camel2snake("AvgStatsCallback")
    ('train_eval_callback', 'lr_finder', 'avg_stats_callback')

    Book: chapter 2, "Names from class names".
    """
    # BEGIN SOLUTION
    partial = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", partial).lower()
    # END SOLUTION
