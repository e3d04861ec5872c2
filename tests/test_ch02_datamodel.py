"""Grades chapter 2: dunder methods, a numpy-style container, attribute delegation, context
managers, names from class names, and a miniature nn.Module.

Oracles: Python's own `list` (indexing, slicing, assignment and deletion), `itertools.compress` for
masks, `copy` and `pickle` round trips, a fake clock for `Timer`, names assembled from their words
for `camel2snake`, and the behaviour a caller of `nn.Module` relies on (registration order, hook
order and arguments, handles that remove). Pure Python, but for one observer that indexes with a torch
tensor (the case that was once wrong), which imports torch when it runs.

Each test asks `probe(observe_..., *inputs)`: the `observe_...` function runs the learner's code where it
runs (this process, or a sandboxed worker when a class is graded) and returns plain data; the test judges
that data here (grader/probe.py). Objects the learner's code handles (an `Index`, a slice, an iterator, a
numpy mask) are built inside the observers from plain descriptions (`index_from`).
"""
import copy
import itertools
import operator
import pickle
import time
import types
from unittest import mock

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from grader.probe import outcome

exercise = pytest.mark.exercise


def behaviour(result):
    """('returned', value) or ('raised', exception type name): an `outcome` without the error's message."""
    return ("raised", result["raised"]) if "raised" in result else ("returned", result["returned"])


def select_list(container, indices):
    """container[indices] as a list; for a plain list (the oracle), item by item."""
    if isinstance(container, list):
        return [container[i] for i in indices]
    return list(container[indices])


class Index:
    """Not an int, but usable as one: lists accept any object with __index__ (numpy integers do this)."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return f"Index({self.value})"


def index_from(spec):
    """The index a plain description stands for: {"Index": i}, {"Indexes": [i, ...]}, {"slice": [a, b, c]},
    {"iter": [i, ...]}; anything else (an int, a bool, a list, a tuple, None, a float, a str) is itself."""
    if type(spec) is dict:
        (kind, value), = spec.items()
        if kind == "Index":
            return Index(value)
        if kind == "Indexes":
            return [Index(i) for i in value]
        if kind == "slice":
            return slice(*value)
        if kind == "iter":
            return iter(value)
        raise ValueError(f"not an index description: {spec!r}")
    return spec


def shown(spec):
    """How a test's message writes the index `spec` describes."""
    if type(spec) is dict and "iter" in spec:
        return f"iter({spec['iter']})"
    return repr(index_from(spec))


def items_of(container):
    """A snapshot of `container.items` (a later change must not alter what was observed)."""
    return copy.copy(container.items)


# --- SloppyAdder --------------------------------------------------------------------------------

numbers_ = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False))


def adder_seen(ch, value):
    """Whether `value` is a SloppyAdder, its type's name, and its .o if it is one."""
    is_adder = isinstance(value, ch.SloppyAdder)
    return {"is_adder": is_adder, "type": type(value).__name__, "o": value.o if is_adder else None}


def observe_add(ch, a, b):
    left, right = ch.SloppyAdder(a), ch.SloppyAdder(b)
    total = left + right
    return {"total": adder_seen(ch, total), "left": left.o, "right": right.o}


@exercise("ch02.SloppyAdder")
@given(a=numbers_, b=numbers_)
def test_sloppy_adder_adds_a_hundredth(probe, a, b):
    seen = probe(observe_add, a, b)
    total = seen["total"]
    assert total["is_adder"], f"SloppyAdder({a}) + SloppyAdder({b}) must be a SloppyAdder, got {total['type']}"
    assert total["o"] == pytest.approx(a + b + 0.01, rel=1e-12, abs=1e-9), \
        f"SloppyAdder({a}) + SloppyAdder({b}): expected .o == {a + b + 0.01}, got {total['o']}"
    assert (seen["left"], seen["right"]) == (a, b), "+ must return a new object and leave both operands unchanged"


def observe_adder_reprs(ch):
    return {"sum": repr(ch.SloppyAdder(1) + ch.SloppyAdder(2)), "seven": repr(ch.SloppyAdder(7)),
            "str": str(ch.SloppyAdder(2.5))}


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_repr_is_the_plain_number(probe):
    seen = probe(observe_adder_reprs)
    assert seen["sum"] == str(1 + 2 + 0.01) == "3.01", \
        f"repr(SloppyAdder(1) + SloppyAdder(2)) should be '3.01', got {seen['sum']!r}"
    assert seen["seven"] == "7" and seen["str"] == "2.5", "the repr is str(self.o); str falls back to it"


def observe_adder_with_numbers(ch, values, number):
    right = ch.SloppyAdder(number) + 1
    left = 1 + ch.SloppyAdder(number)
    total = sum(ch.SloppyAdder(v) for v in values)
    return {"right": adder_seen(ch, right), "left": adder_seen(ch, left),
            "sum": total.o if isinstance(total, ch.SloppyAdder) else total}


@exercise("ch02.SloppyAdder")
@given(values=st.lists(st.integers(-100, 100), max_size=6), number=st.integers(-100, 100))
def test_sloppy_adder_mixes_with_numbers(probe, values, number):
    seen = probe(observe_adder_with_numbers, values, number)
    right, left = seen["right"], seen["left"]
    assert right["is_adder"] and right["o"] == pytest.approx(number + 1.01), \
        f"SloppyAdder({number}) + 1 should hold {number + 1.01}"
    assert left["is_adder"] and left["o"] == pytest.approx(number + 1.01), \
        f"1 + SloppyAdder({number}) should hold {number + 1.01}: int.__add__ gives up, so Python calls __radd__"
    # sum starts from 0: 0 + a, then + b, ... one sloppy hundredth per addition.
    expected = sum(values) + 0.01 * len(values)
    got = seen["sum"]
    assert got == pytest.approx(expected, abs=1e-9), f"sum of SloppyAdders of {values}: expected {expected}, got {got}"


def observe_adder_refusals(ch):
    direct = outcome(ch.SloppyAdder(1).__add__, "two")
    return {"plus_str": outcome(operator.add, ch.SloppyAdder(1), "two"),
            "list_plus": outcome(operator.add, [1], ch.SloppyAdder(1)),
            "dunder_gives_not_implemented": "returned" in direct and direct["returned"] is NotImplemented,
            "dunder": direct.get("raised") or repr(direct.get("returned"))[:200]}


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_refuses_other_types(probe):
    seen = probe(observe_adder_refusals)
    assert seen["plus_str"].get("raised") == "TypeError", \
        f"SloppyAdder(1) + 'two' must raise TypeError; it gave {seen['plus_str']}"
    assert seen["list_plus"].get("raised") == "TypeError", \
        f"[1] + SloppyAdder(1) must raise TypeError; it gave {seen['list_plus']}"
    assert seen["dunder_gives_not_implemented"], (
        "for a type you cannot add, return NotImplemented (do not raise): Python then tries the other side; "
        f"SloppyAdder(1).__add__('two') gave {seen['dunder']}")


