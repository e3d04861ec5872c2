"""The autograder of "Looking Inside the Model": a pytest plugin, a CLI and the stub generator.

Run `python -m grader` for your progress and `python -m grader --help` for everything else.
This package imports nothing heavy, so hints and the progress table answer instantly.
"""


def check(what: str, target: str | None = None) -> None:
    """Grade one exercise ("ch03.variance") or a whole chapter ("ch03") and print one verdict each.

    Meant for a notebook cell: `from grader import check; check("ch01.make_counter")`.
    """
    from .notebook import check as run_check

    run_check(what, target)
