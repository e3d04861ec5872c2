"""Plausible wrong versions of chapter 5's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

# Two ways to end the search with the trained weights: from outside they do the same, so they share one text.
NOT_RESTORED = ("After the search your model keeps the weights it was trained to, often wrecked: restore them. Save a "
                "deep copy of the state at `begin_fit` (`copy.deepcopy(model.state_dict())`: the `state_dict()` "
                "itself holds the model's own tensors, which the search changes) and load it after the fit.")

MUTANTS = [
    # --- Callback
    Mutant("ch05.Callback", "delegates through self.run, which recurses forever before set_runner",
           old='        run = self.__dict__.get("run")\n        if run is None or k.startswith("__"):',
           new='        run = self.run\n        if run is None or k.startswith("__"):',
           learner="Your `__getattr__` reads `self.run`, so before `set_runner` the look-up of `run` calls "
                   "`__getattr__` again without end; read the runner from the instance `__dict__` and raise "
                   "AttributeError when there is none.",
           section="Callbacks"),
    Mutant("ch05.Callback", "strips 'Callback' anywhere in the name, not only at the end",
           old='        name = re.sub(r"Callback$", "", type(self).__name__)',
           new='        name = type(self).__name__.replace("Callback", "")',
           learner="You remove 'Callback' wherever it appears in the class name; only a trailing 'Callback' is "
                   "removed.",
           section="Callbacks"),
    Mutant("ch05.Callback", "lower-cases the name instead of converting it to snake_case",
           old='        return camel2snake(name or "callback")', new='        return (name or "callback").lower()',
           learner="You only lower-case the name, so `AvgStatsCallback` becomes `avgstats`; convert it to "
                   "snake_case (`avg_stats`) with `camel2snake`.",
           section="Callbacks"),
    Mutant("ch05.Callback", "returns the method's result itself instead of a bool",
           old="        return bool(f and f())", new="        return f and f()",
           learner="Your `cb(event)` returns whatever the method returned (None, say) instead of a bool; return "
                   "True only when the method returned something truthy, False otherwise.",
           section="Callbacks"),
    Mutant("ch05.Callback", "ignores what the method returned",
           old="        return bool(f and f())", new="        if f:\n            f()\n        return False",
           learner="You ignore what the event method returns, so a callback can never ask to skip; return True when "
                   "the method returned something truthy.",
           section="Callbacks"),

    # --- Runner
    Mutant("ch05.Runner", "combines the callbacks' answers with `and` (the original's bug)",
           old="            res = cb(cb_name) or res", new="            res = cb(cb_name) and res",
           learner="You combine the callbacks' answers with `and`, so one callback saying False overrides the "
                   "others; any callback returning True must stop the step (use `or`).",
           section="Saying \"skip that\": `True`, combined with `or`"),
    Mutant("ch05.Runner", "short-circuits: after one True the other callbacks are not called",
           old="            res = cb(cb_name) or res", new="            res = res or cb(cb_name)",
           learner="You stop calling the callbacks as soon as one has returned True, so the others miss the event; "
                   "call every callback first, then combine its answer with `or`.",
           section="Saying \"skip that\": `True`, combined with `or`"),
    Mutant("ch05.Runner", "does not fire the cleanup event when a batch is cancelled",
           old='        except CancelBatchException:\n            self("after_cancel_batch")',
           new='        except CancelBatchException:\n            pass',
           learner="When a batch is cancelled you do not fire `after_cancel_batch`; catch CancelBatchException in "
                   "the batch and fire it (then `after_batch`).",
           section="Stopping with exceptions"),
    Mutant("ch05.Runner", "does not fire after_cancel_epoch",
           old='        except CancelEpochException:\n            self("after_cancel_epoch")',
           new='        except CancelEpochException:\n            pass',
           learner="When a pass is cancelled you do not fire `after_cancel_epoch`; catch CancelEpochException "
                   "around the pass's batches and fire it.",
           section="Stopping with exceptions"),
    Mutant("ch05.Runner", "fires after_fit only when the fit was not cancelled (no finally)",
           old='        except CancelTrainException:\n            self("after_cancel_train")\n        finally:\n            self("after_fit")',
           new='            self("after_fit")\n        except CancelTrainException:\n            self("after_cancel_train")',
           learner="You fire `after_fit` only when the fit was not cancelled; it must run whatever happened, so "
                   "fire it in a `finally`.",
           section="Stopping with exceptions"),
    Mutant("ch05.Runner", "fires after_batch only for batches that were not cancelled (no finally)",
           old='            self.opt.zero_grad()\n        except CancelBatchException:\n            self("after_cancel_batch")\n        finally:\n            self("after_batch")',
           new='            self.opt.zero_grad()\n            self("after_batch")\n        except CancelBatchException:\n            self("after_cancel_batch")',
           learner="You fire `after_batch` only when a training batch ran to its end, so cancelled batches (and "
                   "validation batches, which end early) miss it; fire it in a `finally`.",
           section="Stopping with exceptions"),
    Mutant("ch05.Runner", "leaves the callbacks in the order they were given",
           old="            self.cbs.sort(key=lambda cb: cb._order)\n", new="",
           learner="You call the callbacks in the order they were given; run them sorted by `_order`, lowest first.",
           section="Calling the callbacks"),
    Mutant("ch05.Runner", "sorts the callbacks highest _order first",
           old="            self.cbs.sort(key=lambda cb: cb._order)", new="            self.cbs.sort(key=lambda cb: -cb._order)",
           learner="You sort the callbacks highest `_order` first; they run lowest first.",
           section="Calling the callbacks"),
    Mutant("ch05.Runner", "skips a callback that handles events in its own __call__ (it defines no event method)",
           old="if defines(cb, cb_name)]", new="if cb_name in vars(cb) or callable(getattr(type(cb), cb_name, None))]",
           learner="You skip a callback that handles events in its own `__call__`, because it has no method named "
                   "after the event; such a callback must hear every event.",
           section="Calling the callbacks"),
    Mutant("ch05.Runner", "never sees a callback added to run.cbs during the fit",
           old="        if self._sorted != self.cbs:", new="        if self._sorted is None:",
           learner="You sort the callbacks and list their handlers only once, so a callback added to `run.cbs` "
                   "during the fit is never called; notice when the list has changed and sort it again.",
           section="Calling the callbacks"),
    Mutant("ch05.Runner", "never zeroes the gradients",
           old='            self("after_step")\n            self.opt.zero_grad()', new='            self("after_step")',
           learner="You never zero the gradients, so each batch's gradients add up with all the earlier ones; zero "
                   "them after the optimiser step.",
           section="The Runner and its events"),
    Mutant("ch05.Runner", "also steps the optimiser on validation batches",
           old="            if not self.in_train:\n                return\n            self.loss.backward()",
           new="            self.loss.backward()",
           learner="You run backward and the optimiser step on validation batches too, so the model learns from the "
                   "validation set; a validation batch stops after the loss.",
           section="The Runner and its events"),
    Mutant("ch05.Runner", "validates with gradients on",
           old="                with torch.no_grad():\n                    self.dl = self.data.valid_dl\n                    if not self(\"begin_validate\"):\n                        self.all_batches(self.data.valid_dl)",
           new="                self.dl = self.data.valid_dl\n                if not self(\"begin_validate\"):\n                    self.all_batches(self.data.valid_dl)",
           learner="You run the validation pass with gradients on; run it under `torch.no_grad()`, since nothing is "
                   "learnt from it.",
           section="The Runner and its events"),
    Mutant("ch05.Runner", "runs the training pass even when begin_epoch asked to skip it",
           old='                if not self("begin_epoch"):\n                    self.all_batches(self.data.train_dl)',
           new='                self("begin_epoch")\n                self.all_batches(self.data.train_dl)',
           learner="You run the training pass even when `begin_epoch` returned True; a True answer skips that "
                   "epoch's training pass.",
           section="Saying \"skip that\": `True`, combined with `or`"),
    Mutant("ch05.Runner", "lets CancelEpochException escape the pass it was meant to end",
           old="        try:\n            for self.iter, (xb, yb) in enumerate(dl):\n                self.one_batch(xb, yb)\n        except CancelEpochException:\n            self(\"after_cancel_epoch\")",
           new="        for self.iter, (xb, yb) in enumerate(dl):\n            self.one_batch(xb, yb)",
           learner="You do not catch CancelEpochException around the batches of a pass, so it escapes and ends the "
                   "whole fit; catch it there, fire `after_cancel_epoch`, and go on with the next pass.",
           section="Stopping with exceptions"),

    Mutant("ch05.Runner", "counts iter from 1 instead of 0",
           old="            for self.iter, (xb, yb) in enumerate(dl):",
           new="            for self.iter, (xb, yb) in enumerate(dl, 1):",
           learner="Your `iter` counts the batches of a pass from 1; it is the index of the current batch, from 0 "
                   "to `iters - 1`, as `enumerate(dl)` gives it.",
           section="The Runner and its events"),

    # --- AvgStats
    Mutant("ch05.AvgStats", "averages the batch means (ignores the batch size)",
           old="        self.tot_loss = self.tot_loss + run.loss.detach() * bn\n        self.count += bn\n        for i, metric in enumerate(self.metrics):\n            self.tot_mets[i] = self.tot_mets[i] + metric(run.pred, run.yb).detach() * bn",
           new="        self.tot_loss = self.tot_loss + run.loss.detach()\n        self.count += 1\n        for i, metric in enumerate(self.metrics):\n            self.tot_mets[i] = self.tot_mets[i] + metric(run.pred, run.yb).detach()",
           learner="You add up the batch means and divide by the number of batches, so a small last batch counts as "
                   "much as a full one; weight each batch's loss and metrics by its size and divide by the number "
                   "of samples.",
           section="Averaging the statistics"),
    Mutant("ch05.AvgStats", "counts batches instead of samples",
           old="        self.count += bn\n        for i, metric", new="        self.count += 1\n        for i, metric",
           learner="You count batches instead of samples, while the totals are weighted by batch size; add each "
                   "batch's size to the count.",
           section="Averaging the statistics"),
    Mutant("ch05.AvgStats", "weights the loss but not the metrics",
           old="metric(run.pred, run.yb).detach() * bn", new="metric(run.pred, run.yb).detach()",
           learner="You weight the loss by the batch size but not the metrics; weight each metric by the batch size "
                   "too.",
           section="Averaging the statistics"),
    Mutant("ch05.AvgStats", "keeps the loss attached to the graph",
           old="        self.tot_loss = self.tot_loss + run.loss.detach() * bn",
           new="        self.tot_loss = self.tot_loss + run.loss * bn",
           learner="You add the loss to the total without detaching it, so the total keeps every batch's graph "
                   "alive; add a detached copy.",
           section="Averaging the statistics"),
    Mutant("ch05.AvgStats", "reset forgets the count",
           old="        self.tot_loss, self.count = 0., 0\n        self.tot_mets",
           new="        self.tot_loss = 0.\n        self.count = getattr(self, 'count', 0)\n        self.tot_mets",
           learner="Your `reset()` zeroes the totals but not the count, so the next pass divides by the samples of "
                   "earlier passes as well.",
           section="Averaging the statistics"),
    Mutant("ch05.AvgStats", "returns tensors instead of floats",
           old="        return [float(total) / self.count for total in self.all_stats]",
           new="        return [torch.as_tensor(total) / self.count for total in self.all_stats]",
           learner="Your `avg_stats` gives tensors; it should give plain Python floats.",
           section="Averaging the statistics"),

    Mutant("ch05.AvgStats", "reports 0 instead of NaN for a pass without batches",
           old="            return [math.nan] * len(self.all_stats)", new="            return [0.] * len(self.all_stats)",
           learner="Before any batch (a skipped validation pass, say) your `avg_stats` gives 0, which looks like a "
                   "perfect loss; the mean of nothing is NaN: return `[nan] * len(all_stats)`.",
           section="Averaging the statistics"),

    # --- LRFinder
    Mutant("ch05.LRFinder", "never restores the weights (the original's omission)",
           old="        self.model.load_state_dict(self.saved_model)\n", new="",
           learner=NOT_RESTORED,
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "saves the state_dict without copying it, so 'restoring' keeps the trained weights",
           old="        self.saved_model = copy.deepcopy(self.model.state_dict())",
           new="        self.saved_model = self.model.state_dict()",
           learner=NOT_RESTORED,
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "restores the weights but not the optimiser",
           old="\n        self.opt.load_state_dict(self.saved_opt)", new="",
           learner="You restore the weights but not the optimiser, so its momentum buffers and learning rates stay "
                   "as the search left them; save and restore the optimiser's state too.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "a linear schedule instead of an exponential one",
           old="        lr = self.min_lr * (self.max_lr / self.min_lr) ** pos",
           new="        lr = self.min_lr + (self.max_lr - self.min_lr) * pos",
           learner="You grow the learning rate linearly; it grows exponentially, by the same factor at every batch, "
                   "from `min_lr` at batch 0 to `max_lr` at batch `max_iter`.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "stops one batch late",
           old="        if self.n_iter >= self.max_iter or", new="        if self.n_iter > self.max_iter or",
           learner="You stop only once `n_iter` exceeds `max_iter`, one batch late; stop as soon as it reaches "
                   "`max_iter`.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "stops when the loss reaches 10x the best, not when it exceeds it",
           old="loss > self.best_loss * 10", new="loss >= self.best_loss * 10",
           learner="You stop when the loss is exactly 10 times the best; stop only when it exceeds that.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "goes on after a NaN loss (no comparison with a NaN is ever true)",
           old=" or loss > self.best_loss * 10 or math.isnan(loss):", new=" or loss > self.best_loss * 10:",
           learner="You go on after a NaN loss, because no comparison with NaN is ever true; check for NaN "
                   "explicitly and stop.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "never updates the best loss",
           old="\n        self.best_loss = min(self.best_loss, loss)", new="",
           learner="You never update the best loss, so it stays at infinity and the loss can never exceed 10 times "
                   "it; keep the lowest loss seen so far.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "runs validation",
           old="        return True", new="        return False",
           learner="Your `begin_validate` does not return True, so validation runs during the search; the finder "
                   "skips it.",
           section="The learning-rate finder"),

    Mutant("ch05.LRFinder", "sets the learning rate of the first parameter group only",
           old='        for pg in self.opt.param_groups:\n            pg["lr"] = lr',
           new='        self.opt.param_groups[0]["lr"] = lr',
           learner="You set the learning rate of the first parameter group only, so the other groups train at their "
                   "own rate during the search; set it in every group of `opt.param_groups`.",
           section="The learning-rate finder"),
    Mutant("ch05.LRFinder", "keeps best_loss from the previous search",
           old="        self.best_loss = math.inf\n",
           new='        self.best_loss = getattr(self, "best_loss", math.inf)\n',
           learner="You start `best_loss` at infinity only once, so a second search with the same finder compares "
                   "its losses with the best of the first one and may stop at once; reset it in `begin_fit`.",
           section="The learning-rate finder"),

    # --- combine_scheds
    Mutant("ch05.combine_scheds", "insists the fractions sum to exactly 1",
           old="abs(sum(pcts) - 1) > 1e-6", new="sum(pcts) != 1",
           learner="You require the fractions to add up to exactly 1, so rounding makes you refuse valid ones (0.6 "
                   "+ 0.3 + 0.1 is not exactly 1 in floating point); allow an error of 1e-6.",
           section="Scheduling the learning rate"),
    Mutant("ch05.combine_scheds", "keeps empty phases (a division by zero at their start)",
           old="zip(accumulate([0.] + pcts[:-1]), pcts, scheds) if p > 0]",
           new="zip(accumulate([0.] + pcts[:-1]), pcts, scheds)]",
           learner="You keep phases whose fraction is 0, so a position at such a phase's start divides by its zero "
                   "width; skip empty phases.",
           section="Scheduling the learning rate"),
    Mutant("ch05.combine_scheds", "lets the local position go above 1 at pos == 1.0",
           old="        return sched(min((pos - start) / width, 1.0))", new="        return sched((pos - start) / width)",
           learner="Your local position can go above 1 at the very end of training; clamp it at 1.",
           section="Scheduling the learning rate"),
    Mutant("ch05.combine_scheds", "puts a boundary in the earlier phase",
           old="bisect.bisect_right(starts, pos) - 1", new="bisect.bisect_left(starts, pos) - 1",
           learner="At a boundary between two phases you use the earlier phase; a phase covers [start, start + "
                   "pct), so a position equal to its start belongs to it.",
           section="Scheduling the learning rate"),
    Mutant("ch05.combine_scheds", "forgets to subtract the phase's start",
           old="        return sched(min((pos - start) / width, 1.0))", new="        return sched(min(pos / width, 1.0))",
           learner="You divide the position by the phase's width without subtracting the phase's start; the local "
                   "position is (pos - start) / width.",
           section="Scheduling the learning rate"),
    Mutant("ch05.combine_scheds", "does not check the lengths match",
           old="    if len(pcts) != len(scheds) or not pcts:", new="    if not pcts:",
           learner="You do not check that there are as many fractions as schedules; raise ValueError when the "
                   "lengths differ.",
           section="Scheduling the learning rate"),

    # --- EarlyStoppingCallback
    Mutant("ch05.EarlyStoppingCallback", "stops one epoch late",
           old="        if self.wait >= self.patience:", new="        if self.wait > self.patience:",
           learner="You stop one epoch late; stop as soon as the number of epochs without improvement reaches "
                   "`patience`.",
           section="Stopping with exceptions"),
    Mutant("ch05.EarlyStoppingCallback", "ignores min_delta",
           old="        if valid_loss < self.best - self.min_delta:", new="        if valid_loss < self.best:",
           learner="You ignore `min_delta`, so any decrease, however small, counts as an improvement; an "
                   "improvement must be below `best - min_delta`.",
           section="Stopping with exceptions"),
    Mutant("ch05.EarlyStoppingCallback", "does not reset the wait after an improvement",
           old="            self.best, self.best_epoch, self.wait = valid_loss, self.epoch, 0",
           new="            self.best, self.best_epoch = valid_loss, self.epoch",
           learner="You do not set `wait` back to 0 after an improvement, so the epochs without improvement keep "
                   "counting across it.",
           section="Stopping with exceptions"),
    Mutant("ch05.EarlyStoppingCallback", "averages the batch means",
           old="        self.tot_loss += self.loss.item() * bn\n        self.count += bn",
           new="        self.tot_loss += self.loss.item()\n        self.count += 1",
           learner="You average the batch means, so a small last validation batch counts as much as a full one; "
                   "weight each batch's loss by its size and divide by the number of samples.",
           section="Averaging the statistics"),
    Mutant("ch05.EarlyStoppingCallback", "does not reset between fits",
           old="        self.best, self.wait = math.inf, 0\n        self.best_epoch = self.stopped_epoch = None", new="        pass",
           learner="You do not reset `best`, `wait`, `best_epoch` and `stopped_epoch` at the start of a fit, so a "
                   "second fit carries on from the first.",
           section="Stopping with exceptions"),

    Mutant("ch05.EarlyStoppingCallback", "counts a loss equal to best - min_delta as an improvement",
           old="        if valid_loss < self.best - self.min_delta:", new="        if valid_loss <= self.best - self.min_delta:",
           learner="You count a loss equal to `best - min_delta` as an improvement (with `min_delta=0`, a loss equal "
                   "to the best); an improvement must be strictly below `best - min_delta`.",
           section="Stopping with exceptions"),
    Mutant("ch05.EarlyStoppingCallback", "counts an epoch without validation batches as one without improvement",
           old="        if self.count == 0:\n            return\n        valid_loss = self.tot_loss / self.count",
           new="        valid_loss = self.tot_loss / self.count if self.count else math.inf",
           learner="You count an epoch whose validation pass was skipped as an epoch without improvement, so "
                   "`wait` grows and the fit may stop; an epoch with no validation batches must change nothing.",
           section="Stopping with exceptions"),

    Mutant("ch05.EarlyStoppingCallback", "sets best, wait, best_epoch and stopped_epoch only in begin_fit",
           old="        self.patience, self.min_delta = patience, min_delta\n        self.best, self.wait, self.best_epoch, self.stopped_epoch = math.inf, 0, None, None",
           new="        self.patience, self.min_delta = patience, min_delta",
           learner="You set `best`, `wait`, `best_epoch` and `stopped_epoch` only in `begin_fit`, so a new callback "
                   "has none of them until a fit starts (`cb.stopped_epoch` raises); give them their starting values "
                   "in `__init__` too.",
           section="Stopping with exceptions"),

    # --- suggest_lr
    Mutant("ch05.suggest_lr", "forgets to debias the moving average",
           old="        smooth = avg / (1 - (1 - mom) ** n)", new="        smooth = avg",
           learner="You do not debias the moving average, so its first values are too small and the minimum lands "
                   "too early; divide the average by the total weight given so far, 1 - (1 - mom)**n.",
           section="Reading a learning rate off the curve"),
    Mutant("ch05.suggest_lr", "takes mom as the weight of the old value (SGD's convention, not chapter 3's)",
           old="        avg = avg + mom * (loss - avg)\n        smooth = avg / (1 - (1 - mom) ** n)",
           new="        avg = mom * avg + (1 - mom) * loss\n        smooth = avg / (1 - mom ** n)",
           learner="You use mom as the weight of the old average; here, as in chapter 3, mom is the weight of the "
                   "new value.",
           section="Reading a learning rate off the curve"),
    Mutant("ch05.suggest_lr", "returns the learning rate at the minimum itself",
           old="    return best_lr / divisor", new="    return best_lr",
           learner="You return the learning rate at the minimum itself; back off from it by dividing by `divisor`.",
           section="Reading a learning rate off the curve"),
    Mutant("ch05.suggest_lr", "lets a NaN loss into the average",
           old="        if not math.isfinite(loss):\n            continue\n", new="",
           learner="You let NaN or infinite losses into the moving average, which spoils every later value; skip "
                   "them.",
           section="Reading a learning rate off the curve"),
    Mutant("ch05.suggest_lr", "uses the raw losses, not the smoothed ones",
           old="        if smooth < best:\n            best, best_lr = smooth, lr",
           new="        if loss < best:\n            best, best_lr = loss, lr",
           learner="You look for the minimum of the raw losses; look for the minimum of the smoothed ones.",
           section="Reading a learning rate off the curve"),

    Mutant("ch05.suggest_lr", "skips NaN losses but lets infinite ones into the average",
           old="        if not math.isfinite(loss):", new="        if math.isnan(loss):",
           learner="You skip NaN losses but let infinite ones into the moving average, which then stays infinite "
                   "for the rest of the curve; skip every loss that is not finite (`math.isfinite`).",
           section="Reading a learning rate off the curve"),

    # --- GradClipCallback
    Mutant("ch05.GradClipCallback", "clips each parameter's gradient on its own",
           old="        if scale < 1:\n            for g in grads:\n                g.mul_(scale.to(g.dtype))",
           new="        for g in grads:\n            g.mul_((self.max_norm / (g.norm() + 1e-6)).clamp(max=1))",
           learner="You clip each parameter's gradient by its own norm; the total norm treats all the gradients as "
                   "one long vector, and every gradient is scaled by the same factor.",
           section="The Runner and its events"),
    Mutant("ch05.GradClipCallback", "also scales small gradients up",
           old="        if scale < 1:\n            for g in grads:\n                g.mul_(scale.to(g.dtype))",
           new="        for g in grads:\n            g.mul_(scale.to(g.dtype))",
           learner="You also scale gradients whose total norm is below `max_norm`, which scales them up; leave them "
                   "as they are.",
           section="The Runner and its events"),
    Mutant("ch05.GradClipCallback", "records the norm after clipping",
           old="        self.norms.append(norm.item())\n        scale = self.max_norm / (norm + 1e-6)",
           new="        scale = self.max_norm / (norm + 1e-6)\n        self.norms.append(min(norm.item(), self.max_norm))",
           learner="You record the norm after clipping; record the total norm as it was before clipping.",
           section="The Runner and its events"),
    Mutant("ch05.GradClipCallback", "calls torch.nn.utils.clip_grad_norm_ instead of writing it",
           old="        norm = torch.sqrt(sum((g.detach().float() ** 2).sum() for g in grads))",
           new="        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_norm)",
           learner="You call `torch.nn.utils.clip_grad_norm_`, which the exercise asks you not to use; compute the "
                   "total norm and scale the gradients yourself.",
           section="The Runner and its events"),
]