def observe_augmented(ch):
    start = ch.SloppyAdder(1)
    total = start
    total += ch.SloppyAdder(2)
    return {"same": total is start, "start": start.o, "total": getattr(total, "o", None)}


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_augmented_assignment_rebinds(probe):
    seen = probe(observe_augmented)
    assert not seen["same"] and seen["start"] == 1, \
        "`a += b` without __iadd__ means `a = a + b`: the old object is untouched"
    assert seen["total"] == pytest.approx(3.01)


def float_adder(ch, value):
    """adder_seen with .o as a Python float (a numpy scalar is not plain data)."""
    is_adder = isinstance(value, ch.SloppyAdder)
    return {"is_adder": is_adder, "type": type(value).__name__, "o": float(value.o) if is_adder else None}


def observe_adder_with_other_numbers(ch):
    from fractions import Fraction

    import numpy as np

    cases = {"SloppyAdder(1) + Fraction(1, 2)": lambda: ch.SloppyAdder(1) + Fraction(1, 2),
             "Fraction(1, 2) + SloppyAdder(1)": lambda: Fraction(1, 2) + ch.SloppyAdder(1),
             "SloppyAdder(2) + np.int64(3)": lambda: ch.SloppyAdder(2) + np.int64(3),
             "SloppyAdder(2) + np.float64(0.5)": lambda: ch.SloppyAdder(2) + np.float64(0.5),
             "SloppyAdder(1) + True": lambda: ch.SloppyAdder(1) + True}
    seen = {}
    for name, add in cases.items():
        got = outcome(lambda: float_adder(ch, add()))
        seen[name] = {"raised": got["raised"]} if "raised" in got else got["returned"]
    return seen


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_takes_any_number(probe):
    seen = probe(observe_adder_with_other_numbers)
    expected = {"SloppyAdder(1) + Fraction(1, 2)": 1.51, "Fraction(1, 2) + SloppyAdder(1)": 1.51,
                "SloppyAdder(2) + np.int64(3)": 5.01, "SloppyAdder(2) + np.float64(0.5)": 2.51,
                "SloppyAdder(1) + True": 2.01}
    for name, value in expected.items():
        got = seen[name]
        assert got.get("is_adder") and got["o"] == pytest.approx(value, abs=1e-9), (
            f"{name} should be a SloppyAdder holding {value}: any numbers.Number is a plain number (a Fraction, a "
            f"numpy integer, a bool), not only int and float; it gave {got}")


# --- ListContainer ------------------------------------------------------------------------------

items_ = st.lists(st.integers(-99, 99), max_size=14)


@st.composite
def items_and_indices(draw, min_size=1):
    items = draw(st.lists(st.integers(-99, 99), min_size=min_size, max_size=14))
    n = len(items)
    indices = draw(st.lists(st.integers(-n, n - 1), max_size=8)) if n else []
    return items, indices


@st.composite
def items_and_mask(draw):
    items = draw(items_)
    mask = draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items)))
    return items, mask


def observe_getitems(ch, items, specs):
    """What one ListContainer(items) gives for each index `specs` describes: outcomes, errors included."""
    lc = ch.ListContainer(list(items))
    return [outcome(operator.getitem, lc, index_from(spec)) for spec in specs]


@exercise("ch02.ListContainer", points=3)
@given(items=items_, index=st.integers(-16, 16))
def test_list_container_single_index_like_a_list(probe, items, index):
    specs = [index, {"Index": index}, True, False]
    seen = probe(observe_getitems, items, specs)
    for spec, got in zip(specs, seen):
        got, expected = behaviour(got), behaviour(outcome(operator.getitem, items, index_from(spec)))
        if type(spec) is bool:
            assert got == expected, (f"ListContainer({items})[{spec}]: a single bool indexes like the int it is; "
                                     f"a list gives {expected}, got {got}")
        else:
            assert got == expected, f"ListContainer({items})[{shown(spec)}]: a list gives {expected}, got {got}"


def observe_slice(ch, items, start, stop, step):
    return list(ch.ListContainer(list(items))[start:stop:step])


@exercise("ch02.ListContainer", points=3)
@given(items=items_, start=st.none() | st.integers(-16, 16), stop=st.none() | st.integers(-16, 16),
       step=st.none() | st.integers(-4, 4).filter(bool))
def test_list_container_slices_like_a_list(probe, items, start, stop, step):
    got = probe(observe_slice, items, start, stop, step)
    assert got == items[start:stop:step], f"ListContainer({items})[{start}:{stop}:{step}]"


def observe_mask(ch, items, mask):
    lc = ch.ListContainer(list(items))
    got = list(lc[mask])
    return {"got": got, "items": items_of(lc)}


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_mask())
def test_list_container_boolean_mask(probe, case):
    items, mask = case
    seen = probe(observe_mask, items, mask)
    expected = list(itertools.compress(items, mask))
    assert seen["got"] == expected, f"ListContainer({items})[{mask}]: expected {expected}, got {seen['got']}"
    assert seen["items"] == items, "indexing must not change the items"


@exercise("ch02.ListContainer", points=3)
@given(items=st.lists(st.integers(), min_size=1, max_size=10), extra=st.sampled_from([-1, 1]))
def test_list_container_mask_length_is_checked(probe, items, extra):
    mask = [True] * (len(items) + extra)
    assume(mask)
    got, = probe(observe_getitems, items, [mask])
    assert got.get("raised") == "IndexError", (
        f"ListContainer of {len(items)} items indexed with a mask of length {len(mask)} must raise IndexError; "
        f"it gave {got}")


def observe_selections(ch, items, specs):
    """select_list(ListContainer(items), index) for each index `specs` describes: outcomes, errors included."""
    lc = ch.ListContainer(list(items))
    return [outcome(select_list, lc, index_from(spec)) for spec in specs]


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_indices(min_size=0), out_of_range=st.booleans())
def test_list_container_index_list(probe, case, out_of_range):
    items, indices = case
    if out_of_range:
        indices = indices + [len(items)]
    specs = [indices, tuple(indices), {"iter": indices}, {"Indexes": indices}]
    seen = probe(observe_selections, items, specs)
    expected = behaviour(outcome(select_list, items, indices))
    for spec, got in zip(specs, seen):
        got = behaviour(got)
        assert got == expected, f"ListContainer({items})[{shown(spec)}]: expected {expected}, got {got}"


