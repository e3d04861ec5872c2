"""Plausible wrong versions of chapter 1's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    Mutant("ch01.make_show_progress", "prints at once instead of returning a callback",
           old="    def _inner(epoch):\n        show_progress(exclamation, epoch)\n\n    return _inner",
           new="    show_progress(exclamation, 0)\n    return lambda epoch: None",
           learner="Your function prints straight away instead of returning a callback; it must return an inner "
                   "function that prints the line later, each time it is called with an epoch.",
           section="Closures"),
    Mutant("ch01.make_show_progress", "ignores the exclamation it was made with",
           old="        show_progress(exclamation, epoch)\n\n    return _inner",
           new="        show_progress(\"Awesome\", epoch)\n\n    return _inner",
           learner="Your callback prints a fixed word instead of the exclamation it was made with; the inner "
                   "function should use the `exclamation` its closure remembers.",
           section="Closures"),
    Mutant("ch01.make_show_progress", "builds a format string from the exclamation, so braces in it break",
           old="    def _inner(epoch):\n        show_progress(exclamation, epoch)\n\n    return _inner",
           new="    message = exclamation + \"! We've finished epoch {}!\"\n\n    def _inner(epoch):\n"
               "        print(message.format(epoch))\n\n    return _inner",
           learner="You paste the exclamation into a format string and fill in the epoch later with `str.format`, "
                   "so an exclamation that contains `{` or `}` breaks the message; put both values into the line "
                   "each time the callback runs, as `show_progress(exclamation, epoch)` does.",
           section="Closures"),
    Mutant("ch01.slow_calculation", "stops before adding the step whose after_calc said stop",
           old="        res += i * i\n        time.sleep(delay)\n        if cb is not None and hasattr(cb, \"after_calc\"):\n            if cb.after_calc(i, val=res):\n                break",
           new="        if cb is not None and hasattr(cb, \"after_calc\"):\n            if cb.after_calc(i, val=res + i * i):\n                break\n        res += i * i\n        time.sleep(delay)",
           learner="You call `after_calc` before adding the step's `i*i` to the sum, so when it says stop the "
                   "returned sum lacks that step; add first, then ask `after_calc`, and return the sum that "
                   "includes the step.",
           section="Stopping early"),
    Mutant("ch01.slow_calculation", "requires both hooks (no hasattr check)",
           old="        if cb is not None and hasattr(cb, \"before_calc\"):",
           new="        if cb is not None:",
           learner="You call `before_calc` without checking that the callback has it, so a callback with only "
                   "`after_calc` raises AttributeError; each hook is optional, so check with `hasattr` before "
                   "calling it.",
           section="Callbacks with several methods"),
    Mutant("ch01.slow_calculation", "ignores the stop signal",
           old="            if cb.after_calc(i, val=res):\n                break",
           new="            cb.after_calc(i, val=res)",
           learner="You ignore what `after_calc` returns, so the calculation never stops early; leave the loop as "
                   "soon as it returns something truthy.",
           section="Stopping early"),
    Mutant("ch01.slow_calculation", "passes the running sum positionally",
           old="            if cb.after_calc(i, val=res):", new="            if cb.after_calc(i, res):",
           learner="You pass the running sum to `after_calc` positionally; pass it by keyword, as `val=`, so that a "
                   "callback taking `val` as a keyword (or in `**kwargs`) receives it.",
           section="Callbacks with several methods"),
    Mutant("ch01.slow_calculation", "stops only when after_calc returns exactly True",
           old="            if cb.after_calc(i, val=res):\n                break",
           new="            if cb.after_calc(i, val=res) is True:\n                break",
           learner="You stop only when `after_calc` returns exactly `True`; any truthy answer (1, 'stop', a "
                   "non-empty list) means stop, so test the answer with a plain `if`.",
           section="Stopping early"),
    Mutant("ch01.slow_calculation", "stops whenever after_calc returns anything but None (False, 0 too)",
           old="            if cb.after_calc(i, val=res):\n                break",
           new="            if cb.after_calc(i, val=res) is not None:\n                break",
           learner="You stop whenever `after_calc` returns something other than None, so a callback that answers "
                   "False or 0 stops the calculation; only a truthy answer means stop, so test it with a plain `if`.",
           section="Stopping early"),
    Mutant("ch01.slow_calculation", "tests the callback's truth value, so a falsy callback object is skipped",
           old="        if cb is not None and hasattr(cb, \"before_calc\"):\n            cb.before_calc(i)\n"
               "        res += i * i\n        time.sleep(delay)\n        if cb is not None and hasattr(cb, \"after_calc\"):",
           new="        if cb and hasattr(cb, \"before_calc\"):\n            cb.before_calc(i)\n"
               "        res += i * i\n        time.sleep(delay)\n        if cb and hasattr(cb, \"after_calc\"):",
           learner="You check the callback with `if cb`, so a callback object that is falsy (an empty list with "
                   "hooks, say) is never called; only `None` means no callback, so test `cb is not None`.",
           section="Callbacks with several methods"),
    Mutant("ch01.ProgressShowingCallback", "forgets the exclamation",
           old="        show_progress(self.exclamation, epoch)", new="        show_progress(\"Awesome\", epoch)",
           learner="Your `__call__` prints a fixed word instead of the exclamation kept in `self.exclamation`.",
           section="Callable classes"),
    Mutant("ch01.ProgressShowingCallback", "stores the exclamation under another name",
           old="        self.exclamation = exclamation", new="        self.message = exclamation",
           learner="You store the exclamation under another attribute name; keep it in `self.exclamation`, where "
                   "`__call__` and anyone using the object expect it.",
           section="Callable classes"),
    Mutant("ch01.ProgressShowingCallback", "stores the exclamation on the class, so all callbacks share the last one",
           old="        self.exclamation = exclamation", new="        type(self).exclamation = exclamation",
           learner="You store the exclamation on the class, so every ProgressShowingCallback prints the exclamation "
                   "of the last one made; store it on the instance, as `self.exclamation = exclamation`.",
           section="Callable classes"),
    Mutant("ch01.SlowCalculator", "does not pass the calculator to the hook",
           old="        return method(self, *args)", new="        return method(*args)",
           learner="You call the hook without the calculator, so a callback cannot read or change `calc.res`; each "
                   "hook is called with the calculator first, as `after_calc(calc, i)`.",
           section="Callbacks that change the calculation"),
    Mutant("ch01.SlowCalculator", "adds to a local sum, so changes made by callbacks are lost",
           old="        self.res = 0\n        for i in range(self.steps):\n            self.callback(\"before_calc\", i)\n            self.res += i * i",
           new="        self.res = total = 0\n        for i in range(self.steps):\n            self.callback(\"before_calc\", i)\n            total += i * i\n            self.res = total",
           learner="You add up the steps in a local total and copy it into `self.res`, so a change a callback makes "
                   "to `calc.res` is overwritten at the next step; add each `i*i` to `self.res` itself.",
           section="Callbacks that change the calculation"),
    Mutant("ch01.SlowCalculator", "never resets the sum between runs",
           old="        self.res = 0\n        for i in range(self.steps):",
           new="        for i in range(self.steps):",
           learner="You do not reset `self.res` to 0 at the start of `calc()`, so a second run adds to the first "
                   "run's sum.",
           section="Callbacks that change the calculation"),
    Mutant("ch01.SlowCalculator", "stops only when after_calc returns exactly True",
           old="            if self.callback(\"after_calc\", i):", new="            if self.callback(\"after_calc\", i) is True:",
           learner="You stop only when `after_calc` returns exactly `True`; any truthy answer (1, 'stop', a "
                   "non-empty list) means stop, so test the answer with a plain `if`.",
           section="Callbacks that change the calculation"),
    Mutant("ch01.SlowCalculator", "stops whenever after_calc returns anything but None (False, 0 too)",
           old="            if self.callback(\"after_calc\", i):", new="            if self.callback(\"after_calc\", i) is not None:",
           learner="You stop whenever `after_calc` returns something other than None, so a callback that answers "
                   "False or 0 stops the calculation; only a truthy answer means stop, so test it with a plain `if`.",
           section="Callbacks that change the calculation"),
    Mutant("ch01.SlowCalculator", "tests the callback's truth value, so a falsy callback object is skipped",
           old="        method = getattr(self.cb, cb_name, None)\n        if method is None:",
           new="        method = getattr(self.cb, cb_name, None) if self.cb else None\n        if method is None:",
           learner="You check the callback with `if self.cb`, so a callback object that is falsy (an empty list "
                   "with hooks, say) is never called; only `None` means no callback, and `getattr(self.cb, name, "
                   "None)` already handles it.",
           section="Callbacks that change the calculation"),
    Mutant("ch01.make_counter", "returns the value before stepping",
           old="        value += step\n        return value",
           new="        value += step\n        return value - step",
           learner="Your counter returns the value from before the step, so its first call gives `start`; each call "
                   "should step first and return the new value, `start + step` the first time.",
           section="Closures that change their state"),
    Mutant("ch01.make_counter", "shares one count between all counters",
           old="    value = start\n\n    def count():\n        nonlocal value\n        value += step\n        return value",
           new="    global _shared_count\n    _shared_count = globals().get('_shared_count', start)\n\n    def count():\n        global _shared_count\n        _shared_count += step\n        return _shared_count",
           learner="All your counters share one count, so calling one counter changes what another returns; keep "
                   "each counter's value in its own closure, changed with `nonlocal`.",
           section="Closures that change their state"),
    Mutant("ch01.my_partial", "call-time keywords lose to the frozen ones",
           old="**{**self.keywords, **keywords}", new="**{**keywords, **self.keywords}",
           learner="When a keyword is given both when freezing and at call time, you let the frozen value win; as "
                   "in functools.partial, the keyword given at call time must win.",
           section="`partial`"),
    Mutant("ch01.my_partial", "appends the frozen arguments instead of prepending them",
           old="self.func(*self.args, *args,", new="self.func(*args, *self.args,",
           learner="You put the frozen positional arguments after the ones given at call time; as in "
                   "functools.partial, the frozen ones come first.",
           section="`partial`"),
    Mutant("ch01.my_partial", "keeps the caller's dict, so a later change leaks in",
           old="        self.func, self.args, self.keywords = func, args, dict(keywords)",
           new="        self.func, self.args, self.keywords = func, list(args), keywords",
           learner="You keep the frozen positional arguments as a list; `.args` must be a tuple (and `.keywords` a "
                   "dict of its own), as functools.partial exposes them.",
           section="`partial`"),
    Mutant("ch01.my_partial", "accepts only Python functions (inspect.isfunction), not builtins, classes or objects",
           old="        if not callable(func):", new="        if not inspect.isfunction(func):",
           learner="You accept only Python functions (`inspect.isfunction`), so a built-in such as `operator.sub`, "
                   "a class, a bound method or a callable object is refused; anything `callable()` accepts can be "
                   "frozen.",
           section="`partial`"),
    Mutant("ch01.call_with_accepted_kwargs", "drops every keyword, even for **kwargs",
           old="    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):\n        return func(*args, **kwargs)\n",
           new="",
           learner="When `func` takes `**kwargs` you still drop the keywords it has no named parameter for; a "
                   "function with `**kwargs` accepts every keyword, so pass them all.",
           section="`*args` and `**kwargs`"),
    Mutant("ch01.call_with_accepted_kwargs", "treats positional-only parameters as keywords",
           old="(inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)",
           new="(inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_ONLY)",
           learner="You pass keywords to positional-only parameters (those before `/`), which raises TypeError; "
                   "only positional-or-keyword and keyword-only parameters can be given by keyword.",
           section="`*args` and `**kwargs`"),
    Mutant("ch01.call_with_accepted_kwargs", "forgets keyword-only parameters",
           old="(inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)",
           new="(inspect.Parameter.POSITIONAL_OR_KEYWORD,)",
           learner="You leave out keyword-only parameters (those after `*` or `*args`), so the keywords meant for "
                   "them are dropped; they can be passed by keyword too.",
           section="`*args` and `**kwargs`"),
    Mutant("ch01.call_with_accepted_kwargs", "recognises **kwargs by its name instead of its kind",
           old="    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):",
           new="    if any(p.name == \"kwargs\" for p in parameters):",
           learner="You recognise a `**kwargs` parameter by its name, so `**options` is missed and an ordinary "
                   "parameter called `kwargs` lets every keyword through; check the kind, "
                   "`p.kind is inspect.Parameter.VAR_KEYWORD`.",
           section="`*args` and `**kwargs`"),
    Mutant("ch01.call_with_accepted_kwargs", "accepts every name but the positional-only ones, *args included",
           old="    by_keyword = {p.name for p in parameters\n"
               "                  if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}",
           new="    by_keyword = {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}",
           learner="You accept a keyword named like the `*args` parameter, which cannot be given by keyword (it "
                   "collects extra positional arguments); only positional-or-keyword and keyword-only parameters "
                   "take keywords.",
           section="`*args` and `**kwargs`"),
]
