"""Chapter 2: Python's data model (dunder methods) and reading library source.

Reference solutions. The code between `# BEGIN SOLUTION` and `# END SOLUTION` is what the learner
writes; `python -m grader make-exercises` turns each such region into a `NotImplementedError`.

`listify`, `ListContainer` and `camel2snake` are used again by chapters 5 and 7.
"""
from __future__ import annotations

import numbers
import operator
import re
import time


def listify(o) -> list:
    """Turn `o` into a list: None -> [], a string or a non-iterable -> [o], an iterable -> list(o).

    A list is returned as it is (not copied).

    >>> listify(None), listify("abc"), listify((1, 2)), listify(3)
    ([], ['abc'], [1, 2], [3])
    """
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


class SloppyAdder:
    """A number whose `+` is a little wrong: `SloppyAdder(1) + SloppyAdder(2)` shows `3.01`.

    `SloppyAdder(o)` keeps the number in `self.o`. Adding gives a *new* SloppyAdder holding
    `self.o + other + 0.01` (neither operand changes), where `other` is another SloppyAdder's `.o`
    or a plain number (`int`, `float`, `Fraction`, a numpy scalar: a `numbers.Number` that adds to a
    float). `number + SloppyAdder` works too
    (`__radd__`), so `sum()` works. Adding anything else (a string, a list) raises TypeError: return
    `NotImplemented` and let Python raise it. The repr is `str(self.o)`.

    >>> SloppyAdder(1) + SloppyAdder(2)
    3.01
    >>> 1 + SloppyAdder(2)
    3.01

    Book: chapter 2, "Dunder methods: Python calls them for you".
    """

    def __init__(self, o):
        self.o = o

    def __add__(self, other):
        """Return a new SloppyAdder holding self.o + other + 0.01 (other: a SloppyAdder or a number)."""
        # BEGIN SOLUTION
        if isinstance(other, SloppyAdder):
            other = other.o
        elif not isinstance(other, numbers.Number):
            return NotImplemented
        return SloppyAdder(self.o + other + 0.01)
        # END SOLUTION

    def __radd__(self, other):
        """Handle `number + SloppyAdder`, which Python tries after the number's own __add__ gives up."""
        # BEGIN SOLUTION
        return self.__add__(other)
        # END SOLUTION

    def __repr__(self):
        """Show the value like a plain number: str(self.o)."""
        # BEGIN SOLUTION
        return str(self.o)
        # END SOLUTION


class ListContainer:
    """A list with numpy-style indexing: an int, a slice, a boolean mask, or a list of indices.

    `ListContainer(items)` keeps `listify(items)` in `self.items`.

    - `lc[i]` for one index: an int (negative counts from the end), a bool, or any object with
      `__index__` (a numpy integer, say), exactly as a list takes it; gives one item.
    - `lc[a:b:c]` gives a list, as a list's slice does.
    - `lc[mask]` for a list of bools gives a list of the items where the mask is True; a mask whose
      length is not `len(lc)` raises IndexError. A one-dimensional numpy array or torch tensor of
      booleans is a mask too (as numpy and PyTorch treat it), not a list of the indices 0 and 1.
    - `lc[[i, j, ...]]` (any iterable of indices, negative allowed, or a one-dimensional integer
      array or tensor) gives `[items[i], items[j], ...]`; an index out of range raises IndexError.
    - `lc[...] = value` sets like a list for one index or a slice. For a mask or an index list,
      `value` is either a list or tuple with one value per selected position (ValueError if the
      lengths differ) or a single value given to every selected position.
    - `del lc[...]` deletes like a list for one index or a slice. For a mask or an index list it
      deletes every selected item once (`[1, -4]` on 5 items is the same item), and on an
      IndexError it deletes nothing.
    - `len(lc)`, `iter(lc)` (a fresh iterator over the items each time), and a repr of two lines:
      the class name and the count, `ListContainer (12 items)`, then the repr of the first 10
      items, ending `, ...]` when there are more: `[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...]`.

    >>> lc = ListContainer(["a", "b", "c"])
    >>> lc[-1], lc[[0, 2]], lc[[True, False, True]]
    ('c', ['a', 'c'], ['a', 'c'])
    >>> del lc[[0, -1]]; lc
    ListContainer (1 items)
    ['b']

    Book: chapter 2, "A container that indexes like numpy".
    """

    def __init__(self, items=None):
        self.items = listify(items)

    @staticmethod
    def _is_single(idx) -> bool:
        """True for what a list takes as one index: an int, a bool, or an object with `__index__`."""
        # BEGIN SOLUTION
        try:
            operator.index(idx)
        except TypeError:
            return False
        return True
        # END SOLUTION

    def _positions(self, idx) -> list[int]:
        """Turn a boolean mask or an iterable of indices into the positions (0..len-1) it selects."""
        # BEGIN SOLUTION
        n = len(self.items)
        if hasattr(idx, "dtype") and hasattr(idx, "tolist"):  # a numpy array or a torch tensor
            if getattr(idx, "ndim", 1) != 1:
                raise IndexError(f"an array index must be one-dimensional, not of shape {tuple(idx.shape)}")
            idx = idx.tolist()  # Python bools or ints: numpy.bool_ and 0-d tensors are neither
        idx = list(idx)
        if idx and all(isinstance(i, bool) for i in idx):
            if len(idx) != n:
                raise IndexError(f"a boolean mask of length {len(idx)} for {n} items: the lengths must match")
            return [i for i, keep in enumerate(idx) if keep]
        positions = []
        for i in idx:
            i = operator.index(i)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of range for {n} items")
            positions.append(i % n)
        return positions
        # END SOLUTION

    def __len__(self):
        """Return the number of items."""
        # BEGIN SOLUTION
        return len(self.items)
        # END SOLUTION

    def __getitem__(self, idx):
        """Return one item for one index, else a list: for a slice, a boolean mask or a list of indices."""
        # BEGIN SOLUTION
        if isinstance(idx, slice) or self._is_single(idx):
            return self.items[idx]
        return [self.items[i] for i in self._positions(idx)]
        # END SOLUTION

    def __setitem__(self, idx, value):
        """Set like a list for one index or a slice; for a mask or an index list, set each selected item."""
        # BEGIN SOLUTION
        if isinstance(idx, slice) or self._is_single(idx):
            self.items[idx] = value
            return
        positions = self._positions(idx)
        if isinstance(value, (list, tuple)):
            if len(value) != len(positions):
                raise ValueError(f"{len(value)} values for {len(positions)} selected positions")
        else:
            value = [value] * len(positions)
        for i, v in zip(positions, value):
            self.items[i] = v
        # END SOLUTION

    def __delitem__(self, idx):
        """Delete like a list for one index or a slice; for a mask or an index list, delete each selected item once."""
        # BEGIN SOLUTION
        if isinstance(idx, slice) or self._is_single(idx):
            del self.items[idx]
            return
        drop = set(self._positions(idx))
        self.items[:] = [item for i, item in enumerate(self.items) if i not in drop]
        # END SOLUTION

    def __iter__(self):
        """Return a fresh iterator over the items."""
        # BEGIN SOLUTION
        return iter(self.items)
        # END SOLUTION

    def __repr__(self):
        """Return 'ClassName (n items)', a newline, and the first 10 items' list repr, ending ', ...]' if there are more."""
        # BEGIN SOLUTION
        shown = repr(self.items[:10])
        if len(self.items) > 10:
            shown = shown[:-1] + ", ...]"
        return f"{type(self).__name__} ({len(self.items)} items)\n{shown}"
        # END SOLUTION


