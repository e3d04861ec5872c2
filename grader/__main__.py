"""Command line of the autograder. `python -m grader --help` lists the commands."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from . import catalog
from .catalog import CatalogError

USAGE = """
  python -m grader [CHAPTER] [--target T] [-v]   your progress, and what to do next (CHAPTER: ch03 or 3)
  python -m grader watch [CHAPTER | ID]          the current exercise, regraded each time you save it
  python -m grader hint ID [LEVEL]               hints for one exercise, levels 1 to 3
  python -m grader doctor                        check your installation and the data

  python -m grader grade-class SUBMISSIONS --out DIR [--chapters ch03,ch04] [--jobs N]   (instructors)
  python -m grader grade-one SUBMISSION --results FILE                       (instructors: Gradescope)
  python -m grader report results.json                                       (a results.json as a table)

  python -m grader make-exercises [--out DIR]     (maintainers) regenerate exercises/ from solutions/
  python -m grader check [--chapter chNN] [--fast] (maintainers) prove the grader honest; build the book

Options of the progress view: --target exercises|solutions|FOLDER (what to grade; also $GRADER_TARGET),
-v (list every exercise). An exercise ID is written ch03.variance, or just variance; case does not matter."""


def cmd_progress(args) -> int:
    from . import progress

    chapters = None
    if args.chapter:
        names = catalog.chapter_names()
        wanted = f"ch{int(args.chapter):02d}" if args.chapter.isdigit() else args.chapter.lower()
        chapters = [c for c in names if c == wanted or c.startswith(wanted + "_")]
        if not chapters:
            print(f"No chapter {args.chapter!r}. Chapters: {', '.join(names)}", file=sys.stderr)
            return 2
    return progress.show(args.target, chapters, verbose=args.verbose)


def cmd_hint(args) -> int:
    exercise = catalog.find(args.id, catalog.exercises())
    levels = exercise.hints
    if not levels:
        print(f"{exercise.id} has no hints yet.", file=sys.stderr)
        return 1
    if not 1 <= args.level <= len(levels):
        print(f"{exercise.id} has hint levels 1 to {len(levels)}, not {args.level}.", file=sys.stderr)
        return 2
    beyond = " (beyond the chapter)" if exercise.beyond else ""
    print(f"{exercise.id}{beyond}: hint {args.level} of {len(levels)}\n")
    print(f"  {levels[args.level - 1]}\n")
    if args.level < len(levels):
        print(f"More: python -m grader hint {exercise.id} {args.level + 1}")
    print(f"Grade it: pytest tests/test_{exercise.chapter}.py --exercise {exercise.id}")
    return 0


def cmd_make_exercises(args) -> int:
    from . import stubs

    for path in stubs.generate(Path(args.out)):
        print(f"wrote {path}")
    return 0


def cmd_check(args) -> int:
    from . import selfcheck

    return selfcheck.main(args.chapter, fast=args.fast)


def cmd_mutants(args) -> int:
    from . import selfcheck

    chapters = [name for name in catalog.chapter_names() if name == args.chapter or name.startswith(f"{args.chapter}_")]
    if len(chapters) != 1:
        print(f"no chapter {args.chapter!r}; chapters: {', '.join(catalog.chapter_names())}", file=sys.stderr)
        return 2
    print(json.dumps(selfcheck.run_chapter_mutants(chapters[0], args.exercise)))
    return 0


def cmd_doctor(args) -> int:
    from . import doctor

    return doctor.main()


def cmd_grade_class(args) -> int:
    from . import classroom

    chapters = None
    if args.chapters:
        names = catalog.chapter_names()
        chapters = []
        for wanted in args.chapters.split(","):
            matched = [n for n in names if n == wanted or n.startswith(wanted + "_")]
            if not matched:
                print(f"No chapter {wanted!r}. Chapters: {', '.join(names)}", file=sys.stderr)
                return 2
            chapters += matched
    return classroom.main(Path(args.submissions), Path(args.out), timeout=args.timeout, jobs=args.jobs,
                          chapters=chapters, unsafe=args.unsafe)


def _chapters(spec: str | None) -> list[str] | None:
    if not spec:
        return None
    names = catalog.chapter_names()
    chosen = []
    for wanted in re.split(r"[,\s]+", spec.strip()):
        matched = [n for n in names if n == wanted or n.startswith(wanted + "_")]
        if not matched:
            raise CatalogError(f"No chapter {wanted!r}. Chapters: {', '.join(names)}")
        chosen += matched
    return chosen


def cmd_grade_one(args) -> int:
    from . import classroom

    return classroom.grade_for_gradescope(Path(args.submission), Path(args.results), _chapters(args.chapters),
                                          args.timeout, args.unsafe)


MARKS = {"done": "✓", "not started": "·", "failed": "✗", "error": "!"}


def report_markdown(data: dict) -> str:
    """A results.json as a Markdown table per exercise, with the diagnoses (GitHub's job summary)."""
    exercises = data.get("extra_data", {}).get("exercises", {})
    lines = [f"### {data.get('score', 0):g} of {data.get('max_score', 0):g} points", "",
             "| | exercise | status | tests passed | points |", "|---|---|---|---|---|"]
    for exercise, entry in exercises.items():
        status = entry.get("status", "?")
        shown = f"blocked by {entry['blocked_by']}" if entry.get("blocked_by") else status
        lines.append(f"| {MARKS.get(status, '?')} | `{exercise}` | {shown} | {entry.get('passed', 0)}/{entry.get('tests', 0)} "
                     f"| {entry.get('score', 0):g}/{entry.get('max_score', 0):g} |")
    found = [(e, entry["diagnosis"]["text"]) for e, entry in exercises.items() if entry.get("diagnosis")]
    if found:
        lines += ["", "**Known mistakes recognised**", ""] + [f"- `{e}`: {text}" for e, text in found]
    failing = [t for t in data.get("tests", []) if t.get("extra_data", {}).get("outcome") in ("failed", "error")]
    if failing:
        first = failing[0]
        excerpt = "\n".join(first.get("output", "").splitlines()[:12])
        lines += ["", f"**First problem** ({first.get('name', '')})", "", "```", excerpt, "```"]
    return "\n".join(lines) + "\n"


def cmd_watch(args) -> int:
    from . import watch

    return watch.watch(args.what, args.target)


def cmd_report(args) -> int:
    path = Path(args.results)
    if not path.exists():
        print(f"{path} does not exist: run `pytest --results-json={path}` first", file=sys.stderr)
        return 2
    data = json.loads(path.read_text())
    print(report_markdown(data))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", usage="python -m grader [COMMAND] ...",
                                     description="The autograder of Looking Inside the Model.", epilog=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                help="watch, hint, doctor, grade-class, grade-one, report, make-exercises, check")
    hint = sub.add_parser("hint", help="show a hint", prog="python -m grader hint",
                          usage="python -m grader hint ID [LEVEL]   (e.g. python -m grader hint ch03.variance 2)")
    hint.add_argument("id", help="exercise id, e.g. ch01.make_counter (or just make_counter)")
    hint.add_argument("level", nargs="?", type=int, default=1)
    hint.set_defaults(func=cmd_hint)
    make = sub.add_parser("make-exercises", help="generate the stubs from solutions/",
                          prog="python -m grader make-exercises")
    make.add_argument("--out", default=str(catalog.EXERCISES))
    make.set_defaults(func=cmd_make_exercises)
    check = sub.add_parser("check", help="the maintainer's full self-validation", prog="python -m grader check")
    check.add_argument("--chapter", default=None, help="only this chapter, e.g. ch03")
    check.add_argument("--fast", action="store_true", help="leave out the notebooks and the book build")
    check.set_defaults(func=cmd_check)
    mutant = sub.add_parser("_mutants", prog="python -m grader _mutants")
    mutant.add_argument("chapter")
    mutant.add_argument("--exercise", default=None)
    mutant.set_defaults(func=cmd_mutants)
    doctor = sub.add_parser("doctor", help="check the installation and the data", prog="python -m grader doctor")
    doctor.set_defaults(func=cmd_doctor)
    grade = sub.add_parser("grade-class", help="grade a folder of submissions, one sub-folder per student",
                           prog="python -m grader grade-class")
    grade.add_argument("submissions")
    grade.add_argument("--out", default="grades")
    grade.add_argument("--timeout", type=float, default=600, help="seconds allowed per submission")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    grade.add_argument("--chapters", default=None, help="only these chapters, e.g. ch01,ch02 (default: all)")
    grade.add_argument("--unsafe", action="store_true",
                       help="grade even where no sandbox is available (the students' code then runs unisolated)")
    grade.set_defaults(func=cmd_grade_class)
    one = sub.add_parser("grade-one", help="grade one submission into a results.json (Gradescope's run_autograder)",
                         prog="python -m grader grade-one")
    one.add_argument("submission")
    one.add_argument("--results", required=True)
    one.add_argument("--timeout", type=float, default=1200)
    one.add_argument("--chapters", default=None, help="e.g. ch03,ch04 (default: all)")
    one.add_argument("--unsafe", action="store_true")
    one.set_defaults(func=cmd_grade_one)
    watching = sub.add_parser("watch", help="regrade the current exercise each time you save its file",
                              prog="python -m grader watch")
    watching.add_argument("what", nargs="?", default=None, help="a chapter (ch03) or an exercise to start from")
    watching.add_argument("--target", default=None, help="your folder (default: exercises/)")
    watching.set_defaults(func=cmd_watch)
    report = sub.add_parser("report", help="a results.json as a Markdown table (GitHub's job summary)",
                            prog="python -m grader report")
    report.add_argument("results")
    report.add_argument("--markdown", action="store_true", help="(the only format)")
    report.set_defaults(func=cmd_report)

    argv = sys.argv[1:] if argv is None else argv
    if not any(word in sub.choices for word in argv) and not {"-h", "--help"} & set(argv):
        progress = argparse.ArgumentParser(prog="python -m grader", usage=USAGE)
        progress.add_argument("chapter", nargs="?", default=None, help="only this chapter, e.g. ch03")
        progress.add_argument("--target", default=None, help="what to grade (default: exercises, or $GRADER_TARGET)")
        progress.add_argument("-v", "--verbose", action="store_true", help="list every exercise")
        args = progress.parse_args(argv)
        from .loading import default_target

        args.target = args.target or default_target()
        args.func = cmd_progress
    else:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
    try:
        return args.func(args)
    except CatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
