"""The offline autograder: run a submission against its master, score every test cell.

``grade_submission`` copies the student's notebook into a fresh temporary directory (the file
itself is only read), assembles the notebook to run from the master (``assemble``), and runs it
cell by cell in its own kernel (``kernel``):

- a test cell earns its points when it runs without an error; its feedback is the error's
  message (a ``CheckError`` says what is wrong and where);
- each cell has a time limit (``cell_timeout``) and the whole notebook another (``timeout``);
  a cell that times out or kills the kernel (``os._exit``) fails, the kernel is restarted,
  the cells that had succeeded before it are replayed, and grading goes on;
- before each test cell the kernel re-imports ``lstm_course.checks`` afresh, so a patched
  check does not survive; NumPy and ``lstm_course`` functions replaced by the student's code
  are put back (``guard``), and a test that ran with one replaced earns nothing; an answer
  cell that visibly tampers with the grading (``tamper``) is not run at all.

Whatever the notebook does, grading returns a ``SubmissionResult``: it never raises for the
student's code.
"""

import hashlib
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lstm_course.grading import assemble, authoring, guard, kernel, markup

CELL_TIMEOUT = 120.0  # seconds; the masters run in well under a minute in all
TIMEOUT = 1800.0
RELOAD_TIMEOUT = 30.0
# Runs in the kernel before every test cell (not stored in its history). Drops every module
# of lstm_course.checks and imports it again, so the test cell's own import gets fresh code.
FRESH_CHECKS = """\
def _lstm_course_fresh_checks():
    import importlib, sys
    prefix = "lstm_course.checks"
    names = sorted(n for n in sys.modules if n == prefix or n.startswith(prefix + "."))
    for name in names:
        del sys.modules[name]
    if "lstm_course" in sys.modules:
        vars(sys.modules["lstm_course"]).pop("checks", None)
    for name in names:
        importlib.import_module(name)
_lstm_course_fresh_checks()
del _lstm_course_fresh_checks
"""

PASSED, FAILED, NOT_RUN, TAMPERED = "passed", "failed", "not run", "tampering"


@dataclass
class QuestionResult:
    """The grade of one test cell: points out of max_points, and why."""

    grade_id: str
    answer: str | None
    points: float
    max_points: float
    status: str
    feedback: str


@dataclass
class SubmissionResult:
    """Everything the report needs about one graded notebook."""

    student: str
    notebook: str
    submission: str
    master: str
    sha256: str
    questions: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    seconds: float = 0.0
    kernel_starts: int = 0

    @property
    def score(self):
        return sum(q.points for q in self.questions)

    @property
    def max_score(self):
        return sum(q.max_points for q in self.questions)

    @property
    def percentage(self):
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def as_dict(self):
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score, percentage=self.percentage)
        return data


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def grade_submission(
    submission,
    master,
    *,
    student=None,
    cell_timeout=CELL_TIMEOUT,
    timeout=TIMEOUT,
    env=None,
):
    """Grade one notebook.

    Args:
        submission: path of the student's notebook (never written to).
        master: path of the master notebook in solutions/.
        student: the name in the report (default: from the file's name, see student_name).
        cell_timeout: seconds one cell may run. timeout: seconds the whole notebook may run.
        env: extra environment variables for the kernel.
    Returns:
        a SubmissionResult.
    """
    started = time.monotonic()
    submission, master = Path(submission), Path(master)
    master_nb = markup.read(master)
    exercise = authoring.generate_exercise(master_nb, master.name)
    result = SubmissionResult(
        student=student or student_name(submission, master.stem),
        notebook=master.stem,
        submission=str(submission),
        master=str(master),
        sha256=sha256(submission),
    )
    with tempfile.TemporaryDirectory(prefix="lstm-course-grade-") as tmp:
        copy = Path(tmp) / submission.name
        shutil.copyfile(submission, copy)  # the kernel's folder holds a copy, not the original
        try:
            student_nb = markup.read(copy)
        except Exception as error:  # not JSON, not a notebook: nothing to run
            student_nb, unreadable = None, f"could not read the notebook ({error})"
        if student_nb is None:
            plan, outcomes, stopped = _unreadable(master_nb, exercise, result, unreadable)
        else:
            plan = assemble.assemble(master_nb, exercise, student_nb)
            result.issues.extend(plan.issues)
            for gid, findings in plan.tampering.items():
                listed = "; ".join(str(f) for f in findings)
                result.issues.append(f"answer cell {gid!r} tampers with the grading: {listed}")
            try:
                outcomes = _run(plan, Path(tmp), cell_timeout, started + timeout, env, result)
                stopped = None
            except Exception as error:  # our machinery failed (e.g. no kernel would start)
                outcomes, stopped = {}, f"the grader could not run the notebook ({error})"
                result.issues.append(stopped)
    result.questions = _score(plan, outcomes, timeout, stopped)
    result.seconds = time.monotonic() - started
    return result


