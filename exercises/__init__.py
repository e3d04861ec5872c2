"""Your solutions to the exercises: edit these files. `python -m grader` shows your progress."""
