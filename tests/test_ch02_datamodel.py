"""Grades chapter 2: dunder methods, a numpy-style container, attribute delegation, context
managers, names from class names, and a miniature nn.Module.

Oracles: Python's own `list` (indexing, slicing, assignment and deletion), `itertools.compress` for
masks, `copy` and `pickle` round trips, a fake clock for `Timer`, names assembled from their words
for `camel2snake`, and the behaviour a caller of `nn.Module` relies on (registration order, hook
order and arguments, handles that remove). Pure Python, but for one test that indexes with a torch tensor
(the case that was once wrong), which imports torch when it runs.
"""
import copy
import itertools
import operator
import pickle
import time
import types

import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

exercise = pytest.mark.exercise
# No shrinking: hypothesis formats every failing example through pytest while it shrinks, which
# takes seconds per test on a wrong answer; the first failing example is small enough to read.
no_shrink = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])


def outcome(function, *args):
    """('ok', function(*args)) or ('raises', exception type): compares behaviour, errors included."""
    try:
        return "ok", function(*args)
    except (IndexError, TypeError, ValueError) as error:
        return "raises", type(error)


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


# --- SloppyAdder --------------------------------------------------------------------------------

numbers_ = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False))


@exercise("ch02.SloppyAdder")
@no_shrink
@given(a=numbers_, b=numbers_)
def test_sloppy_adder_adds_a_hundredth(ch, a, b):
    left, right = ch.SloppyAdder(a), ch.SloppyAdder(b)
    total = left + right
    assert isinstance(total, ch.SloppyAdder), f"SloppyAdder({a}) + SloppyAdder({b}) must be a SloppyAdder, got {type(total).__name__}"
    assert total.o == pytest.approx(a + b + 0.01, rel=1e-12, abs=1e-9), \
        f"SloppyAdder({a}) + SloppyAdder({b}): expected .o == {a + b + 0.01}, got {total.o}"
    assert (left.o, right.o) == (a, b), "+ must return a new object and leave both operands unchanged"


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_repr_is_the_plain_number(ch):
    total = ch.SloppyAdder(1) + ch.SloppyAdder(2)
    assert repr(total) == str(1 + 2 + 0.01) == "3.01", f"repr(SloppyAdder(1) + SloppyAdder(2)) should be '3.01', got {total!r}"
    assert repr(ch.SloppyAdder(7)) == "7" and str(ch.SloppyAdder(2.5)) == "2.5", "the repr is str(self.o); str falls back to it"


@exercise("ch02.SloppyAdder")
@no_shrink
@given(values=st.lists(st.integers(-100, 100), max_size=6), number=st.integers(-100, 100))
def test_sloppy_adder_mixes_with_numbers(ch, values, number):
    right = ch.SloppyAdder(number) + 1
    left = 1 + ch.SloppyAdder(number)
    assert isinstance(right, ch.SloppyAdder) and right.o == pytest.approx(number + 1.01), \
        f"SloppyAdder({number}) + 1 should hold {number + 1.01}"
    assert isinstance(left, ch.SloppyAdder) and left.o == pytest.approx(number + 1.01), \
        f"1 + SloppyAdder({number}) should hold {number + 1.01}: int.__add__ gives up, so Python calls __radd__"
    total = sum(ch.SloppyAdder(v) for v in values)
    # sum starts from 0: 0 + a, then + b, ... one sloppy hundredth per addition.
    expected = sum(values) + 0.01 * len(values)
    got = total.o if isinstance(total, ch.SloppyAdder) else total
    assert got == pytest.approx(expected, abs=1e-9), f"sum of SloppyAdders of {values}: expected {expected}, got {got}"


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_refuses_other_types(ch):
    with pytest.raises(TypeError):
        ch.SloppyAdder(1) + "two"
    with pytest.raises(TypeError):
        [1] + ch.SloppyAdder(1)
    assert ch.SloppyAdder(1).__add__("two") is NotImplemented, \
        "for a type you cannot add, return NotImplemented (do not raise): Python then tries the other side"