def observe_numpy_indexing(ch, items, mask, indices):
    import numpy as np

    array_mask, array_indices = np.array(mask, dtype=bool), np.array(indices, dtype=np.int64)
    seen = {"mask": outcome(select_list, ch.ListContainer(list(items)), array_mask),
            "indices": outcome(select_list, ch.ListContainer(list(items)), array_indices)}
    lc = ch.ListContainer(list(items))
    del lc[array_mask]
    seen["deleted"] = items_of(lc)
    lc = ch.ListContainer(list(items))
    lc[array_mask] = "x"
    seen["set"] = items_of(lc)
    return seen


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_mask(), indices=st.lists(st.integers(0, 13), max_size=5))
def test_list_container_numpy_masks_and_index_arrays(probe, case, indices):
    items, mask = case
    indices = [i for i in indices if i < len(items)]
    seen = probe(observe_numpy_indexing, items, mask, indices)
    expected = list(itertools.compress(items, mask))
    got = behaviour(seen["mask"])
    assert got == ("returned", expected), (f"ListContainer({items})[np.array({mask})]: a numpy boolean array is a "
                                           f"mask, as in numpy: expected {expected}, got {got}")
    got = behaviour(seen["indices"])
    assert got == ("returned", [items[i] for i in indices]), (
        f"ListContainer({items})[np.array({indices})]: an integer array is a list of indices; got {got}")
    kept = [item for item, drop in zip(items, mask) if not drop]
    assert seen["deleted"] == kept, \
        f"del ListContainer({items})[np.array({mask})]: expected {kept}, got {seen['deleted']}"
    assert seen["set"] == ["x" if keep else item for item, keep in zip(items, mask)], (
        f"ListContainer({items})[np.array({mask})] = 'x' sets the masked items; got {seen['set']}")


def observe_torch_indexing(ch):
    import torch  # the one observer of chapter 2 that needs torch: a tensor mask, the case that was once wrong

    lc = ch.ListContainer(list("abcde"))
    return {"mask": outcome(select_list, lc, torch.tensor([True, False, True, False, True])),
            "indices": outcome(select_list, lc, torch.tensor([4, -5])),
            "two_dims": outcome(select_list, lc, torch.ones(5, 1, dtype=torch.bool))}


@exercise("ch02.ListContainer", points=3)
def test_list_container_torch_boolean_mask(probe):
    seen = probe(observe_torch_indexing)
    got = behaviour(seen["mask"])
    assert got == ("returned", ["a", "c", "e"]), (
        "ListContainer(list('abcde'))[torch.tensor([True, False, True, False, True])] must select 'a', 'c', 'e' "
        f"as PyTorch does; got {got} (iterating a tensor gives 0-d tensors, which are not bools: True reads as 1)")
    got = behaviour(seen["indices"])
    assert got == ("returned", ["e", "a"]), f"an integer tensor is a list of indices: lc[torch.tensor([4, -5])] gave {got}"
    got = behaviour(seen["two_dims"])
    assert got == ("raised", "IndexError"), (
        f"a two-dimensional mask (shape (5, 1)) for a flat container must raise IndexError; got {got}")


@exercise("ch02.ListContainer", points=3)
def test_list_container_rejects_what_is_not_an_index(probe):
    bad = [1.5, None, "1"]
    seen = probe(observe_getitems, ["a", "b", "c"], bad)
    for index, got in zip(bad, seen):
        assert got.get("raised") == "TypeError", \
            f"ListContainer(...)[{index!r}] must raise TypeError, as a list does; it gave {got}"


def described(value):
    """What an indexing gave: its type's name, and its elements when it is a list."""
    return {"type": type(value).__name__, "items": list(value) if type(value) is list else None}


def observe_selection_types(ch, items, specs):
    lc = ch.ListContainer(list(items))
    seen = []
    for spec in specs:
        got = outcome(lambda: described(lc[index_from(spec)]))
        seen.append({"raised": got["raised"]} if "raised" in got else got["returned"])
    return seen


@exercise("ch02.ListContainer", points=3)
def test_list_container_selections_are_plain_lists(probe):
    items = list("abcd")
    specs = [{"slice": [1, 3]}, {"slice": [None, None, -1]}, [True, False, True, False], [0, -1], (2, 0),
             {"iter": [1]}, [], [0, 9]]
    seen = probe(observe_selection_types, items, specs)
    for spec, got in zip(specs, seen):
        if spec == [0, 9]:
            assert got == {"raised": "IndexError"}, (
                f"ListContainer({items})[[0, 9]] must raise IndexError when it is indexed (not later, when the "
                f"result is read); it gave {got}")
            continue
        index = index_from(spec)
        if type(spec) is dict and "slice" in spec:
            expected = items[index]
        elif type(spec) is list and spec and all(type(i) is bool for i in spec):
            expected = list(itertools.compress(items, spec))
        else:
            expected = select_list(items, spec["iter"] if type(spec) is dict else spec)
        assert got == {"type": "list", "items": expected}, (
            f"ListContainer({items})[{shown(spec)}] must give a plain list, {expected}, as a list's slice does "
            f"(not a ListContainer, a tuple or a generator); it gave {got}")


@exercise("ch02.ListContainer", points=3)
def test_list_container_mixed_bools_and_ints_are_indices(probe):
    items = list("abc")
    specs = [[True, 2], [False, 0], [0, True], [True, True]]
    seen = probe(observe_getitems, items, specs)
    for spec, got in zip(specs, seen):
        if all(type(i) is bool for i in spec):
            expected = ("raised", "IndexError")  # a mask of length 2 for 3 items
        else:
            expected = ("returned", [items[i] for i in spec])
        assert behaviour(got) == expected, (
            f"ListContainer({items})[{spec}]: a list is a boolean mask only when every element is a bool; otherwise "
            f"it is a list of indices, where True and False index like 1 and 0; expected {expected}, got "
            f"{behaviour(got)}")


def observe_setitems(ch, items, assignments):
    """On one ListContainer(items), `lc[index] = value` for each (index description, value): for each, the
    outcome and the items after it."""
    lc = ch.ListContainer(list(items))
    seen = []
    for spec, value in assignments:
        seen.append([outcome(operator.setitem, lc, index_from(spec), value), items_of(lc)])
    return seen


@exercise("ch02.ListContainer", points=3)
@given(items=items_, index=st.integers(-16, 16), value=st.integers())
def test_list_container_setitem_single_and_slice(probe, items, index, value):
    assignments = [(index, value), ({"Index": index}, value + 1), ({"slice": [1, 3]}, [value, value, value])]
    seen = probe(observe_setitems, items, assignments)
    reference = list(items)
    for (spec, val), (got, after) in zip(assignments, seen):
        expected = behaviour(outcome(operator.setitem, reference, index_from(spec), val))
        got = behaviour(got)
        assert got == expected, f"ListContainer({items})[{shown(spec)}] = {val!r}: a list gives {expected}, got {got}"
        assert after == reference, f"after lc[{shown(spec)}] = {val!r}: expected {reference}, got {after}"


