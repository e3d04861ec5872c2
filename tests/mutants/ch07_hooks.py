"""Plausible wrong versions of chapter 7's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # Hook
    Mutant("ch07.Hook", "registers f itself, so f never receives the Hook",
           old="        self.hook = m.register_forward_hook(partial(f, self))",
           new="        self.hook = m.register_forward_hook(f)",
           learner="You register `f` itself, so it is called without the Hook and has nowhere to store what it "
                   "sees; register it with the Hook bound as its first argument (with `partial`).",
           section="A `Hook` class"),
    Mutant("ch07.Hook", "registers a pre-hook, which fires before the forward pass and gets no output",
           old="        self.hook = m.register_forward_hook(partial(f, self))",
           new="        self.hook = m.register_forward_pre_hook(partial(f, self))",
           learner="You register a forward pre-hook, which fires before `forward` and gets no output; register a "
                   "forward hook, called after `forward` with its output.",
           section="PyTorch hooks"),
    Mutant("ch07.Hook", "remove() forgets to unregister (relying on __del__ instead)",
           old="        self.hook.remove()",
           new="        pass",
           learner="Your `remove()` does not unregister the hook from its module, so it keeps firing; `__del__` "
                   "will never do it for you, so remove the handle explicitly.",
           section="Why a hook must be removed, and why `__del__` will not do it"),

    # Hooks
    Mutant("ch07.Hooks", "hooks are not removed when the with block exits",
           old="        self.remove()  # also when the block raised",
           new="        pass",
           learner="You do not remove the hooks when the `with` block ends, so they keep recording; `__exit__` must "
                   "remove every hook.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.Hooks", "__exit__ returns True, which swallows the block's exception",
           old="        self.remove()  # also when the block raised",
           new="        self.remove()\n        return True",
           learner="Your `__exit__` returns True, which swallows an exception raised in the block; remove the hooks "
                   "and return nothing.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.Hooks", "remove() stops after the first hook",
           old="        for hook in self:\n            hook.remove()",
           new="        for hook in self:\n            hook.remove()\n            break",
           learner="Your `remove()` stops after the first hook; remove every hook in the container.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.Hooks", "del hooks[i] drops the Hook without removing it from its module",
           old="        for hook in dropped if isinstance(dropped, list) else [dropped]:\n            hook.remove()\n",
           new="",
           learner="`del hooks[i]` drops the Hook from the container without removing it from its module, so it "
                   "keeps firing; remove the hook first, then drop it.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.Hooks", "keeps the hooks in a plain attribute instead of the container's items",
           old="        super().__init__([Hook(m, f) for m in ms])",
           new="        super().__init__()\n        self.hooks = [Hook(m, f) for m in ms]",
           learner="You keep the hooks in an attribute of your own instead of as the container's items, so `len`, "
                   "indexing and iteration do not see them; hand them to the ListContainer's `__init__`.",
           section="`Hooks`: many hooks in one object"),

    # HooksCallback
    Mutant("ch07.StatsCallback", "records every training batch, whatever `every` says",
           old="        if not self.in_train or self.n_iter % self.every != 0:\n            return\n",
           new="        if not self.in_train:\n            return\n",
           learner="You record every training batch, whatever `every` says; record only the batches whose `n_iter` "
                   "is a multiple of `every`.",
           section="Looking at almost no cost"),
    Mutant("ch07.StatsCallback", "records the batches one after each multiple of `every` (n_iter % every == 1)",
           old="        if not self.in_train or self.n_iter % self.every != 0:",
           new="        if not self.in_train or self.n_iter % self.every != min(1, self.every - 1):",
           learner="You record the batch after each multiple of `every`; record the first batch and then every "
                   "`every`-th one, those whose `n_iter` is a multiple of `every`.",
           section="Looking at almost no cost"),
    Mutant("ch07.StatsCallback", "records validation batches too",
           old="        if not self.in_train or self.n_iter % self.every != 0:",
           new="        if self.n_iter % self.every != 0:",
           learner="You record validation batches too; only training batches are recorded.",
           section="Looking at almost no cost"),
    Mutant("ch07.StatsCallback", "never removes the hooks after a recorded batch, so they pile up",
           old="        self._remove()  # this batch's hooks go; the next recorded batch registers its own",
           new="        pass",
           learner="You never remove the hooks after a recorded batch, so they pile up and run on every batch; "
                   "remove them at that batch's `after_batch`.",
           section="Looking at almost no cost"),
    Mutant("ch07.StatsCallback", "writes every recorded batch into the same row",
           old="        self.row += 1\n        self.iters.append(int(self.n_iter))",
           new="        self.row = 0\n        self.iters.append(int(self.n_iter))",
           learner="You write every recorded batch into the same row; each recorded batch gets a row of its own, "
                   "the next one.",
           section="Looking at almost no cost"),
    Mutant("ch07.update_to_data_ratio", "forgets the log10",
           old="        ratios.append(torch.log10((a64 - b64).std() / b64.std()))",
           new="        ratios.append((a64 - b64).std() / b64.std())",
           learner="You forget the log10; the ratio is reported on a log10 scale, where about -3 is healthy.",
           section="Reading a training run"),
    Mutant("ch07.update_to_data_ratio", "takes the natural log",
           old="        ratios.append(torch.log10((a64 - b64).std() / b64.std()))",
           new="        ratios.append(torch.log((a64 - b64).std() / b64.std()))",
           learner="You take the natural log; the ratio is a base-10 logarithm.",
           section="Reading a training run"),
    Mutant("ch07.update_to_data_ratio", "compares the spread after the step with the spread before (not the step itself)",
           old="        ratios.append(torch.log10((a64 - b64).std() / b64.std()))",
           new="        ratios.append(torch.log10(a64.std() / b64.std()))",
           learner="You compare the spread of the weights after the step with their spread before; the numerator is "
                   "the spread of the step itself, after - before.",
           section="Reading a training run"),
    Mutant("ch07.update_to_data_ratio", "uses the biased std (divides by N)",
           old="        ratios.append(torch.log10((a64 - b64).std() / b64.std()))",
           new="        ratios.append(torch.log10((a64 - b64).std(correction=0) / b64.std()))",
           learner="You take the biased standard deviation of the update (dividing by N); both standard deviations "
                   "are unbiased, dividing by N - 1.",
           section="Reading a training run"),
    Mutant("ch07.update_to_data_ratio", "does not check the shapes",
           old="        if b.shape != a.shape:\n            raise ValueError(f\"a parameter of shape {tuple(b.shape)} came back as {tuple(a.shape)}\")\n",
           new="",
           learner="You do not check that each parameter kept its shape; raise ValueError when the shapes of a pair "
                   "differ.",
           section="Reading a training run"),
    Mutant("ch07.HooksCallback", "never removes the hooks after the fit",
           old="        self.hooks.remove()",
           new="        pass",
           learner="Your `after_fit` does not remove the hooks, so they outlive the fit and keep recording; remove "
                   "them all there.",
           section="Why a hook must be removed, and why `__del__` will not do it"),
    Mutant("ch07.HooksCallback", "hooks the model itself instead of its layers",
           old="        modules = self.modules if self.modules is not None else self.model.children()",
           new="        modules = self.modules if self.modules is not None else [self.model]",
           learner="You hook the model itself instead of its layers; by default, hook each of the model's children.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.HooksCallback", "ignores the modules it was given",
           old="        modules = self.modules if self.modules is not None else self.model.children()",
           new="        modules = self.model.children()",
           learner="You ignore the modules you were given and always hook the model's children; hook `modules` when "
                   "it is given.",
           section="`Hooks`: many hooks in one object"),

    # dead_channels
    Mutant("ch07.dead_channels", "reduces over the batch only, giving one answer per position",
           old="    return (acts <= floor).transpose(0, 1).reshape(acts.shape[1], -1).all(dim=1)",
           new="    return (acts <= floor).all(dim=0)",
           learner="You reduce over the batch only, giving one answer per position; a channel is dead when all its "
                   "activations, over every item and every position, are at or below the floor.",
           section="How many activations are dead?"),
    Mutant("ch07.dead_channels", "strict inequality: a ReLU's exact zeros do not count as dead",
           old="    return (acts <= floor).transpose(0, 1).reshape(acts.shape[1], -1).all(dim=1)",
           new="    return (acts < floor).transpose(0, 1).reshape(acts.shape[1], -1).all(dim=1)",
           learner="You count only activations strictly below the floor, so a ReLU's exact zeros do not count as "
                   "dead; an activation equal to the floor is dead too.",
           section="How many activations are dead?"),
    Mutant("ch07.dead_channels", "any instead of all: one zero makes a channel dead",
           old="    return (acts <= floor).transpose(0, 1).reshape(acts.shape[1], -1).all(dim=1)",
           new="    return (acts <= floor).transpose(0, 1).reshape(acts.shape[1], -1).any(dim=1)",
           learner="You call a channel dead when any one of its activations is at the floor; it is dead only when "
                   "all of them are.",
           section="How many activations are dead?"),

    # append_stats
    Mutant("ch07.append_stats", "records statistics with the autograd graph attached",
           old="    mean, std = mean_std(acts)  # acts.mean(), acts.std() in fewer passes",
           new="    mean, std = outp.float().mean().cpu(), outp.float().std().cpu()",
           learner="You compute the statistics from the output without detaching it, so each number carries its "
                   "batch's autograd graph and the lists keep every graph alive; detach the output first.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.append_stats", "histogram range that drops the negative part",
           old="    hists.append(fast_histc(acts, bins, lo, hi))",
           new="    hists.append(fast_histc(acts, bins, 0, hi))",
           learner="You build the histogram over [0, hi] instead of [lo, hi], so with a negative `lo` the values "
                   "below 0 are not counted; use the range you were given.",
           section="The colorful dimension: histograms over time"),
    Mutant("ch07.append_stats", "histogram of the absolute values, so negatives land in positive bins",
           old="    hists.append(fast_histc(acts, bins, lo, hi))",
           new="    hists.append(acts.abs().histc(bins, lo, hi))",
           learner="You take the histogram of the absolute values, so negative activations land in positive bins; "
                   "count the values as they are.",
           section="The colorful dimension: histograms over time"),
    Mutant("ch07.append_stats", "starts fresh lists on every call, keeping only the last batch",
           old="    if not hasattr(hook, \"stats\"):\n        hook.stats = ([], [], [])",
           new="    hook.stats = ([], [], [])",
           learner="You start new lists on every call, so only the last batch's statistics remain; create "
                   "`hook.stats` on the first call only and append to it afterwards.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.append_stats", "records validation batches too",
           old="    if not mod.training:\n        return\n",
           new="",
           learner="You record in eval mode too; append only when the module is training.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.append_stats", "population std instead of torch's default",
           old="    stds.append(std)",
           new="    stds.append(acts.std(unbiased=False))",
           learner="You record the population standard deviation; use PyTorch's default, the unbiased one (dividing "
                   "by N - 1).",
           section="`Hooks`: many hooks in one object"),

    # get_hist
    Mutant("ch07.get_hist", "forgets to transpose: rows are batches, not bins",
           old="    return torch.stack(h.stats[2]).t().float().log1p()",
           new="    return torch.stack(h.stats[2]).float().log1p()",
           learner="You stack the histograms without transposing, so the rows are batches; row i must be bin i and "
                   "column j batch j.",
           section="The colorful dimension: histograms over time"),
    Mutant("ch07.get_hist", "log instead of log1p: empty bins become -inf",
           old="    return torch.stack(h.stats[2]).t().float().log1p()",
           new="    return torch.stack(h.stats[2]).t().float().log()",
           learner="You take the log of the counts, so empty bins become -inf; take log(1 + count), which leaves "
                   "them at 0.",
           section="The colorful dimension: histograms over time"),
    Mutant("ch07.get_hist", "no log at all",
           old="    return torch.stack(h.stats[2]).t().float().log1p()",
           new="    return torch.stack(h.stats[2]).t().float()",
           learner="You do not take the log of the counts, so a few huge counts hide everything else; show log(1 + "
                   "count).",
           section="The colorful dimension: histograms over time"),

    # get_min
    Mutant("ch07.get_min", "starts one bin above the floor (the original's h1[19:22] for GeneralRelu)",
           old="    first = max(math.floor((floor - lo) / bin_width + 1e-9), 0)",
           new="    first = max(math.floor((floor - lo) / bin_width + 1e-9), 0) + 1",
           learner="You start one bin above the one that contains the floor, so the bin where the dead activations "
                   "pile up is missed; start at the bin that contains `floor`.",
           section="How many activations are dead?"),
    Mutant("ch07.get_min", "divides by the counts of all batches together",
           old="    return hist[first:stop].sum(0) / hist.sum(0)",
           new="    return hist[first:stop].sum(0) / hist.sum()",
           learner="You divide by the counts of all the batches together; divide each batch's count near the floor "
                   "by that batch's own total.",
           section="How many activations are dead?"),
    Mutant("ch07.get_min", "rounds the floor's bin instead of taking the one that contains it",
           old="    first = max(math.floor((floor - lo) / bin_width + 1e-9), 0)",
           new="    first = max(round((floor - lo) / bin_width), 0)",
           learner="You round to find the floor's bin instead of taking the bin that contains it, so a floor in the "
                   "upper half of a bin skips that bin.",
           section="How many activations are dead?"),
    Mutant("ch07.get_min", "stops one bin short of floor + width",
           old="    stop = min(math.ceil((floor + width - lo) / bin_width - 1e-9), n_bins)",
           new="    stop = min(math.floor((floor + width - lo) / bin_width), n_bins)",
           learner="You stop one bin short when floor + width falls inside a bin; include the bin that contains the "
                   "last value below floor + width.",
           section="How many activations are dead?"),

    # GeneralRelu
    Mutant("ch07.GeneralRelu", "in-place sub_ after relu breaks backward",
           old="            x = x - self.sub",
           new="            x.sub_(self.sub)",
           learner="You subtract `sub` in place after the ReLU, which changes the output F.relu saved for backward, "
                   "so `backward()` fails; subtract out of place.",
           section="A general ReLU"),
    Mutant("ch07.GeneralRelu", "in-place clamp_max_ after relu breaks backward",
           old="            x = x.clamp_max(self.maxv)",
           new="            x.clamp_max_(self.maxv)",
           learner="You clamp in place after the ReLU, which changes the output F.relu saved for backward, so "
                   "`backward()` fails; clamp out of place.",
           section="A general ReLU"),
    Mutant("ch07.GeneralRelu", "clamps from below instead of above",
           old="            x = x.clamp_max(self.maxv)",
           new="            x = x.clamp_min(self.maxv)",
           learner="You clamp from below at `maxv`; `maxv` is a ceiling, so clamp from above.",
           section="A general ReLU"),
    Mutant("ch07.GeneralRelu", "ignores the leak",
           old="        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)",
           new="        x = F.relu(x)",
           learner="You ignore the leak; with a leak, negative inputs are multiplied by it (a leaky ReLU) instead "
                   "of zeroed.",
           section="A general ReLU"),
    Mutant("ch07.GeneralRelu", "an in-place relu that overwrites the input",
           old="        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)",
           new="        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x, inplace=True)",
           learner="You apply the ReLU in place, which overwrites the caller's input; never modify the input.",
           section="A general ReLU"),
    Mutant("ch07.GeneralRelu", "adds sub instead of subtracting it",
           old="            x = x - self.sub",
           new="            x = x + self.sub",
           learner="You add `sub` instead of subtracting it.",
           section="A general ReLU"),

    # init_cnn
    Mutant("ch07.init_cnn", "zeroes the bias unconditionally, which crashes on bias=None",
           old="            if layer.bias is not None:\n                nn.init.zeros_(layer.bias)",
           new="            layer.bias.data.zero_()",
           learner="You zero the bias without checking that the layer has one, which crashes on a convolution made "
                   "with `bias=False` (its bias is None).",
           section="Kaiming initialisation"),
    Mutant("ch07.init_cnn", "fan_out instead of fan_in",
           old="            init(layer.weight, a=a)",
           new="            init(layer.weight, a=a, mode=\"fan_out\")",
           learner="You scale the weights by the fan-out; Kaiming's forward derivation, PyTorch's default, uses the "
                   "fan-in.",
           section="Kaiming initialisation"),
    Mutant("ch07.init_cnn", "ignores the leak a",
           old="            init(layer.weight, a=a)",
           new="            init(layer.weight)",
           learner="You ignore the leak `a`, so the weights are scaled for a plain ReLU; pass `a` on to the Kaiming "
                   "initialiser.",
           section="Kaiming initialisation"),
    Mutant("ch07.init_cnn", "only looks at the direct children, missing nested convolutions",
           old="    for layer in m.modules():",
           new="    for layer in m.children():",
           learner="You look only at the model's direct children, so convolutions nested inside them are missed; "
                   "visit every module, at any depth.",
           section="Kaiming initialisation"),
    Mutant("ch07.init_cnn", "always uses the normal distribution",
           old="    init = nn.init.kaiming_uniform_ if uniform else nn.init.kaiming_normal_",
           new="    init = nn.init.kaiming_normal_",
           learner="You always use the normal distribution; with `uniform=True`, use Kaiming's uniform version.",
           section="Kaiming initialisation"),
    Mutant("ch07.init_cnn", "leaves the biases as they were",
           old="            if layer.bias is not None:\n                nn.init.zeros_(layer.bias)",
           new="            pass",
           learner="You leave the biases as they were; set every convolution's bias to zero.",
           section="Kaiming initialisation"),

    # GradStatsHook
    Mutant("ch07.GradStatsHook", "records the gradient w.r.t. the input instead of the output",
           old="        self.norms[i].append(grad_output[0].detach().norm().item())",
           new="        self.norms[i].append(grad_input[0].detach().norm().item() if grad_input[0] is not None else 0.0)",
           learner="You record the gradient with respect to the module's input; record the norm of the gradient "
                   "with respect to its output.",
           section="PyTorch hooks"),
    Mutant("ch07.GradStatsHook", "one list shared by every module ([[]] * n)",
           old="        self.norms = [[] for _ in ms]",
           new="        self.norms = [[]] * len(ms)",
           learner="All your modules share one list (as `[[]] * n` makes), so every norm lands in every module's "
                   "record; make a separate list for each module.",
           section="PyTorch hooks"),
    Mutant("ch07.GradStatsHook", "remove() does nothing",
           old="        for handle in self.handles:\n            handle.remove()",
           new="        pass",
           learner="Your `remove()` does nothing, so the backward hooks keep firing; remove every handle you "
                   "registered.",
           section="Why a hook must be removed, and why `__del__` will not do it"),
    Mutant("ch07.GradStatsHook", "records the squared norm",
           old="        self.norms[i].append(grad_output[0].detach().norm().item())",
           new="        self.norms[i].append((grad_output[0].detach() ** 2).sum().item())",
           learner="You record the squared norm; record the L2 norm itself, the square root of the sum of squares.",
           section="PyTorch hooks"),

    # lsuv_init
    Mutant("ch07.lsuv_init", "multiplies the weights by the std instead of dividing",
           old="            m_in.weight /= stats[\"std\"]",
           new="            m_in.weight *= stats[\"std\"]",
           learner="You multiply the weights by the measured std; divide them by it, so that the output's std moves "
                   "towards 1.",
           section="Kaiming initialisation"),
    Mutant("ch07.lsuv_init", "adds the mean to the bias instead of subtracting it",
           old="            m_in.bias -= stats[\"mean\"]",
           new="            m_in.bias += stats[\"mean\"]",
           learner="You add the measured mean to the bias; subtract it, so that the output's mean moves towards 0.",
           section="Kaiming initialisation"),
    Mutant("ch07.lsuv_init", "never removes its hook",
           old="    finally:\n        handle.remove()",
           new="    finally:\n        pass",
           learner="You never remove the hook you registered, so it keeps firing after the initialisation; remove "
                   "it before returning, also on an error.",
           section="Why a hook must be removed, and why `__del__` will not do it"),
    Mutant("ch07.lsuv_init", "replaces the weight by a new Parameter, so an optimiser holds a stale one",
           old="            m_in.weight /= stats[\"std\"]",
           new="            m_in.weight = nn.Parameter(m_in.weight / stats[\"std\"])",
           learner="You replace the weight by a new Parameter, so an optimiser that already holds the old one "
                   "trains a stale tensor; change the weight in place.",
           section="Kaiming initialisation"),
    Mutant("ch07.lsuv_init", "returns the statistics measured before the last adjustment",
           old="        else:\n            model(xb)\n",
           new="",
           learner="When the loop runs out of iterations you return the statistics measured before the last "
                   "adjustment; measure once more after it.",
           section="Kaiming initialisation"),

    # edges: iterators read once, a second fit, dtype and device, non-contiguous activations
    Mutant("ch07.Hooks", "reads ms twice (checks the modules first), so an iterator such as model.children() gives no hooks",
           old="        super().__init__([Hook(m, f) for m in ms])",
           new="        if not all(isinstance(m, nn.Module) for m in ms):\n            raise TypeError(\"Hooks needs modules\")\n"
               "        super().__init__([Hook(m, f) for m in ms])",
           learner="You go through `ms` twice (once to check it, once to hook it); an iterator such as "
                   "`model.children()` is empty the second time, so hook each module in a single pass.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.GradStatsHook", "reads ms twice without making a list, so an iterator gets lists but no hooks",
           old="        ms = list(ms)\n        self.norms = [[] for _ in ms]",
           new="        self.norms = [[] for _ in ms]",
           learner="You go through `ms` twice (once for the lists, once for the hooks); an iterator such as "
                   "`model.children()` is empty the second time, so make a list of the modules first.",
           section="PyTorch hooks"),
    Mutant("ch07.HooksCallback", "keeps model.children() in self.modules, so a second fit finds the iterator used up",
           old="        modules = self.modules if self.modules is not None else self.model.children()\n"
               "        self.hooks = Hooks(modules, self.hook_func)",
           new="        if self.modules is None:\n            self.modules = self.model.children()\n"
               "        self.hooks = Hooks(self.modules, self.hook_func)",
           learner="You store `model.children()` in `self.modules`, an iterator that the first fit uses up, so a "
                   "second fit hooks nothing; read the model's children anew at each `begin_fit`.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.update_to_data_ratio", "computes on the CPU, so the ratios leave the parameters' device",
           old="        b64, a64 = b.detach().double(), a.detach().double()",
           new="        b64, a64 = b.detach().double().cpu(), a.detach().double().cpu()",
           learner="You move the parameters to the CPU to compute the ratios; keep them on the parameters' device, "
                   "so that a training loop on a GPU need not wait for it.",
           section="Reading a training run"),
    Mutant("ch07.update_to_data_ratio", "computes in the parameters' precision, so float32 parameters give float32 ratios",
           old="        b64, a64 = b.detach().double(), a.detach().double()",
           new="        b64, a64 = b.detach(), a.detach()",
           learner="You compute in the parameters' own precision, so float32 parameters give float32 ratios (and a "
                   "tiny step loses digits in after - before); convert to float64 first.",
           section="Reading a training run"),
    Mutant("ch07.update_to_data_ratio", "stacks the ratios even when there are none, which raises for empty lists",
           old="    return torch.stack(ratios) if ratios else torch.zeros(0, dtype=torch.float64)",
           new="    return torch.stack(ratios)",
           learner="You stack the ratios even when there are none, and `torch.stack([])` raises; return an empty "
                   "float64 tensor for no parameters.",
           section="Reading a training run"),
    Mutant("ch07.dead_channels", "views the activations as (n, c, -1), which fails on non-contiguous ones",
           old="    return (acts <= floor).transpose(0, 1).reshape(acts.shape[1], -1).all(dim=1)",
           new="    return (acts <= floor).view(acts.shape[0], acts.shape[1], -1).all(dim=2).all(dim=0)",
           learner="You flatten the positions with `view`, which fails on non-contiguous activations (a transposed "
                   "or sliced tensor); use `reshape` or `flatten`, which copy when they must.",
           section="How many activations are dead?"),
    Mutant("ch07.Hooks", "del hooks[i] removes one Hook only, so a slice fails",
           old="        dropped = self[i]\n        for hook in dropped if isinstance(dropped, list) else [dropped]:\n"
               "            hook.remove()\n",
           new="        self[i].remove()\n",
           learner="Your `del hooks[i]` handles one index only, so `del hooks[1:]` fails (a slice gives a list of "
                   "hooks); remove each hook of a slice before dropping them.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.GeneralRelu", "tests maxv for truth, so maxv=0.0 clamps nothing",
           old="        if self.maxv is not None:\n            x = x.clamp_max(self.maxv)",
           new="        if self.maxv:\n            x = x.clamp_max(self.maxv)",
           learner="You test `if self.maxv:`, so `maxv=0.0`, which is falsy, clamps nothing; only None leaves the "
                   "ceiling out, so test `self.maxv is not None`.",
           section="A general ReLU"),
    Mutant("ch07.append_stats", "returns in eval mode before creating hook.stats",
           old="    if not hasattr(hook, \"stats\"):\n        hook.stats = ([], [], [])\n    if not mod.training:\n        return\n",
           new="    if not mod.training:\n        return\n    if not hasattr(hook, \"stats\"):\n        hook.stats = ([], [], [])\n",
           learner="You return in eval mode before creating `hook.stats`, so a model whose first pass is a "
                   "validation pass has hooks without stats; create the three lists on the first call, in any mode.",
           section="`Hooks`: many hooks in one object"),
    Mutant("ch07.GradStatsHook", "records the norm as a 0-d tensor instead of a Python float",
           old="        self.norms[i].append(grad_output[0].detach().norm().item())",
           new="        self.norms[i].append(grad_output[0].detach().norm())",
           learner="You record each norm as a 0-d tensor, which keeps its memory (on a GPU, GPU memory) alive; "
                   "append a Python float with `.item()`.",
           section="PyTorch hooks"),
]