@exercise("ch02.SloppyAdder")
def test_sloppy_adder_augmented_assignment_rebinds(ch):
    start = ch.SloppyAdder(1)
    total = start
    total += ch.SloppyAdder(2)
    assert total is not start and start.o == 1, "`a += b` without __iadd__ means `a = a + b`: the old object is untouched"
    assert total.o == pytest.approx(3.01)


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


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(items=items_, index=st.integers(-16, 16))
def test_list_container_single_index_like_a_list(ch, items, index):
    lc = ch.ListContainer(list(items))
    for idx in (index, Index(index)):
        got, expected = outcome(operator.getitem, lc, idx), outcome(operator.getitem, items, idx)
        assert got == expected, f"ListContainer({items})[{idx!r}]: a list gives {expected}, got {got}"
    for flag in (True, False):
        got, expected = outcome(operator.getitem, lc, flag), outcome(operator.getitem, items, flag)
        assert got == expected, f"ListContainer({items})[{flag}]: a single bool indexes like the int it is; a list gives {expected}, got {got}"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(items=items_, start=st.none() | st.integers(-16, 16), stop=st.none() | st.integers(-16, 16),
       step=st.none() | st.integers(-4, 4).filter(bool))
def test_list_container_slices_like_a_list(ch, items, start, stop, step):
    lc = ch.ListContainer(list(items))
    got = lc[start:stop:step]
    assert list(got) == items[start:stop:step], f"ListContainer({items})[{start}:{stop}:{step}]"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_mask())
def test_list_container_boolean_mask(ch, case):
    items, mask = case
    lc = ch.ListContainer(list(items))
    got = lc[mask]
    expected = list(itertools.compress(items, mask))
    assert list(got) == expected, f"ListContainer({items})[{mask}]: expected {expected}, got {got}"
    assert lc.items == items, "indexing must not change the items"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(items=st.lists(st.integers(), min_size=1, max_size=10), extra=st.sampled_from([-1, 1]))
def test_list_container_mask_length_is_checked(ch, items, extra):
    lc = ch.ListContainer(list(items))
    mask = [True] * (len(items) + extra)
    assume(mask)
    with pytest.raises(IndexError):
        lc[mask]
        pytest.fail(f"ListContainer of {len(items)} items indexed with a mask of length {len(mask)} must raise IndexError")


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_indices(min_size=0), out_of_range=st.booleans())
def test_list_container_index_list(ch, case, out_of_range):
    items, indices = case
    if out_of_range:
        indices = indices + [len(items)]
    lc = ch.ListContainer(list(items))
    for idx in (indices, tuple(indices), iter(indices), [Index(i) for i in indices]):
        shown = repr(idx) if not isinstance(idx, type(iter([]))) else f"iter({indices})"
        got = outcome(select_list, lc, idx)
        expected = outcome(select_list, items, indices)
        assert got == expected, f"ListContainer({items})[{shown}]: expected {expected}, got {got}"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_mask(), indices=st.lists(st.integers(0, 13), max_size=5))
def test_list_container_numpy_masks_and_index_arrays(ch, case, indices):
    import numpy as np

    items, mask = case
    indices = [i for i in indices if i < len(items)]
    array_mask, array_indices = np.array(mask, dtype=bool), np.array(indices, dtype=np.int64)
    expected = list(itertools.compress(items, mask))
    got = outcome(select_list, ch.ListContainer(list(items)), array_mask)
    assert got == ("ok", expected), (f"ListContainer({items})[np.array({mask})]: a numpy boolean array is a mask, "
                                     f"as in numpy: expected {expected}, got {got}")
    got = outcome(select_list, ch.ListContainer(list(items)), array_indices)
    assert got == ("ok", [items[i] for i in indices]), (
        f"ListContainer({items})[np.array({indices})]: an integer array is a list of indices; got {got}")
    lc = ch.ListContainer(list(items))
    del lc[array_mask]
    kept = [item for item, drop in zip(items, mask) if not drop]
    assert lc.items == kept, f"del ListContainer({items})[np.array({mask})]: expected {kept}, got {lc.items}"
    lc = ch.ListContainer(list(items))
    lc[array_mask] = "x"
    assert lc.items == ["x" if keep else item for item, keep in zip(items, mask)], (
        f"ListContainer({items})[np.array({mask})] = 'x' sets the masked items; got {lc.items}")