def _unreadable(master_nb, exercise, result, problem):
    """Nothing runs; every test cell is reported NOT_RUN with the reason."""
    result.issues.append(problem)
    empty = _empty_like(master_nb)
    return assemble.assemble(master_nb, exercise, empty), {}, problem


def _run(plan, workdir, cell_timeout, deadline, env, result):
    """Run the plan's code cells; returns {step index: Outcome} (and counts kernel starts)."""
    outcomes, succeeded = {}, []
    with kernel.Kernel(workdir, env=env) as k:
        _prepare(k, deadline)
        for index, step in enumerate(plan.steps):
            if not step.code or not step.source.strip():
                continue
            if deadline - time.monotonic() <= 0:
                outcomes[index] = kernel.Outcome(kernel.NOT_RUN)
                continue
            if step.role in (markup.ANSWER, markup.TEST):
                before = FRESH_CHECKS + guard.CHECK if step.role == markup.TEST else guard.CHECK
                _grader_side(k, before, step, "before", succeeded, cell_timeout, deadline, result)
            remaining = deadline - time.monotonic()
            outcome = k.run(step.source, min(cell_timeout, max(remaining, 0)))
            outcomes[index] = outcome
            if outcome.status in (kernel.TIMEOUT, kernel.DEAD):
                _recover(k, succeeded, cell_timeout, deadline)
                continue
            if step.role == markup.TEST:
                after = _grader_side(
                    k, guard.CHECK, step, "while", succeeded, cell_timeout, deadline, result
                )
                if after:  # the test ran with a replaced function: it proves nothing
                    outcomes[index] = after
            elif outcome.ok:
                succeeded.append(step.source)
        result.kernel_starts = k.starts
    return outcomes


def _prepare(k, deadline):
    """A new kernel: install the guard before any student code runs."""
    k.run(guard.INSTALL, min(RELOAD_TIMEOUT, max(deadline - time.monotonic(), 0)), False)


def _grader_side(k, source, step, when, succeeded, cell_timeout, deadline, result):
    """Run the grader's own code around a cell; note (and return) a guard report if any."""
    timeout = min(RELOAD_TIMEOUT, max(deadline - time.monotonic(), 0))
    outcome = k.run(source, timeout, store_history=False)
    if outcome.status in (kernel.TIMEOUT, kernel.DEAD):
        _recover(k, succeeded, cell_timeout, deadline)
        return None
    names = guard.replaced(outcome)
    if not names:
        return None
    result.issues.append(
        f"your code replaced {', '.join(names)} {when} {step.grade_id!r} ran:"
        " the grader put the original back"
    )
    return outcome


def _recover(k, succeeded, cell_timeout, deadline):
    """A fresh kernel in the state the cells that had succeeded left (as far as time allows)."""
    k.restart()
    _prepare(k, deadline)
    for source in succeeded:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        outcome = k.run(source, min(cell_timeout, remaining))
        if outcome.status in (kernel.TIMEOUT, kernel.DEAD):  # not reproducible: give up replay
            k.restart()
            _prepare(k, deadline)
            return