class Delegator:
    """Wraps an object and forwards the attributes it does not have itself to it.

    `Delegator(wrapped)` keeps the object in `self.wrapped`. `d.name` is looked up on the delegator
    first (its own attributes, its class's methods); only when that fails does Python call
    `__getattr__`, which returns `getattr(self.wrapped, name)`. It must never recurse:

    - names that begin with an underscore are not forwarded (they are private to each object, and
      this leaves alone the dunders that `copy` and `pickle` look up, such as `__deepcopy__` and
      `__setstate__`): raise AttributeError;
    - before `wrapped` is set (a subclass's `__init__` before `super().__init__`, or an object
      made by `copy`/`pickle` with `__new__`), every look-up raises AttributeError;
    - a name that neither has raises AttributeError that names it.

    `dir(d)` lists the delegator's own attributes plus the wrapped object's public ones, so
    tab completion shows what `d.<TAB>` can reach.

    >>> d = Delegator([3, 1, 2])
    >>> d.index(1), d.wrapped
    (1, [3, 1, 2])
    >>> import copy; copy.copy(d).wrapped
    [3, 1, 2]

    Book: chapter 2, "Attribute access: `__getattribute__`, `__getattr__`, `__setattr__`" and
    "Forwarding attributes, and the recursion trap".
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __getattr__(self, name):
        """Forward a missing public attribute to self.wrapped; raise AttributeError otherwise, never recursing."""
        # BEGIN SOLUTION
        if not name.startswith("_") and "wrapped" in vars(self):
            return getattr(self.wrapped, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        # END SOLUTION

    def __dir__(self):
        """List the delegator's own attributes and the wrapped object's public ones."""
        # BEGIN SOLUTION
        names = set(super().__dir__())
        if "wrapped" in vars(self):
            names |= {name for name in dir(self.wrapped) if not name.startswith("_")}
        return sorted(names)
        # END SOLUTION


class Timer:
    """A context manager that measures how long its `with` block takes, with `time.perf_counter()`.

    `with Timer() as t: ...` binds `t` to the timer itself. On leaving the block, even through an
    exception, `t.elapsed` is the block's duration in seconds and is appended to `t.times`. An
    exception raised in the block is never swallowed. Before the first block `elapsed` is None and
    `times` is empty. A timer can be used for many blocks, one after another; each is timed from its
    own start.

    >>> t = Timer()
    >>> with t:
    ...     total = sum(range(1000))
    >>> t.elapsed >= 0, len(t.times)
    (True, 1)

    Book: chapter 2, "What `with` does, exactly".
    """

    def __init__(self):
        self.elapsed = None
        self.times = []

    def __enter__(self):
        """Start the clock and return the timer itself."""
        # BEGIN SOLUTION
        self._start = time.perf_counter()
        return self
        # END SOLUTION

    def __exit__(self, exc_type, exc_value, traceback):
        """Stop the clock, record elapsed (also when the block raised), and let any exception through."""
        # BEGIN SOLUTION
        self.elapsed = time.perf_counter() - self._start
        self.times.append(self.elapsed)
        return False
        # END SOLUTION


def camel2snake(name: str) -> str:
    """Convert a CamelCase class name to snake_case.

    Each capitalised word becomes a lower-case word, and a run of capitals (an acronym such as
    `LR` or `HTTP`) stays one word; the words are joined with `_`. A name already in snake_case
    comes back unchanged.

    >>> camel2snake("TrainEvalCallback"), camel2snake("LRFinder"), camel2snake("AvgStatsCallback")
    ('train_eval_callback', 'lr_finder', 'avg_stats_callback')

    Book: chapter 2, "Names from class names".
    """
    # BEGIN SOLUTION
    partial = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", partial).lower()
    # END SOLUTION


class HookHandle:
    """What `MiniModule.register_forward_hook` returns: `remove()` unregisters the hook.

    Also a context manager, like PyTorch's `RemovableHandle`: `with m.register_forward_hook(f): ...`
    removes the hook when the block ends. Removing twice is harmless.
    """

    def __init__(self, hooks: dict, key):
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        self.hooks.pop(self.key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class MiniModule:
    """The heart of `torch.nn.Module` in a few dunder methods: registration, `__call__`, forward hooks.

    Subclasses call `super().__init__()` first, then assign layers as attributes and define
    `forward`. What the exercise builds:

    - `__setattr__(name, value)`: a MiniModule value goes into `self._modules[name]` (and not into
      the instance `__dict__`); any other value removes `name` from `_modules` if it was there and
      is then set normally (`object.__setattr__`). Assigning a MiniModule before
      `MiniModule.__init__` ran raises AttributeError("cannot assign a module before
      MiniModule.__init__() call"), as PyTorch does.
    - `__getattr__(name)` (only reached when normal look-up fails): the sub-module stored under
      `name`, else AttributeError naming it. Never recurses, even before `__init__` ran.
    - `children()`: an iterator over the sub-modules in the order their names were first assigned
      (assigning another sub-module to such a name keeps its place, as in `nn.Module`).
    - `register_forward_hook(hook)`: remember `hook` and return a `HookHandle` that removes it.
      The same function may be registered twice (it then runs twice); removing one handle removes
      only its own registration.
    - `__call__(*args, **kwargs)`: `output = self.forward(*args, **kwargs)`; then each hook, in the
      order registered, as `hook(self, args, output)` (`args`: the tuple of positional arguments);
      a hook that returns something other than None replaces the output. A hook may remove its
      own handle while it runs.

    >>> class Double(MiniModule):
    ...     def forward(self, x):
    ...         return 2 * x
    >>> class Net(MiniModule):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.first, self.second, self.name = Double(), Double(), "net"
    ...     def forward(self, x):
    ...         return self.second(self.first(x))
    >>> net = Net(); seen = []
    >>> handle = net.first.register_forward_hook(lambda mod, args, out: seen.append((args, out)))
    >>> net(3), seen, [type(c).__name__ for c in net.children()]
    (12, [((3,), 6)], ['Double', 'Double'])

    Book: chapter 2, "`nn.Module` in miniature".
    """

    def __init__(self):
        # Our __setattr__ needs `_modules`, which does not exist yet: go around it, as nn.Module does.
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __setattr__(self, name, value):
        """Register a MiniModule value in self._modules; set anything else normally."""
        # BEGIN SOLUTION
        modules = self.__dict__.get("_modules")
        if isinstance(value, MiniModule):
            if modules is None:
                raise AttributeError("cannot assign a module before MiniModule.__init__() call")
            self.__dict__.pop(name, None)
            modules[name] = value
            return
        if modules is not None:
            modules.pop(name, None)
        object.__setattr__(self, name, value)
        # END SOLUTION

    def __getattr__(self, name):
        """Return the sub-module called `name`; raise AttributeError if there is none, never recursing."""
        # BEGIN SOLUTION
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute or sub-module {name!r}")
        # END SOLUTION

    def __delattr__(self, name):
        if name in self.__dict__.get("_modules", {}):
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def children(self):
        """Return an iterator over the sub-modules, in the order they were first assigned."""
        # BEGIN SOLUTION
        return iter(list(self._modules.values()))
        # END SOLUTION

    def register_forward_hook(self, hook) -> HookHandle:
        """Remember `hook`, to run after every forward, and return a HookHandle that removes it."""
        # BEGIN SOLUTION
        key = object()
        self._forward_hooks[key] = hook
        return HookHandle(self._forward_hooks, key)
        # END SOLUTION

    def __call__(self, *args, **kwargs):
        """Run forward, then each forward hook as hook(self, args, output); a non-None result replaces the output."""
        # BEGIN SOLUTION
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output
        # END SOLUTION