@exercise("ch02.ListContainer", points=3)
def test_list_container_torch_boolean_mask(ch):
    import torch  # the one test of chapter 2 that needs torch: a tensor mask, the case that was once wrong

    lc = ch.ListContainer(list("abcde"))
    mask = torch.tensor([True, False, True, False, True])
    got = outcome(select_list, lc, mask)
    assert got == ("ok", ["a", "c", "e"]), (
        "ListContainer(list('abcde'))[torch.tensor([True, False, True, False, True])] must select 'a', 'c', 'e' "
        f"as PyTorch does; got {got} (iterating a tensor gives 0-d tensors, which are not bools: True reads as 1)")
    got = outcome(select_list, lc, torch.tensor([4, -5]))
    assert got == ("ok", ["e", "a"]), f"an integer tensor is a list of indices: lc[torch.tensor([4, -5])] gave {got}"
    got = outcome(select_list, lc, torch.ones(5, 1, dtype=torch.bool))
    assert got[0] == "raises" and got[1] is IndexError, (
        f"a two-dimensional mask (shape (5, 1)) for a flat container must raise IndexError; got {got}")


@exercise("ch02.ListContainer", points=3)
def test_list_container_rejects_what_is_not_an_index(ch):
    lc = ch.ListContainer(["a", "b", "c"])
    for bad in (1.5, None, "1"):
        with pytest.raises(TypeError):
            lc[bad]
            pytest.fail(f"ListContainer(...)[{bad!r}] must raise TypeError, as a list does")


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(items=items_, index=st.integers(-16, 16), value=st.integers())
def test_list_container_setitem_single_and_slice(ch, items, index, value):
    lc, reference = ch.ListContainer(list(items)), list(items)

    def set_both(idx, val):
        got = outcome(operator.setitem, lc, idx, val)
        expected = outcome(operator.setitem, reference, idx, val)
        assert got == expected, f"ListContainer({items})[{idx!r}] = {val!r}: a list gives {expected}, got {got}"
        assert lc.items == reference, f"after lc[{idx!r}] = {val!r}: expected {reference}, got {lc.items}"

    set_both(index, value)
    set_both(Index(index), value + 1)
    set_both(slice(1, 3), [value, value, value])


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_indices(), value=st.integers(), per_position=st.booleans())
def test_list_container_setitem_index_list(ch, case, value, per_position):
    items, indices = case
    lc, reference = ch.ListContainer(list(items)), list(items)
    values = [value + k for k in range(len(indices))] if per_position else value
    for k, i in enumerate(indices):
        reference[i] = values[k] if per_position else value
    lc[indices] = values
    assert lc.items == reference, f"ListContainer({items})[{indices}] = {values}: expected {reference}, got {lc.items}"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_mask(), value=st.integers())
def test_list_container_setitem_mask(ch, case, value):
    items, mask = case
    lc = ch.ListContainer(list(items))
    lc[mask] = value
    expected = [value if keep else item for item, keep in zip(items, mask)]
    assert lc.items == expected, f"ListContainer({items})[{mask}] = {value}: expected {expected}, got {lc.items}"


@exercise("ch02.ListContainer", points=3)
def test_list_container_setitem_checks_lengths(ch):
    lc = ch.ListContainer([0, 1, 2, 3])
    with pytest.raises(ValueError):
        lc[[0, 1]] = [7, 8, 9]
        pytest.fail("lc[[0, 1]] = [7, 8, 9]: three values for two positions must raise ValueError")
    with pytest.raises(IndexError):
        lc[[0, 9]] = 5
        pytest.fail("lc[[0, 9]] = 5 on 4 items must raise IndexError")
    assert lc.items == [0, 1, 2, 3], "a failed assignment must change nothing"
    lc[[1, 3]] = (10, 30)
    assert lc.items == [0, 10, 2, 30], "a tuple of values gives one value per position"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(items=items_, index=st.integers(-16, 16), start=st.none() | st.integers(-16, 16),
       stop=st.none() | st.integers(-16, 16))
def test_list_container_delitem_single_and_slice(ch, items, index, start, stop):
    for idx in (index, Index(index), slice(start, stop)):
        lc, reference = ch.ListContainer(list(items)), list(items)
        got = outcome(operator.delitem, lc, idx)
        expected = outcome(operator.delitem, reference, idx)
        assert got == expected, f"del ListContainer({items})[{idx!r}]: a list gives {expected}, got {got}"
        assert lc.items == reference, f"after del lc[{idx!r}] on {items}: expected {reference}, got {lc.items}"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_indices())
