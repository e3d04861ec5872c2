"""Plausible wrong versions of chapter 3's exercises; `python -m grader check` proves each is rejected."""
from grader.mutants import Mutant

MUTANTS = [
    # variance
    Mutant("ch03.variance", "divides by n - 1 whatever the correction (torch.var's default, the sample variance)",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - 1)"),
    Mutant("ch03.variance", "forgets keepdim when subtracting the mean, so it broadcasts along the wrong axis",
           old="    deviations = x - x.mean(dim, keepdim=True)\n    n = count_along(x, dim)",
           new="    deviations = x - x.mean(dim)\n    n = count_along(x, dim)"),
    Mutant("ch03.variance", "ignores the caller's keepdim",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return deviations.pow(2).sum(dim) / (n - correction)"),
    Mutant("ch03.variance", "counts every element of x, whatever dim is reduced",
           old="    n = count_along(x, dim)", new="    n = x.numel()"),
    Mutant("ch03.variance", "uses the one-pass formula E[X^2] - E[X]^2",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    ex2 = (x * x).sum(dim, keepdim=keepdim) / n\n"
               "    ex = x.sum(dim, keepdim=keepdim) / n\n"
               "    return (ex2 - ex * ex) * n / (n - correction)"),
    # variance_one_pass
    Mutant("ch03.variance_one_pass", "subtracts the mean instead of the squared mean",
           old="    return (x * x).mean(dim, keepdim=keepdim) - mean * mean",
           new="    return (x * x).mean(dim, keepdim=keepdim) - mean"),
    Mutant("ch03.variance_one_pass", "takes the mean over all elements, whatever dim",
           old="    mean = x.mean(dim, keepdim=keepdim)\n", new="    mean = x.mean()\n"),
    Mutant("ch03.variance_one_pass", "squares the sum instead of the mean",
           old="    mean = x.mean(dim, keepdim=keepdim)\n", new="    mean = x.sum(dim, keepdim=keepdim)\n"),
    # mean_abs_dev
    Mutant("ch03.mean_abs_dev", "averages the deviations without abs (always 0)",
           old="    return deviations.abs().mean(dim, keepdim=keepdim)",
           new="    return deviations.mean(dim, keepdim=keepdim)"),
    Mutant("ch03.mean_abs_dev", "keeps only the deviations above the mean",
           old="    return deviations.abs().mean(dim, keepdim=keepdim)",
           new="    return deviations.clamp(min=0).mean(dim, keepdim=keepdim)"),
    Mutant("ch03.mean_abs_dev", "measures deviations from the overall mean, whatever dim",
           old="    deviations = x - x.mean(dim, keepdim=True)\n    return deviations.abs()",
           new="    deviations = x - x.mean()\n    return deviations.abs()"),
    Mutant("ch03.mean_abs_dev", "ignores the caller's keepdim",
           old="    return deviations.abs().mean(dim, keepdim=keepdim)",
           new="    return deviations.abs().mean(dim)"),
    # covariance
    Mutant("ch03.covariance", "uses the one-pass formula E[XY] - E[X]E[Y]",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (x * y).mean(dim, keepdim=keepdim) - x.mean(dim, keepdim=keepdim) * y.mean(dim, keepdim=keepdim)"),
    Mutant("ch03.covariance", "divides by n - 1 (the sample covariance)",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (dx * dy).sum(dim, keepdim=keepdim) / (count_along(x, dim) - 1)"),
    Mutant("ch03.covariance", "ignores the caller's keepdim",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (dx * dy).mean(dim)"),
    Mutant("ch03.covariance", "multiplies x's deviations by themselves (variance of x)",
           old="    return (dx * dy).mean(dim, keepdim=keepdim)",
           new="    return (dx * dx).mean(dim, keepdim=keepdim)"),
    # correlation
    Mutant("ch03.correlation", "the lesson's mix-up: population covariance over unbiased stds",
           old="    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    std_x = x.std(dim, keepdim=keepdim)\n    std_y = y.std(dim, keepdim=keepdim)"),
    Mutant("ch03.correlation", "divides by the variances instead of the standard deviations",
           old="    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    std_x = dx.pow(2).mean(dim, keepdim=keepdim)\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim)"),
    Mutant("ch03.correlation", "ignores the caller's keepdim",
           old="    cov = (dx * dy).mean(dim, keepdim=keepdim)\n    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n"
               "    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    cov = (dx * dy).mean(dim)\n    std_x = dx.pow(2).mean(dim).sqrt()\n    std_y = dy.pow(2).mean(dim).sqrt()"),
    Mutant("ch03.correlation", "drops the sign (returns |r|)",
           old="    return cov / (std_x * std_y)", new="    return cov.abs() / (std_x * std_y)"),
    # corrcoef
    Mutant("ch03.corrcoef", "correlates the columns (observations) instead of the rows (variables)",
           old="    cov = centred @ centred.T / x.shape[1]", new="    cov = centred.T @ centred / x.shape[1]"),
    Mutant("ch03.corrcoef", "forgets to centre the rows",
           old="    centred = x - x.mean(dim=1, keepdim=True)", new="    centred = x"),
    Mutant("ch03.corrcoef", "scales the population covariance by unbiased stds",
           old="    std = cov.diagonal().sqrt()", new="    std = x.std(dim=1)"),
    Mutant("ch03.corrcoef", "divides by the variances instead of the standard deviations",
           old="    std = cov.diagonal().sqrt()", new="    std = cov.diagonal()"),
    # RunningStats
    Mutant("ch03.RunningStats", "reports the unbiased variance (n - 1): infinite or nan after one value",
           old="        return self.m2 / self.count", new="        return self.m2 / (self.count - 1)"),
    Mutant("ch03.RunningStats", "forgets the between-batches term of Chan's merge",
           old="        self.m2 = self.m2 + m2_b + delta * delta * (n_a * n_b / n)",
           new="        self.m2 = self.m2 + m2_b"),
    Mutant("ch03.RunningStats", "moves the mean by delta / n, Welford's step for a single value, for a whole batch",
           old="        self.mean = self.mean + delta * (n_b / n)", new="        self.mean = self.mean + delta / n"),
    Mutant("ch03.RunningStats", "keeps running sums of x and x*x (the one-pass formula)",
           old="        n_a, n_b = self.count, count_along(x, self.dim)\n        mean_b = x.mean(self.dim)\n"
               "        m2_b = (x - x.mean(self.dim, keepdim=True)).pow(2).sum(self.dim)\n        n = n_a + n_b\n"
               "        delta = mean_b - self.mean\n        self.mean = self.mean + delta * (n_b / n)\n"
               "        self.m2 = self.m2 + m2_b + delta * delta * (n_a * n_b / n)\n        self.count = n",
           new="        n = self.count + count_along(x, self.dim)\n"
               "        self.total = getattr(self, 'total', 0.0) + x.sum(self.dim)\n"
               "        self.total_sq = getattr(self, 'total_sq', 0.0) + (x * x).sum(self.dim)\n"
               "        self.count = n\n        self.mean = self.total / n\n"
               "        self.m2 = self.total_sq - n * self.mean * self.mean"),
    Mutant("ch03.RunningStats", "counts every element of a batch even when reducing over dim only",
           old="        n_a, n_b = self.count, count_along(x, self.dim)",
           new="        n_a, n_b = self.count, x.numel()"),
    Mutant("ch03.RunningStats", "does the arithmetic in float64, so the statistics are not float32 like the data",
           old="        mean_b = x.mean(self.dim)\n", new="        x = x.double()\n        mean_b = x.mean(self.dim)\n"),
    # ewma
    Mutant("ch03.ewma", "momentum convention inverted: mom is the weight of the old average (SGD's convention)",
           old="        average = average.lerp(value, mom)", new="        average = average.lerp(value, 1 - mom)"),
    Mutant("ch03.ewma", "starts from the first value instead of 0",
           old="    average = torch.zeros_like(values[0])", new="    average = values[0].clone()"),
    Mutant("ch03.ewma", "debiases with mom**t instead of (1 - mom)**t",
           old="averages.append(average / (1 - (1 - mom) ** t) if debias else average)",
           new="averages.append(average / (1 - mom ** t) if debias else average)"),
    Mutant("ch03.ewma", "stores the debiased value back into the running average",
           old="        averages.append(average / (1 - (1 - mom) ** t) if debias else average)",
           new="        if debias:\n            average = average / (1 - (1 - mom) ** t)\n        averages.append(average)"),
    Mutant("ch03.ewma", "counts steps from 0, so the first debiased step divides by zero",
           old="    for t, value in enumerate(values, start=1):", new="    for t, value in enumerate(values):"),
    # Shortcuts: calling the built-in that the tests use as their oracle.
    Mutant("ch03.variance", "calls torch.var instead of computing it",
           old="    return deviations.pow(2).sum(dim, keepdim=keepdim) / (n - correction)",
           new="    return x.var(dim=dim, keepdim=keepdim, correction=correction)"),
    Mutant("ch03.correlation", "calls torch.std and torch.cov-like built-ins with correction=0",
           old="    std_x = dx.pow(2).mean(dim, keepdim=keepdim).sqrt()\n    std_y = dy.pow(2).mean(dim, keepdim=keepdim).sqrt()",
           new="    std_x = x.std(dim=dim, keepdim=keepdim, correction=0)\n    std_y = y.std(dim=dim, keepdim=keepdim, correction=0)"),
    Mutant("ch03.corrcoef", "calls torch.corrcoef",
           old="    return cov / (std[:, None] * std[None, :])",
           new="    return torch.corrcoef(x)"),
]
