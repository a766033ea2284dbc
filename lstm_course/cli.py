"""The ``lstm-course`` command: exercises, grading, training and benchmarks
(``python -m lstm_course``).

    lstm-course exercises                 # exercises/*.ipynb from solutions/*.ipynb
    lstm-course grade submissions/*.ipynb --out grades.csv
    lstm-course train ntm-copy --out lstm_course/ntm/checkpoints/
    lstm-course slides                    # build/slides/*.slides.html from lectures/*.ipynb
    lstm-course bench --device cpu
    lstm-course figures --lecture 3       # figures/lecture03_*.png and .svg

Each subcommand is a ``Command``: a name, a one-line help, a function that adds its arguments
and one that runs it. A new one (figures, slides, train) is one more entry in ``COMMANDS``.
Heavy imports happen inside the run functions, so ``--help`` answers at once. A failure ends
with a one-line message and a non-zero exit status: 2 for a wrong command line or missing
input, 1 when the command ran and found a problem.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from lstm_course import slides  # cheap: nbconvert loads only when a deck is built


class UsageError(Exception):
    """The command line asks for something impossible (exit status 2)."""


class CommandError(Exception):
    """The command ran and found a problem (exit status 1)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: object  # configure(parser): add the arguments
    run: object  # run(args, extra) -> exit status
    passthrough: bool = False  # arguments go, unparsed, to another program's main


def _repo_dir(name):
    """./name when it exists, else name/ beside the installed package (an editable install)."""
    here = Path(name)
    if here.is_dir():
        return here
    beside = Path(__file__).resolve().parents[1] / name
    return beside if beside.is_dir() else here


# exercises ------------------------------------------------------------------------------------


def _configure_exercises(parser):
    parser.add_argument(
        "--solutions", type=Path, help="folder of master notebooks (default: solutions/)"
    )
    parser.add_argument(
        "--exercises",
        type=Path,
        help="folder for the student copies (default: exercises/ beside the solutions folder)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if an exercise is missing or out of date",
    )


def _run_exercises(args, extra):
    from lstm_course.grading import authoring

    solutions = args.solutions or _repo_dir("solutions")
    exercises = args.exercises or solutions.parent / "exercises"  # beside solutions/
    if not solutions.is_dir():
        raise UsageError(f"no solutions folder at {solutions}")
    try:
        results = authoring.generate_all(solutions, exercises, check_only=args.check)
    except (ValueError, RuntimeError) as error:  # a malformed master: say which and why
        raise CommandError(str(error)) from None
    if not results:
        print(f"no master notebooks in {solutions}/: nothing to generate")
        return 0
    stale = [target for _, target, changed in results if changed]
    for master, target, changed in results:
        if args.check:
            print(f"{'out of date' if changed else 'up to date'}: {target}")
        else:
            print(f"{'wrote' if changed else 'up to date'}: {target} (from {master})")
    if args.check and stale:
        raise CommandError(f"{len(stale)} exercise(s) out of date: run `make exercises`")
    return 0


# grade ----------------------------------------------------------------------------------------


def _configure_grade(parser):
    parser.add_argument("paths", nargs="+", type=Path, help="student notebooks, or folders of them")
    parser.add_argument(
        "--master",
        type=Path,
        help="the master notebook, or a folder of masters (default: solutions/); with a"
        " folder, each notebook's master is the one whose name its file name contains",
    )
    parser.add_argument(
        "--out",
        type=Path,
        action="append",
        default=[],
        help="write the grades to this .csv or .json file (repeat for both)",
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="seconds one cell may run (default 120)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="S",
        help="seconds one notebook may run in all (default 1800)",
    )


def _submissions(paths):
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such notebook or folder: {path}")
    if not found:
        raise UsageError("no notebooks to grade in " + ", ".join(map(str, paths)))
    return found


def _masters_for(submissions, master):
    from lstm_course.grading import authoring, grader, markup

    master = master or _repo_dir("solutions")
    if not master.exists():
        raise UsageError(f"no master notebook or folder at {master}")
    candidates = sorted(master.glob("*.ipynb")) if master.is_dir() else [master]
    pairs = []
    for submission in submissions:
        chosen = master if master.is_file() else grader.find_master(submission, candidates)
        if chosen is None:
            raise UsageError(
                f"no master for {submission} in {master}/: its file name must contain an"
                " exercise's name (e.g. 01_rnn.ipynb), or pass --master"
            )
        pairs.append((submission, chosen))
    for chosen in sorted({m for _, m in pairs}):
        try:
            authoring.generate_exercise(markup.read(chosen), chosen.name)
        except Exception as error:  # unreadable or not a usable master
            raise UsageError(f"master {chosen} is not usable: {error}") from None
    return pairs