def test_list_container_delitem_index_list(ch, case):
    items, indices = case
    lc = ch.ListContainer(list(items))
    del lc[indices]
    chosen = {i % len(items) for i in indices}  # -1 and len-1 are the same item
    expected = [item for position, item in enumerate(items) if position not in chosen]
    assert lc.items == expected, f"del ListContainer({items})[{indices}]: expected {expected}, got {lc.items}"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(case=items_and_mask())
def test_list_container_delitem_mask(ch, case):
    items, mask = case
    lc = ch.ListContainer(list(items))
    del lc[mask]
    expected = [item for item, drop in zip(items, mask) if not drop]
    assert lc.items == expected, f"del ListContainer({items})[{mask}]: expected {expected}, got {lc.items}"


@exercise("ch02.ListContainer", points=3)
def test_list_container_delitem_examples(ch):
    lc = ch.ListContainer(list("abcde"))
    del lc[[-2, 3, 0]]
    assert lc.items == list("bce"), "del lc[[-2, 3, 0]] on 'abcde': -2 and 3 are the same item 'd'; expected ['b', 'c', 'e']"
    lc = ch.ListContainer(list("abcde"))
    del lc[[1, 2]]
    assert lc.items == list("ade"), "del lc[[1, 2]]: deleting item 1 first shifts item 2 down; expected ['a', 'd', 'e']"
    with pytest.raises(IndexError):
        del lc[[0, 5]]
    assert lc.items == list("ade"), "del lc[[0, 5]] raised IndexError, so it must delete nothing"


@exercise("ch02.ListContainer", points=3)
@no_shrink
@given(items=items_)
def test_list_container_len_iter_bool_contains(ch, items):
    lc = ch.ListContainer(list(items))
    assert len(lc) == len(items)
    iterator = iter(lc)
    assert iter(iterator) is iterator, "__iter__ must return an iterator (something with __next__), e.g. iter(self.items)"
    assert list(iterator) == items, "iterating gives the items themselves, in order"
    assert list(lc) == items and [x for x in lc] == items, "each iteration starts afresh"
    pairs = [(a, b) for a in lc for b in lc]
    assert pairs == [(a, b) for a in items for b in items], "two nested loops over the same container must not interfere"
    assert bool(lc) == bool(items), "an empty container is falsy: bool() falls back to __len__"
    if items:
        assert items[-1] in lc and 1000 not in lc, "`in` falls back to __iter__"


@exercise("ch02.ListContainer", points=3)
def test_list_container_repr_is_cut_after_ten(ch):
    for n in range(25):
        items = [f"x{i}" for i in range(n)]
        lc = ch.ListContainer(items)
        shown = repr(items[:10])
        if n > 10:
            shown = shown[:-1] + ", ...]"
        expected = f"ListContainer ({n} items)\n{shown}"
        assert repr(lc) == expected, f"repr of a ListContainer of {n} items:\nexpected\n{expected}\ngot\n{lc!r}"
        assert str(lc) == expected, "str falls back to __repr__ when there is no __str__"


@exercise("ch02.ListContainer", points=3)
def test_list_container_repr_uses_the_subclass_name(ch):
    class Hooks(ch.ListContainer):
        pass

    got = repr(Hooks([1, 2]))
    assert got == "Hooks (2 items)\n[1, 2]", f"a subclass shows its own name (type(self).__name__); got {got!r}"


@exercise("ch02.ListContainer", points=3)
def test_list_container_works_with_a_subclass_that_extends_delitem(ch):
    removed = []

    class Hooks(ch.ListContainer):
        def __delitem__(self, i):
            removed.append(self[i])
            super().__delitem__(i)

    hooks = Hooks(["h0", "h1", "h2"])
    del hooks[-1]
    assert removed == ["h2"] and hooks.items == ["h0", "h1"], "chapter 7's Hooks: del hooks[-1] removes the last hook"


# --- Delegator ----------------------------------------------------------------------------------

