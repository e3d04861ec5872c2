"""Shared by every chapter's tests. The grader plugin (grader/plugin.py, loaded from pyproject.toml)
provides the `ch` fixture: the chapter module from the grading target."""