def observe_setitem(ch, items, index, value):
    lc = ch.ListContainer(list(items))
    lc[index] = value
    return items_of(lc)


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_indices(), value=st.integers(), per_position=st.booleans())
def test_list_container_setitem_index_list(probe, case, value, per_position):
    items, indices = case
    values = [value + k for k in range(len(indices))] if per_position else value
    got = probe(observe_setitem, items, indices, values)
    reference = list(items)
    for k, i in enumerate(indices):
        reference[i] = values[k] if per_position else value
    assert got == reference, f"ListContainer({items})[{indices}] = {values}: expected {reference}, got {got}"


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_mask(), value=st.integers())
def test_list_container_setitem_mask(probe, case, value):
    items, mask = case
    got = probe(observe_setitem, items, mask, value)
    expected = [value if keep else item for item, keep in zip(items, mask)]
    assert got == expected, f"ListContainer({items})[{mask}] = {value}: expected {expected}, got {got}"


def observe_setitem_lengths(ch):
    lc = ch.ListContainer([0, 1, 2, 3])
    seen = {"too_many": outcome(operator.setitem, lc, [0, 1], [7, 8, 9]),
            "out_of_range": outcome(operator.setitem, lc, [0, 9], 5)}
    seen["after_failures"] = items_of(lc)
    lc[[1, 3]] = (10, 30)
    seen["after_tuple"] = items_of(lc)
    return seen


@exercise("ch02.ListContainer", points=3)
def test_list_container_setitem_checks_lengths(probe):
    seen = probe(observe_setitem_lengths)
    assert seen["too_many"].get("raised") == "ValueError", \
        f"lc[[0, 1]] = [7, 8, 9]: three values for two positions must raise ValueError; it gave {seen['too_many']}"
    assert seen["out_of_range"].get("raised") == "IndexError", \
        f"lc[[0, 9]] = 5 on 4 items must raise IndexError; it gave {seen['out_of_range']}"
    assert seen["after_failures"] == [0, 1, 2, 3], "a failed assignment must change nothing"
    assert seen["after_tuple"] == [0, 10, 2, 30], "a tuple of values gives one value per position"


def observe_delitems(ch, items, specs):
    """For each index description, on a fresh ListContainer(items): the outcome of `del lc[index]` and the
    items after it."""
    seen = []
    for spec in specs:
        lc = ch.ListContainer(list(items))
        seen.append([outcome(operator.delitem, lc, index_from(spec)), items_of(lc)])
    return seen


@exercise("ch02.ListContainer", points=3)
@given(items=items_, index=st.integers(-16, 16), start=st.none() | st.integers(-16, 16),
       stop=st.none() | st.integers(-16, 16))
def test_list_container_delitem_single_and_slice(probe, items, index, start, stop):
    specs = [index, {"Index": index}, {"slice": [start, stop]}]
    seen = probe(observe_delitems, items, specs)
    for spec, (got, after) in zip(specs, seen):
        reference = list(items)
        expected = behaviour(outcome(operator.delitem, reference, index_from(spec)))
        got = behaviour(got)
        assert got == expected, f"del ListContainer({items})[{shown(spec)}]: a list gives {expected}, got {got}"
        assert after == reference, f"after del lc[{shown(spec)}] on {items}: expected {reference}, got {after}"


def observe_delitem(ch, items, index):
    lc = ch.ListContainer(list(items))
    del lc[index]
    return items_of(lc)


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_indices())
def test_list_container_delitem_index_list(probe, case):
    items, indices = case
    got = probe(observe_delitem, items, indices)
    chosen = {i % len(items) for i in indices}  # -1 and len-1 are the same item
    expected = [item for position, item in enumerate(items) if position not in chosen]
    assert got == expected, f"del ListContainer({items})[{indices}]: expected {expected}, got {got}"


@exercise("ch02.ListContainer", points=3)
@given(case=items_and_mask())
def test_list_container_delitem_mask(probe, case):
    items, mask = case
    got = probe(observe_delitem, items, mask)
    expected = [item for item, drop in zip(items, mask) if not drop]
    assert got == expected, f"del ListContainer({items})[{mask}]: expected {expected}, got {got}"


def observe_delitem_examples(ch):
    lc = ch.ListContainer(list("abcde"))
    del lc[[-2, 3, 0]]
    seen = {"repeated": items_of(lc)}
    lc = ch.ListContainer(list("abcde"))
    del lc[[1, 2]]
    seen["two"] = items_of(lc)
    seen["out_of_range"] = outcome(operator.delitem, lc, [0, 5])
    seen["after_failure"] = items_of(lc)
    return seen


@exercise("ch02.ListContainer", points=3)
def test_list_container_delitem_examples(probe):
    seen = probe(observe_delitem_examples)
    assert seen["repeated"] == list("bce"), \
        "del lc[[-2, 3, 0]] on 'abcde': -2 and 3 are the same item 'd'; expected ['b', 'c', 'e']"
    assert seen["two"] == list("ade"), \
        "del lc[[1, 2]]: deleting item 1 first shifts item 2 down; expected ['a', 'd', 'e']"
    assert seen["out_of_range"].get("raised") == "IndexError", \
        f"del lc[[0, 5]] on 3 items must raise IndexError; it gave {seen['out_of_range']}"
    assert seen["after_failure"] == list("ade"), "del lc[[0, 5]] raised IndexError, so it must delete nothing"


def observe_container_protocol(ch, items):
    lc = ch.ListContainer(list(items))
    seen = {"len": len(lc)}
    iterator = iter(lc)
    seen["iter_is_iterator"] = iter(iterator) is iterator
    seen["iterated"] = list(iterator)
    seen["list"], seen["loop"] = list(lc), [x for x in lc]
    seen["pairs"] = [(a, b) for a in lc for b in lc]
    seen["bool"] = bool(lc)
    if items:
        seen["has_last"], seen["has_1000"] = items[-1] in lc, 1000 in lc
    return seen


@exercise("ch02.ListContainer", points=3)
@given(items=items_)
def test_list_container_len_iter_bool_contains(probe, items):
    seen = probe(observe_container_protocol, items)
    assert seen["len"] == len(items)
    assert seen["iter_is_iterator"], \
        "__iter__ must return an iterator (something with __next__), e.g. iter(self.items)"
    assert seen["iterated"] == items, "iterating gives the items themselves, in order"
    assert seen["list"] == items and seen["loop"] == items, "each iteration starts afresh"
    assert seen["pairs"] == [(a, b) for a in items for b in items], \
        "two nested loops over the same container must not interfere"
    assert seen["bool"] == bool(items), "an empty container is falsy: bool() falls back to __len__"
    if items:
        assert seen["has_last"] and not seen["has_1000"], "`in` falls back to __iter__"


def observe_reprs(ch, item_lists):
    seen = []
    for items in item_lists:
        lc = ch.ListContainer(items)
        seen.append([repr(lc), str(lc)])
    return seen


