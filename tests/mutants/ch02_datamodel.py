"""Plausible wrong versions of chapter 2's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # SloppyAdder
    Mutant("ch02.SloppyAdder", "changes the left operand in place and returns it",
           old="        return SloppyAdder(self.o + other + 0.01)",
           new="        self.o = self.o + other + 0.01\n        return self",
           learner="Your `__add__` changes the left operand and returns it, so `a + b` alters `a` as well; return a "
                   "new SloppyAdder and leave both operands as they were.",
           section="Dunder methods: Python calls them for you"),
    Mutant("ch02.SloppyAdder", "forgets the sloppy hundredth",
           old="return SloppyAdder(self.o + other + 0.01)", new="return SloppyAdder(self.o + other)",
           learner="You add the two numbers exactly; a SloppyAdder's sum is one hundredth too much, `self.o + other "
                   "+ 0.01`.",
           section="Dunder methods: Python calls them for you"),
    Mutant("ch02.SloppyAdder", "raises TypeError itself instead of returning NotImplemented",
           old="            return NotImplemented", new="            raise TypeError(f'cannot add {other!r}')",
           learner="You raise TypeError yourself when `__add__` meets an operand it does not know; return "
                   "`NotImplemented` instead, so that Python can try the other operand's reflected method before "
                   "raising.",
           section="`NotImplemented` and the reflected operation"),
    Mutant("ch02.SloppyAdder", "only knows how to add another SloppyAdder",
           old="        if isinstance(other, SloppyAdder):\n            other = other.o\n"
               "        elif not isinstance(other, numbers.Number):\n            return NotImplemented\n",
           new="        other = other.o\n",
           learner="Your `__add__` only accepts another SloppyAdder, so adding a plain number fails; use a number "
                   "as it is, take `.o` from a SloppyAdder, and return `NotImplemented` for anything else.",
           section="`NotImplemented` and the reflected operation"),
    Mutant("ch02.SloppyAdder", "no reflected addition, so 1 + SloppyAdder(2) and sum() fail",
           old="        return self.__add__(other)", new="        return NotImplemented",
           learner="`1 + SloppyAdder(2)` and `sum()` fail because your `__radd__` gives up on a number on the left; "
                   "`__radd__` should do the same addition as `__add__`.",
           section="`NotImplemented` and the reflected operation"),
    Mutant("ch02.SloppyAdder", "a constructor-style repr instead of the plain number",
           old="        return str(self.o)", new="        return f'SloppyAdder({self.o})'",
           learner="Your repr shows the class name around the value, like `SloppyAdder(3.01)`; the repr here is "
                   "just the number, as `str(self.o)` shows it.",
           section="`__repr__` and `__str__`"),
    Mutant("ch02.SloppyAdder", "takes only int and float as numbers (a Fraction or numpy integer is refused)",
           old="        elif not isinstance(other, numbers.Number):", new="        elif not isinstance(other, (int, float)):",
           learner="You accept only `int` and `float` as plain numbers, so a `Fraction` or a numpy integer is refused; "
                   "any `numbers.Number` is a number, so test with `isinstance(other, numbers.Number)`.",
           section="`NotImplemented` and the reflected operation"),
    # ListContainer
    Mutant("ch02.ListContainer", "only ints count as one index (numpy integers and __index__ objects do not)",
           old="        try:\n            operator.index(idx)\n        except TypeError:\n            return False\n        return True",
           new="        return isinstance(idx, int)",
           learner="You take only Python ints as a single index, so a numpy integer or another object with "
                   "`__index__` is not accepted as one; anything `operator.index` accepts is one index, as for a "
                   "list.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "iterates a numpy or torch boolean array as it is, so its elements are not bools "
           "(a tensor mask selects items 0 and 1, a numpy mask raises TypeError)",
           old='''        if hasattr(idx, "dtype") and hasattr(idx, "tolist"):  # a numpy array or a torch tensor
            if getattr(idx, "ndim", 1) != 1:
                raise IndexError(f"an array index must be one-dimensional, not of shape {tuple(idx.shape)}")
            idx = idx.tolist()  # Python bools or ints: numpy.bool_ and 0-d tensors are neither
''', new="",
           learner="You iterate a numpy array or tensor index as it is, so the elements of a boolean mask are not "
                   "Python bools and the mask is not read as a mask; turn an array index into a list with "
                   "`.tolist()` first.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "accepts an array of any shape, so a (5, 1) mask is read as a list of rows",
           old='''            if getattr(idx, "ndim", 1) != 1:
                raise IndexError(f"an array index must be one-dimensional, not of shape {tuple(idx.shape)}")
''', new="",
           learner="You accept an array index of any shape, so a (5, 1) mask is read as a list of rows; an array "
                   "index must be one-dimensional, and any other raises IndexError.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "does not check the mask's length (zip silently stops at the shorter)",
           old="            if len(idx) != n:\n                raise IndexError(f\"a boolean mask of length {len(idx)} for {n} items: the lengths must match\")\n",
           new="",
           learner="You do not check a boolean mask's length, so a mask shorter or longer than the container "
                   "silently selects from part of it; raise IndexError when the lengths differ.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "keeps negative positions as they are",
           old="            positions.append(i % n)", new="            positions.append(i)",
           learner="You leave negative indices in an index list negative; turn each into its position 0..len-1, so "
                   "that deleting or setting through `[0, -1]` reaches the last item and `[1, -4]` on 5 items is "
                   "one item.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "no range check on an index list (wraps around instead of raising)",
           old="            if not -n <= i < n:\n                raise IndexError(f\"index {i} is out of range for {n} items\")\n",
           new="",
           learner="You do not check the indices in an index list, so one beyond the end wraps around instead of "
                   "failing; raise IndexError for any index outside -len..len-1, as a list does.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "deletes one at a time in ascending order, so later positions shift",
           old="        drop = set(self._positions(idx))\n        self.items[:] = [item for i, item in enumerate(self.items) if i not in drop]",
           new="        for i in sorted(set(self._positions(idx))):\n            del self.items[i]",
           learner="You delete the selected items one at a time from the front, so each deletion shifts the later "
                   "positions and the wrong items go; remove all the selected positions at once (or from the back).",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "deletes from the end but deletes a repeated position twice",
           old="        drop = set(self._positions(idx))\n        self.items[:] = [item for i, item in enumerate(self.items) if i not in drop]",
           new="        for i in sorted(self._positions(idx), reverse=True):\n            del self.items[i]",
           learner="You delete from the back but do not merge repeated positions, so an index given twice (or `1` "
                   "and `-4` on 5 items) deletes two items; each selected item is deleted once.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "assumes the value is always a sequence (no single value for all positions)",
           old="        if isinstance(value, (list, tuple)):\n            if len(value) != len(positions):",
           new="        if True:\n            if len(value) != len(positions):",
           learner="You treat every value assigned through a mask or an index list as a sequence, so a single value "
                   "for all the selected positions fails; a value that is not a list or tuple goes to every "
                   "selected position.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "does not check the number of values (zip drops the extra ones)",
           old="            if len(value) != len(positions):\n                raise ValueError(f\"{len(value)} values for {len(positions)} selected positions\")\n",
           new="            pass\n",
           learner="You do not check that a list of values has one value per selected position, so missing or extra "
                   "values pass silently; raise ValueError when the lengths differ.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "__iter__ returns the list, which is iterable but not an iterator",
           old="        return iter(self.items)", new="        return self.items",
           learner="Your `__iter__` returns the list itself, which is iterable but not an iterator, so `iter(lc)` "
                   "raises TypeError; `__iter__` must return a fresh iterator over the items.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "__iter__ yields the positions instead of the items",
           old="        return iter(self.items)", new="        return iter(range(len(self.items)))",
           learner="Your `__iter__` yields the positions 0, 1, 2, ... instead of the items.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "adds '...' already at exactly 10 items",
           old="        if len(self.items) > 10:", new="        if len(self.items) >= 10:",
           learner="You add `, ...]` already when there are exactly 10 items; it belongs only when there are more "
                   "than 10, so that some items are not shown.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "hard-codes the class name, so Hooks shows as ListContainer",
           old='        return f"{type(self).__name__} ({len(self.items)} items)\\n{shown}"',
           new='        return f"ListContainer ({len(self.items)} items)\\n{shown}"',
           learner="You write the class name `ListContainer` into the repr, so a subclass such as Hooks is shown "
                   "under the wrong name; take the name from the object's type.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "shows 11 items",
           old="        shown = repr(self.items[:10])", new="        shown = repr(self.items[:11])",
           learner="Your repr shows the first 11 items; it shows the first 10, then `, ...]` when there are more.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "returns a generator for a mask or an index list",
           old="        return [self.items[i] for i in self._positions(idx)]",
           new="        return (self.items[i] for i in self._positions(idx))",
           learner="You return a generator for a mask or an index list, which can be read only once and raises "
                   "IndexError only when it is read; build and return a list, `[self.items[i] for i in ...]`.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "returns a ListContainer for a slice",
           old="        if isinstance(idx, slice) or self._is_single(idx):\n            return self.items[idx]",
           new="        if isinstance(idx, slice):\n            return ListContainer(self.items[idx])\n"
               "        if self._is_single(idx):\n            return self.items[idx]",
           learner="You wrap a slice's items in a new ListContainer; a slice gives a plain list, as a list's slice "
                   "does.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "decides mask or indices from the first element only, so [True, 2] is a mask",
           old="        if idx and all(isinstance(i, bool) for i in idx):",
           new="        if idx and isinstance(idx[0], bool):",
           learner="You decide that an index is a boolean mask from its first element alone, so `[True, 2]` (the "
                   "indices 1 and 2) is read as a mask; it is a mask only when every element is a bool.",
           section="A container that indexes like numpy"),
    Mutant("ch02.ListContainer", "takes an empty index list for a boolean mask (all() of nothing is True)",
           old="        if idx and all(isinstance(i, bool) for i in idx):",
           new="        if all(isinstance(i, bool) for i in idx):",
           learner="You take an empty index list for a boolean mask (`all()` of no elements is True), so `lc[[]]` "
                   "raises IndexError; an empty list selects nothing and gives `[]`.",
           section="A container that indexes like numpy"),
    # Delegator
    Mutant("ch02.Delegator", "forwards everything: recurses when `wrapped` does not exist yet",
           old="        if not name.startswith(\"_\") and \"wrapped\" in vars(self):\n            return getattr(self.wrapped, name)\n"
               "        raise AttributeError(f\"{type(self).__name__!r} object has no attribute {name!r}\")",
           new="        return getattr(self.wrapped, name)",
           learner="Your `__getattr__` forwards every name to `self.wrapped`, so while `wrapped` does not exist yet "
                   "(in an object made by `copy` or `pickle`) it calls itself without end; check `wrapped` in the "
                   "instance dictionary and raise AttributeError otherwise.",
           section="Forwarding attributes, and the recursion trap"),
    Mutant("ch02.Delegator", "guards `wrapped` but forwards private names and dunders such as __deepcopy__",
           old="        if not name.startswith(\"_\") and \"wrapped\" in vars(self):",
           new="        if name != \"wrapped\" and \"wrapped\" in vars(self):",
           learner="You forward names that begin with an underscore, so dunders such as `__deepcopy__` and "
                   "`__setstate__` come from the wrapped object and copying goes wrong; raise AttributeError for "
                   "private names.",
           section="Forwarding attributes, and the recursion trap"),
    Mutant("ch02.Delegator", "returns None for a missing attribute instead of raising AttributeError",
           old="        raise AttributeError(f\"{type(self).__name__!r} object has no attribute {name!r}\")",
           new="        return None",
           learner="Your `__getattr__` returns None for a name that neither object has, so `hasattr` is always True "
                   "and typos pass silently; raise AttributeError naming the attribute.",
           section="Attribute access: `__getattribute__`, `__getattr__`, `__setattr__`"),
    Mutant("ch02.Delegator", "dir() shows only the wrapped object",
           old="        names = set(super().__dir__())\n        if \"wrapped\" in vars(self):\n",
           new="        names = set()\n        if True:\n",
           learner="Your `__dir__` lists only the wrapped object's names and leaves out the delegator's own "
                   "attributes and methods; list both, the delegator's from `super().__dir__()`.",
           section="Forwarding attributes, and the recursion trap"),
    Mutant("ch02.Delegator", "dir() also shows the wrapped object's private names",
           old="            names |= {name for name in dir(self.wrapped) if not name.startswith(\"_\")}",
           new="            names |= set(dir(self.wrapped))",
           learner="Your `__dir__` also lists the wrapped object's private and dunder names; add only its public "
                   "ones, those not starting with `_`.",
           section="Forwarding attributes, and the recursion trap"),
    Mutant("ch02.Delegator", "tests `wrapped` by its truth value, so an empty list or 0 is not forwarded to",
           old="        if not name.startswith(\"_\") and \"wrapped\" in vars(self):",
           new="        if not name.startswith(\"_\") and vars(self).get(\"wrapped\"):",
           learner="You test whether `wrapped` is set by its truth value, so an empty list, 0 or '' is treated as "
                   "missing and nothing is forwarded to it; check that the name is there, `\"wrapped\" in vars(self)`.",
           section="Forwarding attributes, and the recursion trap"),
    Mutant("ch02.Delegator", "dir() tests `wrapped` by its truth value, so an empty list's names are missing",
           old="        if \"wrapped\" in vars(self):\n            names |=",
           new="        if vars(self).get(\"wrapped\"):\n            names |=",
           learner="Your `__dir__` tests `wrapped` by its truth value, so `dir()` of a delegator wrapping an empty "
                   "list (or 0, or '') leaves out the wrapped object's names; check `\"wrapped\" in vars(self)`.",
           section="Forwarding attributes, and the recursion trap"),
    # Timer
    Mutant("ch02.Timer", "swallows the block's exception",
           old="        self.times.append(self.elapsed)\n        return False",
           new="        self.times.append(self.elapsed)\n        return True",
           learner="Your `__exit__` returns something truthy (True, or the timer itself), which tells Python to "
                   "swallow the block's exception; return False (or None) so that it propagates.",
           section="What `with` does, exactly"),
    Mutant("ch02.Timer", "__exit__ returns self (truthy), so the block's exception is swallowed",
           old="        self.times.append(self.elapsed)\n        return False",
           new="        self.times.append(self.elapsed)\n        return self",
           learner="Your `__exit__` returns something truthy (True, or the timer itself), which tells Python to "
                   "swallow the block's exception; return False (or None) so that it propagates.",
           section="What `with` does, exactly"),
    Mutant("ch02.Timer", "records the time only when the block succeeded",
           old="        self.elapsed = time.perf_counter() - self._start\n        self.times.append(self.elapsed)",
           new="        if exc_type is None:\n            self.elapsed = time.perf_counter() - self._start\n            self.times.append(self.elapsed)",
           learner="You record the elapsed time only when the block succeeded; `__exit__` runs when the block "
                   "raised too, and must record the time either way.",
           section="What `with` does, exactly"),
    Mutant("ch02.Timer", "__enter__ does not return the timer, so `as t` binds None",
           old="        self._start = time.perf_counter()\n        return self", new="        self._start = time.perf_counter()",
           learner="Your `__enter__` does not return the timer, so `with Timer() as t` binds `t` to None; `as` "
                   "binds whatever `__enter__` returns.",
           section="What `with` does, exactly"),
    Mutant("ch02.Timer", "adds each block to the previous elapsed time",
           old="        self.elapsed = time.perf_counter() - self._start",
           new="        self.elapsed = (self.elapsed or 0.0) + time.perf_counter() - self._start",
           learner="You add each block's duration to the previous `elapsed`, so it keeps growing; time each block "
                   "from its own start and set `elapsed` to that alone.",
           section="What `with` does, exactly"),
    # camel2snake
    Mutant("ch02.camel2snake", "splits only before a capital that follows a lower-case letter (LRFinder -> lrfinder)",
           old="    partial = re.sub(r\"(.)([A-Z][a-z]+)\", r\"\\1_\\2\", name)\n",
           new="    partial = name\n",
           learner="You split only where a capital follows a lower-case letter, so an acronym stays glued to the "
                   "next word (`LRFinder` gives `lrfinder`); also split before a capitalised word that follows a "
                   "capital.",
           section="Names from class names"),
    Mutant("ch02.camel2snake", "puts an underscore before every capital (LRFinder -> l_r_finder)",
           old="    partial = re.sub(r\"(.)([A-Z][a-z]+)\", r\"\\1_\\2\", name)\n    return re.sub(r\"([a-z0-9])([A-Z])\", r\"\\1_\\2\", partial).lower()",
           new="    return \"\".join(\"_\" + c.lower() if c.isupper() else c for c in name).lstrip(\"_\")",
           learner="You put an underscore before every capital, so an acronym is broken into letters (`LRFinder` "
                   "gives `l_r_finder`); a run of capitals is one word.",
           section="Names from class names"),
    Mutant("ch02.camel2snake", "forgets to lower-case",
           old="r\"\\1_\\2\", partial).lower()", new="r\"\\1_\\2\", partial)",
           learner="You do not lower-case the result, so the words keep their capitals.",
           section="Names from class names"),
    # MiniModule
    Mutant("ch02.MiniModule", "keeps a sub-module registered after a plain value replaced it",
           old="        if modules is not None:\n            modules.pop(name, None)\n        object.__setattr__(self, name, value)",
           new="        object.__setattr__(self, name, value)",
           learner="When a plain value replaces a sub-module, you leave the old module in `_modules`, so "
                   "`children()` still lists it; remove the name from `_modules` before setting the plain value.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "__setattr__ reads self._modules, which fails with a confusing error before __init__",
           old="        modules = self.__dict__.get(\"_modules\")\n        if isinstance(value, MiniModule):",
           new="        modules = self._modules\n        if isinstance(value, MiniModule):",
           learner="Your `__setattr__` reads `self._modules` as an attribute, so before `MiniModule.__init__` has "
                   "run any assignment fails with a confusing error; look `_modules` up in the instance `__dict__`, "
                   "and raise the clear AttributeError only when a module is assigned too early.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "__getattr__ indexes the dict, so a missing name raises KeyError (hasattr breaks)",
           old="        modules = self.__dict__.get(\"_modules\", {})\n        if name in modules:\n            return modules[name]\n",
           new="        return self.__dict__[\"_modules\"][name]\n",
           learner="Your `__getattr__` indexes the dictionary of sub-modules, so a missing name raises KeyError "
                   "instead of AttributeError and `hasattr` breaks; raise AttributeError naming the attribute.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "__getattr__ reads self._modules, which recurses before __init__",
           old="        modules = self.__dict__.get(\"_modules\", {})\n        if name in modules:",
           new="        modules = self._modules\n        if name in modules:",
           learner="Your `__getattr__` reads `self._modules` as an attribute, so before `__init__` has set it the "
                   "look-up calls `__getattr__` again without end; read `_modules` from the instance `__dict__`.",
           section="Forwarding attributes, and the recursion trap"),
    Mutant("ch02.MiniModule", "children() gives the names, not the modules",
           old="        return iter(list(self._modules.values()))", new="        return iter(self._modules)",
           learner="Your `children()` yields the sub-modules' names; it must yield the modules themselves.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "numbers hooks by how many there are, so a key is reused after a removal",
           old="        key = object()", new="        key = len(self._forward_hooks)",
           learner="You number each hook by how many hooks there are, so after a removal a new registration reuses "
                   "a live hook's key and replaces it; give every registration a key that is never reused.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "keys hooks by the function, so registering it twice runs it once",
           old="        key = object()", new="        key = hook",
           learner="You key hooks by the function, so the same function registered twice is kept once and runs "
                   "once; every registration needs a key of its own.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "ignores what a hook returns",
           old="            result = hook(self, args, output)\n            if result is not None:\n                output = result",
           new="            hook(self, args, output)",
           learner="You ignore what a forward hook returns; a hook that returns something other than None replaces "
                   "the output.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "unpacks the arguments into the hook instead of passing the tuple",
           old="            result = hook(self, args, output)", new="            result = hook(self, *args, output)",
           learner="You unpack the positional arguments into the hook; a hook is called as `hook(module, args, "
                   "output)`, with `args` the tuple itself.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "iterates over the live dict, so a hook that removes itself breaks the loop",
           old="        for hook in list(self._forward_hooks.values()):", new="        for hook in self._forward_hooks.values():",
           learner="You loop over the live dictionary of hooks, so a hook that removes its own handle changes it "
                   "during the loop and raises RuntimeError; loop over a copy.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "runs the hooks before forward",
           old="        output = self.forward(*args, **kwargs)\n        for hook in list(self._forward_hooks.values()):\n"
               "            result = hook(self, args, output)\n            if result is not None:\n                output = result\n",
           new="        output = None\n        for hook in list(self._forward_hooks.values()):\n"
               "            result = hook(self, args, output)\n            if result is not None:\n                output = result\n"
               "        output = self.forward(*args, **kwargs)\n",
           learner="You run the hooks before `forward`, so they never see its output; call `forward` first, then "
                   "each hook with the output.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "leaves a plain value in __dict__ when a sub-module takes its name",
           old="            self.__dict__.pop(name, None)\n            modules[name] = value",
           new="            modules[name] = value",
           learner="When a sub-module takes the name of a plain attribute, you leave the old value in the instance "
                   "`__dict__`, where normal look-up finds it before `__getattr__` is asked; remove the name from "
                   "`__dict__` when you register the module.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "moves a re-assigned sub-module to the end of children()",
           old="            self.__dict__.pop(name, None)\n            modules[name] = value",
           new="            self.__dict__.pop(name, None)\n            modules.pop(name, None)\n            modules[name] = value",
           learner="When a sub-module is assigned again under a name it already has, you move it to the end of "
                   "`children()`; it keeps the place where that name was first assigned, so update the entry of "
                   "`_modules` in place.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "children() returns a list, not an iterator",
           old="        return iter(list(self._modules.values()))", new="        return list(self._modules.values())",
           learner="Your `children()` returns a list; it returns an iterator, as `nn.Module.children()` does, so that "
                   "`next(net.children())` works: `iter(...)` over the sub-modules.",
           section="`nn.Module` in miniature"),
    Mutant("ch02.MiniModule", "replaces the output only when the hook's result is truthy",
           old="            if result is not None:", new="            if result:",
           learner="You replace the output only when the hook's result is truthy, so a hook that returns 0 or an "
                   "empty list is ignored; any result other than None replaces the output.",
           section="`nn.Module` in miniature"),
]