def fresh_namespace():
    return types.SimpleNamespace(lr=0.1, mom=0.9, name="sgd")


@exercise("ch02.Delegator", points=2)
def test_delegator_forwards_missing_attributes(ch):
    inner = fresh_namespace()
    d = ch.Delegator(inner)
    assert d.wrapped is inner
    assert (d.lr, d.mom, d.name) == (0.1, 0.9, "sgd"), "d.lr must come from the wrapped object"
    inner.lr = 0.5
    assert d.lr == 0.5, "forward at look-up time, do not copy the attributes once"
    d.lr = 3
    assert d.lr == 3 and inner.lr == 0.5, "an attribute the delegator has itself wins (and setting is not forwarded)"
    items = ch.Delegator([3, 1, 2])
    items.append(0)
    assert items.wrapped == [3, 1, 2, 0] and items.index(2) == 2, "methods are forwarded too"


@exercise("ch02.Delegator", points=2)
def test_delegator_missing_attribute_is_an_attribute_error(ch):
    d = ch.Delegator(fresh_namespace())
    with pytest.raises(AttributeError) as info:
        d.no_such_thing
    assert "no_such_thing" in str(info.value), f"the AttributeError must name the attribute; got {info.value!r}"
    assert not hasattr(d, "no_such_thing") and getattr(d, "no_such_thing", 42) == 42


@exercise("ch02.Delegator", points=2)
def test_delegator_never_recurses_before_wrapped_is_set(ch):
    bare = ch.Delegator.__new__(ch.Delegator)  # what copy and pickle do: no __init__
    for name in ("wrapped", "lr", "_secret"):
        try:
            getattr(bare, name)
        except AttributeError:
            pass
        except RecursionError:
            pytest.fail(f"getattr(d, {name!r}) before d.wrapped is set recursed forever: "
                        "__getattr__ looked up self.wrapped, which called __getattr__ again")
        else:
            pytest.fail(f"getattr(d, {name!r}) before d.wrapped is set must raise AttributeError")

    class Early(ch.Delegator):
        def __init__(self, wrapped):
            self.seen = getattr(self, "lr", "none yet")  # before super().__init__
            super().__init__(wrapped)

    early = Early(fresh_namespace())
    assert early.seen == "none yet" and early.lr == 0.1, "a subclass may look attributes up before calling super().__init__"


@exercise("ch02.Delegator", points=2)
def test_delegator_survives_copy_and_pickle(ch):
    d = ch.Delegator(fresh_namespace())
    d.own = "mine"
    for how, clone in (("copy.copy", copy.copy), ("copy.deepcopy", copy.deepcopy),
                       ("pickle", lambda o: pickle.loads(pickle.dumps(o)))):
        try:
            other = clone(d)
        except RecursionError:
            pytest.fail(f"{how}(Delegator(...)) recursed: it makes the copy with __new__ and looks up dunders "
                        "such as __setstate__ before `wrapped` exists")
        assert type(other) is ch.Delegator, f"{how}(Delegator(...)) must give a Delegator, got {type(other).__name__}"
        assert (other.own, other.lr, other.name) == ("mine", 0.1, "sgd"), f"{how} must keep own and forwarded attributes"


@exercise("ch02.Delegator", points=2)
def test_delegator_does_not_forward_private_names(ch):
    class Precious:
        _secret = "private"
        visible = "public"

        def __deepcopy__(self, memo):
            return "a copy of the wrapped object only"

    d = ch.Delegator(Precious())
    assert d.visible == "public"
    with pytest.raises(AttributeError):
        d._secret
        pytest.fail("names that begin with an underscore are not forwarded")
    copied = copy.deepcopy(d)
    assert type(copied) is ch.Delegator, \
        "copy.deepcopy(d) looked up d.__deepcopy__ and got the wrapped object's: do not forward dunders"


@exercise("ch02.Delegator", points=2)
def test_delegator_dir_shows_what_it_can_reach(ch):
    inner = fresh_namespace()
    inner._hidden = "private to the wrapped object"
    d = ch.Delegator(inner)
    d.own = 1
    names = dir(d)
    expected = set(object.__dir__(d)) | {n for n in dir(inner) if not n.startswith("_")}
    assert set(names) == expected, (f"dir(d) should be the delegator's own names plus the wrapped object's public ones; "
                                    f"missing {sorted(expected - set(names))}, extra {sorted(set(names) - expected)}")
    bare = ch.Delegator.__new__(ch.Delegator)
    assert "__getattr__" in dir(bare), "dir() must work before `wrapped` is set"


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