@exercise("ch02.ListContainer", points=3)
def test_list_container_repr_is_cut_after_ten(probe):
    item_lists = [[f"x{i}" for i in range(n)] for n in range(25)]
    seen = probe(observe_reprs, item_lists)
    for items, (got_repr, got_str) in zip(item_lists, seen):
        n = len(items)
        shown_items = repr(items[:10])
        if n > 10:
            shown_items = shown_items[:-1] + ", ...]"
        expected = f"ListContainer ({n} items)\n{shown_items}"
        assert got_repr == expected, f"repr of a ListContainer of {n} items:\nexpected\n{expected}\ngot\n{got_repr}"
        assert got_str == expected, "str falls back to __repr__ when there is no __str__"


def observe_subclass_repr(ch):
    class Hooks(ch.ListContainer):
        pass

    return repr(Hooks([1, 2]))


@exercise("ch02.ListContainer", points=3)
def test_list_container_repr_uses_the_subclass_name(probe):
    got = probe(observe_subclass_repr)
    assert got == "Hooks (2 items)\n[1, 2]", f"a subclass shows its own name (type(self).__name__); got {got!r}"


def observe_subclass_delitem(ch):
    removed = []

    class Hooks(ch.ListContainer):
        def __delitem__(self, i):
            removed.append(self[i])
            super().__delitem__(i)

    hooks = Hooks(["h0", "h1", "h2"])
    del hooks[-1]
    return {"removed": removed, "items": items_of(hooks)}


@exercise("ch02.ListContainer", points=3)
def test_list_container_works_with_a_subclass_that_extends_delitem(probe):
    seen = probe(observe_subclass_delitem)
    assert seen["removed"] == ["h2"] and seen["items"] == ["h0", "h1"], \
        "chapter 7's Hooks: del hooks[-1] removes the last hook"


# --- Delegator ----------------------------------------------------------------------------------

def fresh_namespace():
    return types.SimpleNamespace(lr=0.1, mom=0.9, name="sgd")


def observe_forwarding(ch):
    inner = fresh_namespace()
    d = ch.Delegator(inner)
    seen = {"wrapped_is_inner": d.wrapped is inner, "forwarded": (d.lr, d.mom, d.name)}
    inner.lr = 0.5
    seen["after_inner_change"] = d.lr
    d.lr = 3
    seen["own"], seen["inner_lr"] = d.lr, inner.lr
    items = ch.Delegator([3, 1, 2])
    items.append(0)
    seen["list"], seen["index"] = copy.copy(items.wrapped), items.index(2)
    return seen


@exercise("ch02.Delegator", points=2)
def test_delegator_forwards_missing_attributes(probe):
    seen = probe(observe_forwarding)
    assert seen["wrapped_is_inner"]
    assert seen["forwarded"] == (0.1, 0.9, "sgd"), "d.lr must come from the wrapped object"
    assert seen["after_inner_change"] == 0.5, "forward at look-up time, do not copy the attributes once"
    assert seen["own"] == 3 and seen["inner_lr"] == 0.5, \
        "an attribute the delegator has itself wins (and setting is not forwarded)"
    assert seen["list"] == [3, 1, 2, 0] and seen["index"] == 2, "methods are forwarded too"


def observe_missing_attribute(ch):
    d = ch.Delegator(fresh_namespace())
    return {"missing": outcome(getattr, d, "no_such_thing"), "hasattr": outcome(hasattr, d, "no_such_thing"),
            "default": outcome(getattr, d, "no_such_thing", 42)}


@exercise("ch02.Delegator", points=2)
def test_delegator_missing_attribute_is_an_attribute_error(probe):
    seen = probe(observe_missing_attribute)
    missing = seen["missing"]
    assert missing.get("raised") == "AttributeError", f"d.no_such_thing must raise AttributeError; it gave {missing}"
    assert "no_such_thing" in missing["message"], f"the AttributeError must name the attribute; got {missing}"
    assert seen["hasattr"] == {"returned": False} and seen["default"] == {"returned": 42}, (
        f"hasattr(d, 'no_such_thing') gave {seen['hasattr']}, getattr(d, 'no_such_thing', 42) gave {seen['default']}")


def observe_before_wrapped(ch):
    bare = ch.Delegator.__new__(ch.Delegator)  # what copy and pickle do: no __init__
    looks = [outcome(getattr, bare, name) for name in ("wrapped", "lr", "_secret")]

    class Early(ch.Delegator):
        def __init__(self, wrapped):
            self.seen = getattr(self, "lr", "none yet")  # before super().__init__
            super().__init__(wrapped)

    early = Early(fresh_namespace())
    return {"looks": [{"raised": look["raised"]} if "raised" in look else {"returned": repr(look["returned"])[:200]}
                      for look in looks],
            "early_seen": early.seen, "early_lr": early.lr}


@exercise("ch02.Delegator", points=2)
def test_delegator_never_recurses_before_wrapped_is_set(probe):
    seen = probe(observe_before_wrapped)
    for name, look in zip(("wrapped", "lr", "_secret"), seen["looks"]):
        if look.get("raised") == "RecursionError":
            pytest.fail(f"getattr(d, {name!r}) before d.wrapped is set recursed forever: "
                        "__getattr__ looked up self.wrapped, which called __getattr__ again")
        assert look.get("raised") == "AttributeError", \
            f"getattr(d, {name!r}) before d.wrapped is set must raise AttributeError; it gave {look}"
    assert seen["early_seen"] == "none yet" and seen["early_lr"] == 0.1, \
        "a subclass may look attributes up before calling super().__init__"


def observe_falsy_wrapped(ch):
    empty, zero, blank = ch.Delegator([]), ch.Delegator(0), ch.Delegator("")
    seen = {"append": outcome(lambda: empty.append(5)), "real": outcome(getattr, zero, "real"),
            "upper": outcome(lambda: blank.upper())}
    seen = {name: ({"raised": got["raised"]} if "raised" in got else got) for name, got in seen.items()}
    seen["after_append"] = copy.copy(empty.wrapped)
    seen["dir_has_append"] = "append" in dir(ch.Delegator([]))
    return seen


@exercise("ch02.Delegator", points=2)
def test_delegator_forwards_to_a_falsy_object(probe):
    seen = probe(observe_falsy_wrapped)
    for name, expected, call in (("append", None, "Delegator([]).append(5)"), ("real", 0, "Delegator(0).real"),
                                 ("upper", "", "Delegator('').upper()")):
        assert seen[name] == {"returned": expected}, (
            f"{call} should give {expected!r}: an empty list, 0 or '' is wrapped all the same (check that "
            f"`wrapped` is in vars(self), not that it is truthy); it gave {seen[name]}")
    assert seen["after_append"] == [5]
    assert seen["dir_has_append"], "dir(Delegator([])) must list the wrapped list's public names, such as 'append'"


def pickle_round_trip(o):
    return pickle.loads(pickle.dumps(o))


