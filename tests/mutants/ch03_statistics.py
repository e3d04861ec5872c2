"""Plausible wrong versions of chapter 3's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # variance
    Mutant("ch03.variance", "divides by n - 1 whatever the correction (torch.var's default, the sample variance)",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - 1)",
           learner="You divide by n - 1 even when correction=0 asks for the population variance, which divides by "
                   "n.",
           section="Population or sample?"),
    Mutant("ch03.variance", "forgets keepdim when subtracting the mean, so it broadcasts along the wrong axis",
           old="    deviations = x - x.mean(dim, keepdim=True)\n    n = count_along(x, dim)",
           new="    deviations = x - x.mean(dim)\n    n = count_along(x, dim)",
           learner="You subtract a mean taken without `keepdim=True`, so along a dimension it broadcasts against "
                   "the wrong axis (or not at all); keep the reduced dimension on the mean before subtracting it.",
           section="Along a dimension"),
    Mutant("ch03.variance", "ignores the caller's keepdim",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return deviations.pow(2).sum(dim) / (n - correction)",
           learner="You ignore the caller's `keepdim`, so the reduced dimensions are always dropped; apply "
                   "`keepdim` to the final reduction.",
           section="Along a dimension"),
    Mutant("ch03.variance", "counts every element of x, whatever dim is reduced",
           old="    n = count_along(x, dim)", new="    n = x.numel()",
           learner="You divide by the number of elements of the whole tensor, even when only some dimensions are "
                   "reduced; n is the number of elements each statistic combines, those along `dim`.",
           section="Along a dimension"),
    Mutant("ch03.variance", "uses the one-pass formula E[X^2] - E[X]^2",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    ex2 = (x * x).sum(dim, keepdim=keepdim) / n\n"
               "    ex = x.sum(dim, keepdim=keepdim) / n\n"
               "    return (ex2 - ex * ex) * n / (n - correction)",
           learner="You compute the variance as E[X^2] - E[X]^2, which in float32 loses every digit when the mean "
                   "is large compared with the spread; subtract the mean first and average the squared deviations "
                   "(two passes).",
           section="When the formula fails"),
    Mutant("ch03.variance", "treats correction as a switch between n and n - 1",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - 1 if correction else n)",
           learner="You treat `correction` as a switch between n and n - 1; it is a number subtracted from n, so "
                   "divide by n - correction (correction=2 divides by n - 2).",
           section="Population or sample?"),
    # variance_one_pass
    Mutant("ch03.variance_one_pass", "subtracts the mean instead of the squared mean",
           old="    return (x * x).mean(dim, keepdim=keepdim) - mean * mean",
           new="    return (x * x).mean(dim, keepdim=keepdim) - mean",
           learner="You subtract the mean itself from E[X^2]; the one-pass formula subtracts the squared mean, "
                   "E[X^2] - E[X]^2.",
           section="A second formula for the variance"),
    Mutant("ch03.variance_one_pass", "takes the mean over all elements, whatever dim",
           old="    mean = x.mean(dim, keepdim=keepdim)\n", new="    mean = x.mean()\n",
           learner="You take the mean over all the elements whatever `dim` is, so along a dimension E[X]^2 comes "
                   "from the wrong mean; take the mean over the same `dim` as E[X^2].",
           section="Along a dimension"),
    Mutant("ch03.variance_one_pass", "squares the sum instead of the mean",
           old="    mean = x.mean(dim, keepdim=keepdim)\n", new="    mean = x.sum(dim, keepdim=keepdim)\n",
           learner="You square the sum of the values instead of their mean; the formula is E[X^2] - E[X]^2, with "
                   "means on both sides.",
           section="A second formula for the variance"),
    Mutant("ch03.variance_one_pass", "computes in float64, so float32 input gives a float64 result",
           old="    mean = x.mean(dim, keepdim=keepdim)\n", new="    x = x.double()\n    mean = x.mean(dim, keepdim=keepdim)\n",
           learner="You compute in float64, so a float32 input gives a float64 result; keep the dtype of x, as "
                   "`variance` does (that float32 loses every digit here is what the exercise shows).",
           section="When the formula fails"),
    Mutant("ch03.variance_one_pass", "subtracts the mean before squaring: the two-pass variance, not the one-pass formula",
           old="    mean = x.mean(dim, keepdim=keepdim)\n    return (x * x).mean(dim, keepdim=keepdim) - mean * mean",
           new="    mean = x.mean(dim, keepdim=True)\n    return ((x - mean) ** 2).mean(dim, keepdim=keepdim)",
           learner="You subtract the mean before squaring, which is the two-pass `variance`; this exercise is the "
                   "one-pass formula, the mean of x * x minus the squared mean, E[X^2] - E[X]^2.",
           section="A second formula for the variance"),
    # mean_abs_dev
    Mutant("ch03.mean_abs_dev", "averages the deviations without abs (always 0)",
           old="    return deviations.abs().mean(dim, keepdim=keepdim)",
           new="    return deviations.mean(dim, keepdim=keepdim)",
           learner="You average the deviations without taking their absolute value, and deviations from the mean "
                   "always average to 0; average |x - mean| instead.",
           section="Mean absolute deviation"),
    Mutant("ch03.mean_abs_dev", "keeps only the deviations above the mean",
           old="    return deviations.abs().mean(dim, keepdim=keepdim)",
           new="    return deviations.clamp(min=0).mean(dim, keepdim=keepdim)",
           learner="You keep only the deviations above the mean; the mean absolute deviation averages the absolute "
                   "value of every deviation, below the mean as well as above.",
           section="Mean absolute deviation"),
    Mutant("ch03.mean_abs_dev", "measures deviations from the overall mean, whatever dim",
           old="    deviations = x - x.mean(dim, keepdim=True)\n    return deviations.abs()",
           new="    deviations = x - x.mean()\n    return deviations.abs()",
           learner="You take the deviations from the mean of all the elements, even when reducing along `dim`; "
                   "measure each from the mean over the same `dim`.",
           section="Along a dimension"),
    Mutant("ch03.mean_abs_dev", "ignores the caller's keepdim",
           old="    return deviations.abs().mean(dim, keepdim=keepdim)",
           new="    return deviations.abs().mean(dim)",
           learner="You ignore the caller's `keepdim`, so the reduced dimensions are always dropped; apply "
                   "`keepdim` to the final mean.",
           section="Along a dimension"),
    # covariance
    Mutant("ch03.covariance", "uses the one-pass formula E[XY] - E[X]E[Y]",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (x * y).mean(dim, keepdim=keepdim) - x.mean(dim, keepdim=keepdim) * y.mean(dim, keepdim=keepdim)",
           learner="You compute the covariance as E[XY] - E[X]E[Y], which cancels catastrophically in float32 when "
                   "the means are large; average the products of the deviations from the means instead.",
           section="When the formula fails"),
    Mutant("ch03.covariance", "divides by n - 1 (the sample covariance)",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (dx * dy).sum(dim, keepdim=keepdim) / (count_along(x, dim) - 1)",
           learner="You divide by n - 1, the sample covariance; this exercise asks for the population covariance, "
                   "the mean of the products of the deviations (divide by n).",
           section="Covariance"),
    Mutant("ch03.covariance", "ignores the caller's keepdim",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (dx * dy).mean(dim)",
           learner="You ignore the caller's `keepdim`, so the reduced dimensions are always dropped; apply "
                   "`keepdim` to the final mean.",
           section="Along a dimension"),
    Mutant("ch03.covariance", "multiplies x's deviations by themselves (variance of x)",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (dx * dx).mean(dim, keepdim=keepdim)",
           learner="You multiply x's deviations by themselves, which gives the variance of x; the covariance "
                   "multiplies each deviation of x by the matching deviation of y.",
           section="Covariance"),
    # correlation
    Mutant("ch03.correlation", "the lesson's mix-up: population covariance over unbiased stds",
           old="    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    std_x = x.std(dim, keepdim=keepdim)\n    std_y = y.std(dim, keepdim=keepdim)",
           learner="You divide the population covariance by `torch.std`'s standard deviations, which divide by n - "
                   "1, so r is too small by (n - 1)/n; use population standard deviations, all three dividing by n.",
           section="Correlation"),
    Mutant("ch03.correlation", "divides by the variances instead of the standard deviations",
           old="    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    std_x = dx.pow(2).mean(dim, keepdim=keepdim)\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim)",
           learner="You divide the covariance by the two variances; divide by the standard deviations, the square "
                   "roots of the variances.",
           section="Correlation"),
    Mutant("ch03.correlation", "ignores the caller's keepdim",
           old="    cov = (dx * dy).mean(dim, keepdim=keepdim)\n    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n"
               "    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    cov = (dx * dy).mean(dim)\n    std_x = dx.pow(2).mean(dim).sqrt()\n    std_y = dy.pow(2).mean(dim).sqrt()",
           learner="You ignore the caller's `keepdim`, so the reduced dimensions are always dropped; apply "
                   "`keepdim` to the covariance and both standard deviations.",
           section="Along a dimension"),
    Mutant("ch03.correlation", "drops the sign (returns |r|)",
           old="    return cov / (std_x * std_y)", new="    return cov.abs() / (std_x * std_y)",
           learner="You return the absolute value of the correlation, so a negative correlation comes out positive; "
                   "keep the sign, r lies between -1 and 1.",
           section="Correlation"),
    Mutant("ch03.correlation", "adds an epsilon to the denominator, so a constant input gives 0 instead of nan",
           old="    return cov / (std_x * std_y)", new="    return cov / (std_x * std_y + 1e-12)",
           learner="You add a small number to the product of the standard deviations, so a constant input gives 0 "
                   "instead of nan; divide by the product itself: a constant has no spread, and its correlation is "
                   "0/0, nan.",
           section="Correlation"),
    Mutant("ch03.correlation", "divides the sums by x's count along dim, wrong when x broadcasts against y",
           old="    cov = (dx * dy).mean(dim, keepdim=keepdim)\n    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n"
               "    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    n = count_along(x, dim)\n    cov = (dx * dy).sum(dim, keepdim=keepdim) / n\n"
               "    std_x = (dx.pow(2).sum(dim, keepdim=keepdim) / n).sqrt()\n"
               "    std_y = (dy.pow(2).sum(dim, keepdim=keepdim) / n).sqrt()",
           learner="You divide the sums by the number of elements of x along `dim`, which is wrong when x broadcasts "
                   "against y (x of shape (n, 1), y of shape (n, 784), every element reduced); take the means of the "
                   "products themselves, over the broadcast shape.",
           section="Correlation"),
    # corrcoef
    Mutant("ch03.corrcoef", "correlates the columns (observations) instead of the rows (variables)",
           old="    cov = centred @ centred.T / x.shape[1]", new="    cov = centred.T @ centred / x.shape[1]",
           learner="You correlate the columns of `x` (the observations) instead of its rows (the variables), so the "
                   "matrix comes out (n, n) instead of (k, k); multiply the centred rows by their transpose.",
           section="Correlation"),
    Mutant("ch03.corrcoef", "forgets to centre the rows",
           old="    centred = x - x.mean(dim=1, keepdim=True)", new="    centred = x",
           learner="You do not centre the rows before multiplying them, so you get averages of products rather than "
                   "covariances; subtract each row's mean first.",
           section="Correlation"),
    Mutant("ch03.corrcoef", "scales the population covariance by unbiased stds",
           old="    std = cov.diagonal().sqrt()", new="    std = x.std(dim=1)",
           learner="You divide the population covariances by `torch.std`'s standard deviations, which divide by n - "
                   "1, so the diagonal is not 1; take the standard deviations from the covariance matrix's "
                   "diagonal.",
           section="Correlation"),
    Mutant("ch03.corrcoef", "divides by the variances instead of the standard deviations",
           old="    std = cov.diagonal().sqrt()", new="    std = cov.diagonal()",
           learner="You divide the covariances by the variances on the diagonal; divide by the standard deviations, "
                   "their square roots.",
           section="Correlation"),
    # RunningStats
    Mutant("ch03.RunningStats", "reports the unbiased variance (n - 1): infinite or nan after one value",
           old="        return self.m2 / self.count", new="        return self.m2 / (self.count - 1)",
           learner="Your `var` divides `m2` by count - 1, the sample variance, which is infinite or nan after a "
                   "single value; the population variance divides by the count.",
           section="Population or sample?"),
    Mutant("ch03.RunningStats", "forgets the between-batches term of Chan's merge",
           old="        self.m2 = self.m2 + m2_b + delta * delta * (n_a * n_b / n)",
           new="        self.m2 = self.m2 + m2_b",
           learner="When you merge a batch you add the two groups' sums of squared deviations but forget the spread "
                   "between them, the term delta^2 * n_a * n_b / n of Chan's merge.",
           section="Welford's algorithm and Chan's merge"),
    Mutant("ch03.RunningStats", "moves the mean by delta / n, Welford's step for a single value, for a whole batch",
           old="        self.mean = self.mean + delta * (n_b / n)", new="        self.mean = self.mean + delta / n",
           learner="You move the mean by delta / n, Welford's step for a single value, even when a whole batch of "
                   "n_b values arrives; for a batch the mean moves by delta * n_b / n.",
           section="Welford's algorithm and Chan's merge"),
    Mutant("ch03.RunningStats", "keeps running sums of x and x*x (the one-pass formula)",
           old="        n_a, n_b = self.count, count_along(x, self.dim)\n        mean_b = x.mean(self.dim)\n"
               "        m2_b = (x - x.mean(self.dim, keepdim=True)).pow(2).sum(self.dim)\n        n = n_a + n_b\n"
               "        delta = mean_b - self.mean\n        self.mean = self.mean + delta * (n_b / n)\n"
               "        self.m2 = self.m2 + m2_b + delta * delta * (n_a * n_b / n)\n        self.count = n",
           new="        n = self.count + count_along(x, self.dim)\n"
               "        self.total = getattr(self, 'total', 0.0) + x.sum(self.dim)\n"
               "        self.total_sq = getattr(self, 'total_sq', 0.0) + (x * x).sum(self.dim)\n"
               "        self.count = n\n        self.mean = self.total / n\n"
               "        self.m2 = self.total_sq - n * self.mean * self.mean",
           learner="You keep running sums of x and x*x and take E[X^2] - E[X]^2, which loses every digit in float32 "
                   "when the mean is large compared with the spread; merge the means and sums of squared deviations "
                   "with Chan's formula instead.",
           section="When the formula fails"),
    Mutant("ch03.RunningStats", "counts every element of a batch even when reducing over dim only",
           old="        n_a, n_b = self.count, count_along(x, self.dim)",
           new="        n_a, n_b = self.count, x.numel()",
           learner="You count every element of a batch even when it is reduced over `dim` only; the count is how "
                   "many samples each statistic combines, those along `dim`.",
           section="Along a dimension"),
    Mutant("ch03.RunningStats", "does the arithmetic in float64, so the statistics are not float32 like the data",
           old="        mean_b = x.mean(self.dim)\n", new="        x = x.double()\n        mean_b = x.mean(self.dim)\n",
           learner="You do the arithmetic in float64, so `mean` and `m2` are float64 instead of keeping the dtype "
                   "of the data (float32).",
           section="Welford's algorithm and Chan's merge"),
    Mutant("ch03.RunningStats", "counts with a division, so count is a float, not an int",
           old="        n_a, n_b = self.count, count_along(x, self.dim)\n        mean_b = x.mean(self.dim)\n",
           new="        mean_b = x.mean(self.dim)\n        n_a, n_b = self.count, x.numel() / mean_b.numel()\n",
           learner="Your `count` is a float (from a division such as x.numel() / mean.numel()), not an int; count the "
                   "samples with integers, as `count_along` does.",
           section="Welford's algorithm and Chan's merge"),
    # ewma
    Mutant("ch03.ewma", "momentum convention inverted: mom is the weight of the old average (SGD's convention)",
           old="        average = average.lerp(value, mom)", new="        average = average.lerp(value, 1 - mom)",
           learner="You use mom as the weight of the old average; in this book (and in nn.BatchNorm's momentum) mom "
                   "is the weight of the new value.",
           section="Exponentially weighted moving averages"),
    Mutant("ch03.ewma", "starts from the first value instead of 0",
           old="    average = torch.zeros_like(values[0])", new="    average = values[0].clone()",
           learner="You start the average at the first value; it starts at 0, which is why its early values are too "
                   "small and why debiasing exists.",
           section="Exponentially weighted moving averages"),
    Mutant("ch03.ewma", "debiases with mom**t instead of (1 - mom)**t",
           old="averages.append(average / (1 - (1 - mom) ** t) if debias else average)",
           new="averages.append(average / (1 - mom ** t) if debias else average)",
           learner="You debias by dividing by 1 - mom**t; the weight given to the values so far is 1 - (1 - "
                   "mom)**t, since mom is the weight of the new value.",
           section="Exponentially weighted moving averages"),
    Mutant("ch03.ewma", "stores the debiased value back into the running average",
           old="        averages.append(average / (1 - (1 - mom) ** t) if debias else average)",
           new="        if debias:\n            average = average / (1 - (1 - mom) ** t)\n        averages.append(average)",
           learner="You store the debiased value back into the running average, so every later step is debiased "
                   "again; keep the running average as it is and debias only the value you report.",
           section="Exponentially weighted moving averages"),
    Mutant("ch03.ewma", "counts steps from 0, so the first debiased step divides by zero",
           old="    for t, value in enumerate(values, start=1):", new="    for t, value in enumerate(values):",
           learner="You count the steps from 0, so the first debiased step divides by zero; step t counts from 1.",
           section="Exponentially weighted moving averages"),
    # Shortcuts: calling the built-in that the tests use as their oracle.
    Mutant("ch03.variance", "calls torch.var instead of computing it",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return x.var(dim=dim, keepdim=keepdim, correction=correction)",
           learner="You call `torch.var` (or `Tensor.var`), which the exercise asks you not to use; compute the "
                   "variance yourself from the squared deviations from the mean.",
           section="Variance and standard deviation"),
    Mutant("ch03.correlation", "calls torch.std and torch.cov-like built-ins with correction=0",
           old="    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    std_x = x.std(dim=dim, keepdim=keepdim, correction=0)\n    std_y = y.std(dim=dim, keepdim=keepdim, correction=0)",
           learner="You call `torch.std` (or `Tensor.std`), which the exercise asks you not to use; compute the "
                   "standard deviations yourself from the deviations from the mean.",
           section="Correlation"),
    Mutant("ch03.corrcoef", "calls torch.corrcoef",
           old="    return cov / (std[:, None] * std[None, :])",
           new="    return torch.corrcoef(x)",
           learner="You call `torch.corrcoef`, which the exercise asks you not to use; build the matrix yourself "
                   "from one matrix product of the centred rows.",
           section="Correlation"),
]