@exercise("ch02.Timer", points=2)
def test_timer_measures_its_block(ch, monkeypatch):
    clock = FakeClock([0.0, 2.5])
    monkeypatch.setattr(time, "perf_counter", clock)
    timer = ch.Timer()
    assert timer.elapsed is None and timer.times == []
    with timer as bound:
        assert clock.calls == 1, "read the clock (time.perf_counter()) once in __enter__"
    assert bound is timer, "`with Timer() as t` must bind t to the timer: __enter__ returns self"
    assert timer.elapsed == pytest.approx(2.5, abs=1e-12), f"the block took 2.5 fake seconds; elapsed is {timer.elapsed}"
    assert timer.times == [pytest.approx(2.5)]


@exercise("ch02.Timer", points=2)
def test_timer_lets_exceptions_through_and_still_records(ch, monkeypatch):
    monkeypatch.setattr(time, "perf_counter", FakeClock([0.0, 1.0]))
    timer = ch.Timer()
    with pytest.raises(KeyError, match="boom"):
        with timer:
            raise KeyError("boom")
        pytest.fail("the KeyError raised in the block was swallowed: __exit__ must return False (or None)")
    assert timer.elapsed == pytest.approx(1.0), "elapsed must be recorded even when the block raised"
    assert timer.times == [pytest.approx(1.0)]


@exercise("ch02.Timer", points=2)
def test_timer_can_be_used_again(ch, monkeypatch):
    # enter at 100+1, leave at +2, (pause of 10 outside any block), enter +10, leave +4
    monkeypatch.setattr(time, "perf_counter", FakeClock([1.0, 2.0, 10.0, 4.0]))
    timer = ch.Timer()
    with timer:
        pass
    with timer:
        pass
    assert timer.times == [pytest.approx(2.0), pytest.approx(4.0)], \
        f"two blocks of 2 and 4 fake seconds (with 10 seconds between them); times are {timer.times}"
    assert timer.elapsed == pytest.approx(4.0), "elapsed is the last block's duration, timed from that block's start"


@exercise("ch02.Timer", points=2)
def test_timer_with_the_real_clock(ch):
    with ch.Timer() as timer:
        sum(range(1000))
    assert isinstance(timer.elapsed, float) and 0 <= timer.elapsed < 5, f"elapsed is {timer.elapsed!r}"


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
def test_camel2snake_examples(ch):
    cases = {"TrainEvalCallback": "train_eval_callback", "LRFinder": "lr_finder",
             "AvgStatsCallback": "avg_stats_callback", "Recorder": "recorder", "CudaCallback": "cuda_callback",
             "GetLR": "get_lr", "HTTPServer": "http_server", "Conv2dLayer": "conv2d_layer",
             "already_snake": "already_snake", "MNIST": "mnist"}
    for name, expected in cases.items():
        got = ch.camel2snake(name)
        assert got == expected, f"camel2snake({name!r}): expected {expected!r}, got {got!r}"


@exercise("ch02.camel2snake")
@no_shrink
@given(words=camel_words())
def test_camel2snake_joins_the_words(ch, words):
    name = "".join(words)
    expected = "_".join(w.lower() for w in words)
    got = ch.camel2snake(name)
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


@exercise("ch02.MiniModule", points=3)
def test_mini_module_registers_sub_modules(ch):
    Scale, Net = make_net(ch)
    net = Net()
    children = list(net.children())
    assert len(children) == 2 and children[0] is net.first and children[1] is net.second, \
        "children() lists the sub-modules (not plain values like lr) in the order they were assigned"
    assert net.first.factor == 2 and net.lr == 0.1
    assert "first" in net._modules and "first" not in vars(net), "a sub-module lives in _modules, not in the instance __dict__"
    assert "lr" in vars(net) and "lr" not in net._modules, "a plain value is set normally"
    third = Scale(5)
    net.third = third
    assert list(net.children())[-1] is third and net.third is third
    net.first = "replaced"
    assert net.first == "replaced" and list(net.children()) == [net.second, third], \
        "assigning a plain value to a sub-module's name replaces it: it is no longer a child"