def observe_clones(ch):
    d = ch.Delegator(fresh_namespace())
    d.own = "mine"
    seen = {}
    for how, clone in (("copy.copy", copy.copy), ("copy.deepcopy", copy.deepcopy), ("pickle", pickle_round_trip)):
        made = outcome(clone, d)
        if "raised" in made:
            seen[how] = {"raised": made["raised"], "message": made["message"]}
            continue
        other = made["returned"]
        seen[how] = {"type": type(other).__name__, "is_delegator": type(other) is ch.Delegator,
                     "attributes": (other.own, other.lr, other.name)}
    return seen


@exercise("ch02.Delegator", points=2)
def test_delegator_survives_copy_and_pickle(probe):
    seen = probe(observe_clones)
    for how in ("copy.copy", "copy.deepcopy", "pickle"):
        got = seen[how]
        if got.get("raised") == "RecursionError":
            pytest.fail(f"{how}(Delegator(...)) recursed: it makes the copy with __new__ and looks up dunders "
                        "such as __setstate__ before `wrapped` exists")
        assert "raised" not in got, f"{how}(Delegator(...)) raised {got['raised']}: {got['message']}"
        assert got["is_delegator"], f"{how}(Delegator(...)) must give a Delegator, got {got['type']}"
        assert got["attributes"] == ("mine", 0.1, "sgd"), f"{how} must keep own and forwarded attributes"


class Precious:
    _secret = "private"
    visible = "public"

    def __deepcopy__(self, memo):
        return "a copy of the wrapped object only"


def observe_private_names(ch):
    d = ch.Delegator(Precious())
    seen = {"visible": d.visible, "secret": outcome(getattr, d, "_secret")}
    copied = copy.deepcopy(d)
    seen["copied_is_delegator"], seen["copied_type"] = type(copied) is ch.Delegator, type(copied).__name__
    return seen


@exercise("ch02.Delegator", points=2)
def test_delegator_does_not_forward_private_names(probe):
    seen = probe(observe_private_names)
    assert seen["visible"] == "public"
    assert seen["secret"].get("raised") == "AttributeError", \
        f"names that begin with an underscore are not forwarded: d._secret gave {seen['secret']}"
    assert seen["copied_is_delegator"], ("copy.deepcopy(d) looked up d.__deepcopy__ and got the wrapped object's: "
                                         f"do not forward dunders (it gave a {seen['copied_type']})")


def observe_dir(ch):
    inner = fresh_namespace()
    inner._hidden = "private to the wrapped object"
    d = ch.Delegator(inner)
    d.own = 1
    # copy and pickle leave `__slotnames__` on a class they have handled: not part of the answer.
    seen = {"dir": [n for n in dir(d) if n != "__slotnames__"],
            "own_names": [n for n in object.__dir__(d) if n != "__slotnames__"]}
    bare = ch.Delegator.__new__(ch.Delegator)
    seen["bare_has_getattr"] = "__getattr__" in dir(bare)
    return seen


@exercise("ch02.Delegator", points=2)
def test_delegator_dir_shows_what_it_can_reach(probe):
    seen = probe(observe_dir)
    names = seen["dir"]
    inner = fresh_namespace()
    inner._hidden = "private to the wrapped object"
    expected = set(seen["own_names"]) | {n for n in dir(inner) if not n.startswith("_")}
    assert set(names) == expected, (f"dir(d) should be the delegator's own names plus the wrapped object's public ones; "
                                    f"missing {sorted(expected - set(names))}, extra {sorted(set(names) - expected)}")
    assert seen["bare_has_getattr"], "dir() must work before `wrapped` is set"


# --- Timer --------------------------------------------------------------------------------------

class FakeClock:
    """Stands in for time.perf_counter: each call moves the clock forward by the next step."""

    def __init__(self, steps):
        self.now, self.steps, self.calls = 100.0, list(steps), 0

    def __call__(self):
        self.calls += 1
        if self.steps:
            self.now += self.steps.pop(0)
        return self.now


def fake_time(clock):
    return mock.patch.object(time, "perf_counter", clock)


def observe_timer_block(ch):
    clock = FakeClock([0.0, 2.5])
    with fake_time(clock):
        timer = ch.Timer()
        seen = {"elapsed_before": timer.elapsed, "times_before": copy.copy(timer.times)}
        with timer as bound:
            seen["clock_reads_in_enter"] = clock.calls
    seen.update(bound_is_timer=bound is timer, elapsed=timer.elapsed, times=copy.copy(timer.times))
    return seen


@exercise("ch02.Timer", points=2)
def test_timer_measures_its_block(probe):
    seen = probe(observe_timer_block)
    assert seen["elapsed_before"] is None and seen["times_before"] == []
    assert seen["clock_reads_in_enter"] == 1, "read the clock (time.perf_counter()) once in __enter__"
    assert seen["bound_is_timer"], "`with Timer() as t` must bind t to the timer: __enter__ returns self"
    assert seen["elapsed"] == pytest.approx(2.5, abs=1e-12), \
        f"the block took 2.5 fake seconds; elapsed is {seen['elapsed']}"
    assert seen["times"] == [pytest.approx(2.5)]


def observe_timer_exception(ch):
    with fake_time(FakeClock([0.0, 1.0])):
        timer = ch.Timer()

        def block():
            with timer:
                raise KeyError("boom")

        seen = {"block": outcome(block)}
    seen.update(elapsed=timer.elapsed, times=copy.copy(timer.times))
    return seen


@exercise("ch02.Timer", points=2)
def test_timer_lets_exceptions_through_and_still_records(probe):
    seen = probe(observe_timer_exception)
    block = seen["block"]
    assert "raised" in block, "the KeyError raised in the block was swallowed: __exit__ must return False (or None)"
    assert block["raised"] == "KeyError" and "boom" in block["message"], \
        f"the block raised KeyError('boom'); `with timer:` gave {block}"
    assert seen["elapsed"] == pytest.approx(1.0), "elapsed must be recorded even when the block raised"
    assert seen["times"] == [pytest.approx(1.0)]


def observe_timer_twice(ch):
    # enter at 100+1, leave at +2, (pause of 10 outside any block), enter +10, leave +4
    with fake_time(FakeClock([1.0, 2.0, 10.0, 4.0])):
        timer = ch.Timer()
        with timer:
            pass
        with timer:
            pass
    return {"times": copy.copy(timer.times), "elapsed": timer.elapsed}


@exercise("ch02.Timer", points=2)
def test_timer_can_be_used_again(probe):
    seen = probe(observe_timer_twice)
    assert seen["times"] == [pytest.approx(2.0), pytest.approx(4.0)], \
        f"two blocks of 2 and 4 fake seconds (with 10 seconds between them); times are {seen['times']}"
    assert seen["elapsed"] == pytest.approx(4.0), "elapsed is the last block's duration, timed from that block's start"


