"""The autograder of "Looking Inside the Model": a pytest plugin, a CLI and the stub generator.

Run `python -m grader` for your progress and `python -m grader --help` for everything else.
This package imports nothing heavy, so hints and the progress table answer instantly.
"""