@exercise("ch02.MiniModule", points=3)
def test_mini_module_missing_attributes_and_early_assignment(ch):
    Scale, Net = make_net(ch)
    net = Net()
    with pytest.raises(AttributeError) as info:
        net.missing
    assert "missing" in str(info.value), "the AttributeError must name the attribute"
    assert not hasattr(net, "missing"), "hasattr needs an AttributeError (a KeyError from _modules[name] escapes it)"

    class Forgetful(ch.MiniModule):
        def __init__(self):  # no super().__init__()
            self.note = "fine"
            self.layer = Scale(2)

    try:
        Forgetful()
    except AttributeError as error:
        assert "__init__" in str(error), f"say what is wrong, as PyTorch does: 'cannot assign a module before ...__init__() call'; got {error!r}"
    except RecursionError:
        pytest.fail("assigning a sub-module before MiniModule.__init__ ran recursed forever")
    else:
        pytest.fail("assigning a sub-module before MiniModule.__init__ ran must raise AttributeError")
    bare = Net.__new__(Net)
    try:
        hasattr(bare, "first")
    except RecursionError:
        pytest.fail("looking an attribute up before __init__ ran recursed forever: __getattr__ must not use self._modules")


@exercise("ch02.MiniModule", points=3)
def test_mini_module_call_runs_forward_then_hooks(ch):
    Scale, Net = make_net(ch)
    net = Net()
    calls = []

    def record(tag):
        def hook(module, args, output):
            calls.append((tag, module, args, output))
        return hook

    net.first.register_forward_hook(record("first"))
    net.register_forward_hook(record("net-a"))
    net.register_forward_hook(record("net-b"))
    assert net(5, shift=1) == 31, "net(5, shift=1) must call forward(5, shift=1) = 3 * (2 * 5) + 1"
    assert calls == [("first", net.first, (5,), 10), ("net-a", net, (5,), 31), ("net-b", net, (5,), 31)], \
        "each hook runs after its module's forward, in the order registered, as hook(module, args, output) with args the tuple of positional arguments"


@exercise("ch02.MiniModule", points=3)
def test_mini_module_hook_result_replaces_output(ch):
    Scale, Net = make_net(ch)
    net = Net()
    net.first.register_forward_hook(lambda module, args, output: output + 100)
    net.first.register_forward_hook(lambda module, args, output: None)
    net.first.register_forward_hook(lambda module, args, output: output * 10)
    assert net.first(1) == 1020, "hooks chain: 2 -> 102 (first hook) -> unchanged (None) -> 1020"
    assert net(1) == 3060, "the parent sees the replaced output of its child"


@exercise("ch02.MiniModule", points=3)
def test_mini_module_handles_remove_hooks(ch):
    Scale, Net = make_net(ch)
    layer = Scale(1)
    seen = []
    a = layer.register_forward_hook(lambda m, args, out: seen.append("a"))
    b = layer.register_forward_hook(lambda m, args, out: seen.append("b"))
    a.remove()
    c = layer.register_forward_hook(lambda m, args, out: seen.append("c"))
    layer(0)
    assert seen == ["b", "c"], f"after removing hook a and adding c, the hooks b and c must run; ran {seen}"
    seen.clear()
    twice = []

    def count(m, args, out):
        twice.append(1)

    first, _ = layer.register_forward_hook(count), layer.register_forward_hook(count)
    layer(0)
    assert len(twice) == 2, "the same function registered twice runs twice"
    first.remove()
    layer(0)
    assert len(twice) == 3, "removing one registration leaves the other"
    b.remove()
    c.remove()
    _.remove()
    seen.clear()
    with layer.register_forward_hook(lambda m, args, out: seen.append("with")):
        layer(0)
    layer(0)
    assert seen == ["with"], "a handle used in `with` removes its hook at the end of the block"


@exercise("ch02.MiniModule", points=3)
def test_mini_module_hook_may_remove_itself(ch):
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
    assert seen == ["once", "always", "always"], \
        "a hook that removes itself while running: iterate over a copy of the hooks"