def observe_real_clock(ch):
    with ch.Timer() as timer:
        sum(range(1000))
    return getattr(timer, "elapsed", f"`with Timer() as timer` bound a {type(timer).__name__}")


@exercise("ch02.Timer", points=2)
def test_timer_with_the_real_clock(probe):
    elapsed = probe(observe_real_clock)
    assert isinstance(elapsed, float) and 0 <= elapsed < 5, f"elapsed is {elapsed!r}"


# --- camel2snake --------------------------------------------------------------------------------

word = st.from_regex(r"[A-Z][a-z]{1,6}", fullmatch=True)
acronym = st.from_regex(r"[A-Z]{2,4}", fullmatch=True)


@st.composite
def camel_words(draw):
    """A list of words: capitalised words and acronyms, never two acronyms in a row."""
    words = draw(st.lists(st.one_of(word, acronym), min_size=1, max_size=5))
    assume(all(not (a.isupper() and b.isupper()) for a, b in zip(words, words[1:])))
    return words


@exercise("ch02.camel2snake")
def test_camel2snake_examples(probe):
    cases = {"TrainEvalCallback": "train_eval_callback", "LRFinder": "lr_finder",
             "AvgStatsCallback": "avg_stats_callback", "Recorder": "recorder", "CudaCallback": "cuda_callback",
             "GetLR": "get_lr", "HTTPServer": "http_server", "Conv2dLayer": "conv2d_layer",
             "already_snake": "already_snake", "MNIST": "mnist"}
    for name, expected in cases.items():
        got = probe.camel2snake(name)
        assert got == expected, f"camel2snake({name!r}): expected {expected!r}, got {got!r}"


@exercise("ch02.camel2snake")
@given(words=camel_words())
def test_camel2snake_joins_the_words(probe, words):
    name = "".join(words)
    expected = "_".join(w.lower() for w in words)
    got = probe.camel2snake(name)
    assert got == expected, f"camel2snake({name!r}) (words {words}): expected {expected!r}, got {got!r}"


# --- MiniModule ---------------------------------------------------------------------------------

def make_net(ch):
    class Scale(ch.MiniModule):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return self.factor * x

    class Net(ch.MiniModule):
        def __init__(self):
            super().__init__()
            self.first = Scale(2)
            self.lr = 0.1
            self.second = Scale(3)

        def forward(self, x, shift=0):
            return self.second(self.first(x)) + shift

    return Scale, Net


def labels(objects, **known):
    """Which of the `known` objects each of `objects` is (by identity), or its type and repr if none."""
    return [next((name for name, o in known.items() if thing is o), f"a {type(thing).__name__}: {thing!r}"[:200])
            for thing in objects]


def observe_registration(ch):
    Scale, Net = make_net(ch)
    net = Net()
    first, second = net.first, net.second
    seen = {"children": labels(list(net.children()), first=first, second=second),
            "factor": net.first.factor, "lr": net.lr,
            "first_in_modules": "first" in net._modules, "first_in_dict": "first" in vars(net),
            "lr_in_dict": "lr" in vars(net), "lr_in_modules": "lr" in net._modules}
    third = Scale(5)
    net.third = third
    seen["last_child_is_third"] = list(net.children())[-1] is third
    seen["third_is_third"] = net.third is third
    net.first = "replaced"
    seen["first_after"] = net.first if type(net.first) is str else labels([net.first], first=first)[0]
    seen["children_after"] = labels(list(net.children()), first=first, second=second, third=third)
    return seen


@exercise("ch02.MiniModule", points=3)
def test_mini_module_registers_sub_modules(probe):
    seen = probe(observe_registration)
    assert seen["children"] == ["first", "second"], \
        "children() lists the sub-modules (not plain values like lr) in the order they were assigned"
    assert seen["factor"] == 2 and seen["lr"] == 0.1
    assert seen["first_in_modules"] and not seen["first_in_dict"], \
        "a sub-module lives in _modules, not in the instance __dict__"
    assert seen["lr_in_dict"] and not seen["lr_in_modules"], "a plain value is set normally"
    assert seen["last_child_is_third"] and seen["third_is_third"]
    assert seen["first_after"] == "replaced" and seen["children_after"] == ["second", "third"], \
        "assigning a plain value to a sub-module's name replaces it: it is no longer a child"


def observe_reassignment(ch):
    Scale, Net = make_net(ch)
    net = Net()
    first, second, new_first, lr_module = net.first, net.second, Scale(7), Scale(4)
    known = {"first": first, "second": second, "new_first": new_first, "lr_module": lr_module}
    net.first = new_first
    seen = {"children_after_new_first": labels(list(net.children()), **known),
            "first": labels([net.first], **known)[0]}
    net.lr = lr_module  # lr was a plain float
    seen.update(lr=labels([net.lr], **known)[0], lr_in_dict="lr" in vars(net),
                children=labels(list(net.children()), **known), output=net(1))
    return seen


@exercise("ch02.MiniModule", points=3)
def test_mini_module_reassignment(probe):
    seen = probe(observe_reassignment)
    assert seen["first"] == "new_first" and seen["children_after_new_first"] == ["new_first", "second"], (
        "net.first = Scale(7) replaces the sub-module first and keeps its place in children() (the order of first "
        f"assignment, as nn.Module does); children() gave {seen['children_after_new_first']}")
    assert seen["lr"] == "lr_module" and not seen["lr_in_dict"], (
        "net.lr = Scale(4), where lr held the plain value 0.1: net.lr must be the module; remove the name from the "
        f"instance __dict__, or normal look-up still finds 0.1 there; net.lr gave {seen['lr']}")
    assert seen["children"] == ["new_first", "second", "lr_module"], f"children() gave {seen['children']}"
    assert seen["output"] == 21, f"net(1) with first = Scale(7) and second = Scale(3) is 21; got {seen['output']}"


def observe_children_iterator(ch):
    Scale, Net = make_net(ch)
    net = Net()
    children = net.children()
    seen = {"type": type(children).__name__, "is_iterator": iter(children) is children}
    got = outcome(lambda: labels([next(children)], first=net.first)[0])
    seen["next"] = {"raised": got["raised"]} if "raised" in got else got
    seen["again"] = labels(list(net.children()), first=net.first, second=net.second)
    seen["none"] = len(list(Scale(1).children()))
    return seen


@exercise("ch02.MiniModule", points=3)
def test_mini_module_children_is_an_iterator(probe):
    seen = probe(observe_children_iterator)
    assert seen["is_iterator"] and seen["next"] == {"returned": "first"}, (
        "children() returns an iterator, as nn.Module.children() does: next(net.children()) is the first "
        f"sub-module; it returned a {seen['type']} and next() gave {seen['next']}")
    assert seen["again"] == ["first", "second"], "each call of children() starts afresh"
    assert seen["none"] == 0, "a module without sub-modules has no children"