def _score(plan, outcomes, timeout, stopped=None):
    answer_outcomes = {
        step.grade_id: outcomes.get(i)
        for i, step in enumerate(plan.steps)
        if step.role == markup.ANSWER
    }
    questions = []
    for index, step in enumerate(plan.steps):
        if step.role != markup.TEST:
            continue
        outcome = outcomes.get(index) or kernel.Outcome(kernel.NOT_RUN)
        tampered = plan.tampering.get(step.question)
        if tampered:
            status, points = TAMPERED, 0.0
            feedback = (
                f"no points: your answer cell {step.question!r} was not run because it tampers"
                f" with the grading ({tampered[0]})"
            )
        elif guard.replaced(outcome):
            status, points = TAMPERED, 0.0
            feedback = (
                "no points: while this test ran, your code replaced "
                + ", ".join(guard.replaced(outcome))
                + " (the grader put the original back)"
            )
        elif outcome.ok:
            status, points, feedback = PASSED, step.points, ""
        elif stopped and index not in outcomes:
            status, points, feedback = NOT_RUN, 0.0, f"not run: {stopped}"
        else:
            status = NOT_RUN if outcome.status == kernel.NOT_RUN else FAILED
            points = 0.0
            feedback = describe(outcome, timeout)
            context = answer_outcomes.get(step.question)
            if context is not None and not context.ok and step.question != step.grade_id:
                feedback += f" [your answer cell {step.question!r}: "
                feedback += describe(context, timeout) + "]"
        questions.append(
            QuestionResult(step.grade_id, step.question, points, step.points, status, feedback)
        )
    return questions


def describe(outcome, timeout=TIMEOUT):
    """A one-line, student-facing account of a cell that did not succeed."""
    if outcome.status == kernel.TIMEOUT:
        return f"timed out after {outcome.seconds:.0f} s (an infinite loop, or far too slow?)"
    if outcome.status == kernel.DEAD:
        return "the kernel died (os._exit, a crash or out of memory); it was restarted"
    if outcome.status == kernel.NOT_RUN:
        return f"not run: the notebook used up its time limit of {timeout:.0f} s"
    if outcome.ename == "NotImplementedError":
        return "not implemented yet: replace `raise NotImplementedError()` with your code"
    if outcome.ename in ("CheckError", "AssertionError") and outcome.evalue:
        return outcome.evalue
    if outcome.ename == "AssertionError":
        return "a check failed (AssertionError)"
    return f"{outcome.ename}: {outcome.evalue}" if outcome.evalue else outcome.ename


def student_name(path, exercise):
    """Who submitted path: the file name without the exercise's name, else its folder.

    ``alice_01_rnn.ipynb`` -> ``alice``; ``alice/01_rnn.ipynb`` -> ``alice``; nbgrader's
    ``submitted/alice/ps1/01_rnn.ipynb`` -> ``alice``.
    """
    path = Path(path)
    rest = path.stem.replace(exercise, "").strip(" _-.")
    if rest:
        return rest
    parents = path.resolve().parents
    if len(parents) > 2 and parents[2].name == "submitted":
        return parents[1].name
    return path.parent.resolve().name or path.stem


def find_master(submission, masters):
    """The master for submission: same file name, else the longest master name inside its name.

    Args:
        masters: the candidate master paths. Returns None when none fits.
    """
    stem = Path(submission).stem
    by_stem = {Path(m).stem: Path(m) for m in masters}
    if stem in by_stem:
        return by_stem[stem]
    inside = [s for s in by_stem if s in stem]
    return by_stem[max(inside, key=len)] if inside else None


def _empty_like(master_nb):
    import nbformat

    return nbformat.v4.new_notebook(metadata=master_nb.metadata)