def _run_grade(args, extra):
    from lstm_course.grading import grader, report

    if args.cell_timeout <= 0 or args.timeout <= 0:
        raise UsageError("--cell-timeout and --timeout must be positive")
    for out in args.out:
        if out.suffix.lower() not in report.FORMATS:
            raise UsageError(f"--out {out}: the name must end in .csv or .json")
    pairs = _masters_for(_submissions(args.paths), args.master)
    results = []
    for index, (submission, master) in enumerate(pairs, start=1):
        print(f"[{index}/{len(pairs)}] grading {submission} ...", file=sys.stderr, flush=True)
        result = grader.grade_submission(
            submission, master, cell_timeout=args.cell_timeout, timeout=args.timeout
        )
        results.append(result)
        print(report.progress(index, len(pairs), result), file=sys.stderr, flush=True)
    for out in args.out:
        report.write(results, out)
        print(f"wrote {out}", file=sys.stderr)
    print(report.summary(results))
    return 0


# bench ----------------------------------------------------------------------------------------


def _run_bench(args, extra):
    from lstm_course import bench

    program = sys.argv[0]
    sys.argv[0] = "lstm-course bench"  # so bench's own --help names the right command
    try:
        return bench.main(extra)
    finally:
        sys.argv[0] = program


# figures --------------------------------------------------------------------------------------


def _configure_figures(parser):
    parser.add_argument(
        "--lecture", type=int, nargs="+", metavar="N", help="only these lectures' figures"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these figures")
    parser.add_argument(
        "--out", type=Path, default=Path("figures"), help="output folder (default: figures/)"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="processes, one lecture each (default 2)"
    )
    parser.add_argument("--list", action="store_true", help="list the figures and stop")
    parser.add_argument(
        "--gallery",
        type=Path,
        metavar="README",
        help="only rewrite the gallery section of this Markdown file (e.g. README.md)",
    )


def _run_figures(args, extra):
    from lstm_course import figures

    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    try:
        names = figures.select(args.lecture, args.only)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not names:
        raise UsageError(f"no figures for lecture(s) {args.lecture}")
    if args.gallery:
        try:
            changed = figures.update_gallery(args.gallery)
        except (OSError, ValueError) as error:
            raise UsageError(str(error)) from None
        print(f"{args.gallery}: gallery {'updated' if changed else 'unchanged'}")
        return 0
    if args.list:
        for name in names:
            print(f"{name}: {figures.REGISTRY[name].title}")
        return 0
    print(f"{len(names)} figures into {args.out}/ ({args.jobs} processes)", file=sys.stderr)
    figures.generate_parallel(names, args.out, jobs=args.jobs, log=print)
    return 0


# train ----------------------------------------------------------------------------------------

TRAIN_TASKS = ("ntm-copy", "lstm-copy")


def _configure_train(parser):
    parser.add_argument(
        "task",
        choices=TRAIN_TASKS,
        help="ntm-copy: the NTM of lecture 10 on the copy task; lstm-copy: its LSTM baseline",
    )
    parser.add_argument("--steps", type=int, help="optimiser steps (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batches (default 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs"),
        help="checkpoint file (.pt), or a folder for TASK.pt; the log goes beside it as .log"
        " (default: runs/)",
    )
    parser.add_argument("--device", help="cpu, cuda or mps (default: the fastest available)")


def _run_train(args, extra):
    from dataclasses import replace

    import torch

    from lstm_course import device as best_device
    from lstm_course.ntm import train

    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be a positive int, got {args.steps}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    recipe = train.NTM_COPY if args.task == "ntm-copy" else train.LSTM_COPY
    recipe = replace(recipe, seed=args.seed, steps=args.steps or recipe.steps)
    out = args.out if args.out.suffix == ".pt" else args.out / f"{args.task.replace('-', '_')}.pt"
    try:
        device = torch.device(args.device) if args.device else best_device()
        torch.empty(0, device=device)  # fails now, not after the set-up, if it is not there
    except (RuntimeError, AssertionError) as error:
        raise UsageError(f"--device {args.device}: {error}") from None
    command = f"lstm-course train {args.task} --steps {recipe.steps} --seed {recipe.seed}"
    train.train_logged(recipe, out, device=device, command=command)
    return 0


COMMANDS = (
    Command(
        "exercises",
        "generate exercises/*.ipynb (student copies) from solutions/*.ipynb",
        _configure_exercises,
        _run_exercises,
    ),
    Command(
        "grade",
        "grade student notebooks offline against their masters",
        _configure_grade,
        _run_grade,
    ),
    Command(
        "train",
        "train a model the lectures ship a checkpoint of (ntm-copy, lstm-copy)",
        _configure_train,
        _run_train,
    ),
    Command(
        "slides",
        "build offline reveal.js slide decks of the lectures into build/slides/",
        slides.configure,
        slides.run,
    ),
    Command(
        "figures",
        "regenerate every lecture figure (PNG and SVG) into figures/",
        _configure_figures,
        _run_figures,
    ),
    Command(
        "bench",
        "time our recurrent modules against torch.nn (see `lstm-course bench --help`)",
        lambda parser: None,
        _run_bench,
        passthrough=True,
    ),
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="lstm-course",
        description="The lstm-course command: exercises, grading, training and benchmarks.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            add_help=not command.passthrough,
        )
        command.configure(sub)
        sub.set_defaults(_command=command)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    command = args._command
    if extra and not command.passthrough:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(command.run(args, extra) or 0)
    except UsageError as error:
        print(f"lstm-course {command.name}: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"lstm-course {command.name}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lstm-course {command.name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