def observe_missing_and_early(ch):
    Scale, Net = make_net(ch)
    net = Net()
    seen = {"missing": outcome(getattr, net, "missing"), "hasattr": outcome(hasattr, net, "missing")}

    class Forgetful(ch.MiniModule):
        def __init__(self):  # no super().__init__()
            self.note = "fine"
            self.layer = Scale(2)

    made = outcome(Forgetful)
    seen["forgetful"] = made if "raised" in made else {"returned": type(made["returned"]).__name__}
    bare = Net.__new__(Net)
    looked = outcome(hasattr, bare, "first")
    seen["bare"] = looked if "raised" in looked else {"returned": repr(looked["returned"])}
    return seen


@exercise("ch02.MiniModule", points=3)
def test_mini_module_missing_attributes_and_early_assignment(probe):
    seen = probe(observe_missing_and_early)
    missing = seen["missing"]
    assert missing.get("raised") == "AttributeError", f"net.missing must raise AttributeError; it gave {missing}"
    assert "missing" in missing["message"], "the AttributeError must name the attribute"
    assert seen["hasattr"] == {"returned": False}, \
        f"hasattr needs an AttributeError (a KeyError from _modules[name] escapes it); hasattr gave {seen['hasattr']}"
    forgetful = seen["forgetful"]
    if forgetful.get("raised") == "RecursionError":
        pytest.fail("assigning a sub-module before MiniModule.__init__ ran recursed forever")
    assert forgetful.get("raised") == "AttributeError", \
        f"assigning a sub-module before MiniModule.__init__ ran must raise AttributeError; it gave {forgetful}"
    assert "__init__" in forgetful["message"], ("say what is wrong, as PyTorch does: 'cannot assign a module before "
                                                f"...__init__() call'; got {forgetful}")
    bare = seen["bare"]
    assert bare.get("raised") != "RecursionError", \
        "looking an attribute up before __init__ ran recursed forever: __getattr__ must not use self._modules"
    assert "raised" not in bare, f"hasattr(net, 'first') before __init__ ran raised {bare['raised']}: {bare['message']}"


def observe_hook_calls(ch):
    Scale, Net = make_net(ch)
    net = Net()
    first = net.first
    calls = []

    def record(tag):
        def hook(module, args, output):
            calls.append((tag, module, args, output))
        return hook

    net.first.register_forward_hook(record("first"))
    net.register_forward_hook(record("net-a"))
    net.register_forward_hook(record("net-b"))
    out = net(5, shift=1)
    return {"output": out, "calls": [(tag, labels([module], first=first, net=net)[0], args, output)
                                     for tag, module, args, output in calls]}


@exercise("ch02.MiniModule", points=3)
def test_mini_module_call_runs_forward_then_hooks(probe):
    seen = probe(observe_hook_calls)
    assert seen["output"] == 31, "net(5, shift=1) must call forward(5, shift=1) = 3 * (2 * 5) + 1"
    assert seen["calls"] == [("first", "first", (5,), 10), ("net-a", "net", (5,), 31), ("net-b", "net", (5,), 31)], \
        "each hook runs after its module's forward, in the order registered, as hook(module, args, output) with args the tuple of positional arguments"


def observe_hook_results(ch):
    Scale, Net = make_net(ch)
    net = Net()
    net.first.register_forward_hook(lambda module, args, output: output + 100)
    net.first.register_forward_hook(lambda module, args, output: None)
    net.first.register_forward_hook(lambda module, args, output: output * 10)
    return {"first": net.first(1), "net": net(1)}


@exercise("ch02.MiniModule", points=3)
def test_mini_module_hook_result_replaces_output(probe):
    seen = probe(observe_hook_results)
    assert seen["first"] == 1020, "hooks chain: 2 -> 102 (first hook) -> unchanged (None) -> 1020"
    assert seen["net"] == 3060, "the parent sees the replaced output of its child"


def observe_falsy_hook_results(ch):
    Scale, Net = make_net(ch)
    layer, seen_by_next = Scale(2), []
    layer.register_forward_hook(lambda module, args, output: 0)
    layer.register_forward_hook(lambda module, args, output: seen_by_next.append(output))
    pairs = Scale(2)
    pairs.register_forward_hook(lambda module, args, output: [])
    return {"zero": layer(5), "seen_by_next": seen_by_next, "empty": pairs([1])}


@exercise("ch02.MiniModule", points=3)
def test_mini_module_falsy_hook_result_replaces_output(probe):
    seen = probe(observe_falsy_hook_results)
    assert seen == {"zero": 0, "seen_by_next": [0], "empty": []}, (
        "a hook that returns 0 or [] (falsy, but not None) replaces the output, and the next hook sees the "
        f"replacement: test `result is not None`, not `if result`; got {seen}")


def observe_handles(ch):
    Scale, Net = make_net(ch)
    layer = Scale(1)
    seen, observed = [], {}
    a = layer.register_forward_hook(lambda m, args, out: seen.append("a"))
    b = layer.register_forward_hook(lambda m, args, out: seen.append("b"))
    a.remove()
    c = layer.register_forward_hook(lambda m, args, out: seen.append("c"))
    layer(0)
    observed["after_removing_a"] = list(seen)
    seen.clear()
    twice = []

    def count(m, args, out):
        twice.append(1)

    first, _ = layer.register_forward_hook(count), layer.register_forward_hook(count)
    layer(0)
    observed["twice"] = len(twice)
    first.remove()
    layer(0)
    observed["after_removing_one"] = len(twice)
    b.remove()
    c.remove()
    _.remove()
    seen.clear()
    with layer.register_forward_hook(lambda m, args, out: seen.append("with")):
        layer(0)
    layer(0)
    observed["with"] = list(seen)
    return observed


@exercise("ch02.MiniModule", points=3)
def test_mini_module_handles_remove_hooks(probe):
    seen = probe(observe_handles)
    assert seen["after_removing_a"] == ["b", "c"], \
        f"after removing hook a and adding c, the hooks b and c must run; ran {seen['after_removing_a']}"
    assert seen["twice"] == 2, "the same function registered twice runs twice"
    assert seen["after_removing_one"] == 3, "removing one registration leaves the other"
    assert seen["with"] == ["with"], "a handle used in `with` removes its hook at the end of the block"


def observe_self_removal(ch):
    Scale, Net = make_net(ch)
    layer = Scale(1)
    seen = []
    handles = {}

    def once(module, args, output):
        seen.append("once")
        handles["once"].remove()

    handles["once"] = layer.register_forward_hook(once)
    layer.register_forward_hook(lambda m, args, out: seen.append("always"))
    layer(0)
    layer(0)
    return seen


@exercise("ch02.MiniModule", points=3)
def test_mini_module_hook_may_remove_itself(probe):
    assert probe(observe_self_removal) == ["once", "always", "always"], \
        "a hook that removes itself while running: iterate over a copy of the hooks"
