"""The notebook the grader runs: the master's cells, with the student's answers put in.

Every master cell runs, in the master's order, except that each answer cell (nbgrader
``solution: true``) is replaced by the student's cell with the same ``grade_id``. So:

- test cells are always the master's, hidden tests included: editing or deleting the visible
  tests in the student copy changes nothing (it is reported);
- a missing answer cell is graded as the blank stub; a cell turned into Markdown by mistake
  is still run as code; answer cells moved around are run in the master's order;
- cells the student added are not run (helpers belong inside the answer cell);
- an answer cell that tampers with the grading (see ``tamper``) is replaced by the stub.
"""

from dataclasses import dataclass, field

from lstm_course.grading import markup, tamper


@dataclass
class Step:
    """One cell of the assembled notebook.

    Attributes:
        role: markup.ANSWER, TEST or OTHER. grade_id: the nbgrader id (None for plain cells).
        source: the code that runs. origin: "master", "submission", "stub" or "stub (tampering)".
        question: the answer a test (or answer) cell belongs to: the nearest answer above it.
        points: what a test cell is worth.
    """

    role: str
    grade_id: str | None
    source: str
    origin: str
    question: str | None = None
    points: float = 0.0
    code: bool = True


@dataclass
class Plan:
    steps: list
    issues: list = field(default_factory=list)
    tampering: dict = field(default_factory=dict)  # answer grade_id -> [tamper.Finding]


def _normalise(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def assemble(master, exercise, submission):
    """The Plan for grading submission against master.

    Args:
        master: the master notebook. exercise: the student copy generated from it (for the
            blank stubs and the visible tests). submission: the student's notebook.
    """
    stubs = {markup.grade_id(c): c.source for c in exercise.cells if markup.grade_id(c)}
    student = markup.by_grade_id(submission)
    issues = []
    answers = {}
    for gid, cells in student.items():
        master_cell = next((c for c in master.cells if markup.grade_id(c) == gid), None)
        if master_cell is None or markup.role(master_cell) != markup.ANSWER:
            continue
        if len(cells) > 1:
            issues.append(
                f"answer cell {gid!r} appears {len(cells)} times: the first one is graded"
            )
        answers[gid] = cells[0]

    master_ids = [markup.grade_id(c) for c in master.cells if markup.grade_id(c)]
    known = set(master_ids)
    added = [c for c in submission.cells if markup.grade_id(c) not in known and _has_code(c)]
    if added:
        issues.append(
            f"{len(added)} code cell(s) you added were not run: the grader runs the exercise's"
            " cells with your answer cells in them, so put helper code inside an answer cell"
        )
    order = [g for g in _first_seen(submission) if g in answers]
    if order != [g for g in master_ids if g in answers]:
        issues.append(
            "answer cells are not in the exercise's order: graded in the exercise's order"
        )

    test_sources = [c.source for c in master.cells if markup.role(c) == markup.TEST]
    protected = tamper.check_names(test_sources)
    modules = set()
    for cell in master.cells:
        if markup.is_code(cell):
            modules |= tamper.imported_names(cell.source)
    for cell in answers.values():
        modules |= tamper.imported_names(cell.source)

    steps, plan, question = [], Plan([], issues), None
    for cell in master.cells:
        gid, kind = markup.grade_id(cell), markup.role(cell)
        if kind == markup.ANSWER:
            question = gid
            steps.append(_answer_step(cell, gid, answers.get(gid), stubs, modules, protected, plan))
        elif kind == markup.TEST:
            visible = student.get(gid)
            if visible is None:
                issues.append(f"test cell {gid!r} was deleted: the original ran")
            elif _normalise(visible[0].source) not in (
                _normalise(stubs.get(gid, "")),
                _normalise(cell.source),  # the master itself, graded as a sanity check
            ):
                issues.append(f"test cell {gid!r} was edited: the original ran")
            steps.append(
                Step(kind, gid, cell.source, "master", question or gid, markup.points(cell))
            )
        else:
            steps.append(Step(kind, gid, cell.source, "master", code=markup.is_code(cell)))
    plan.steps = steps
    return plan


def _answer_step(cell, gid, theirs, stubs, modules, protected, plan):
    if not markup.is_code(cell):  # a written answer (Markdown): nothing to run
        return Step(markup.ANSWER, gid, cell.source, "master", gid, code=False)
    if theirs is None:
        plan.issues.append(f"answer cell {gid!r} is missing: graded as the blank stub")
        return Step(markup.ANSWER, gid, stubs[gid], "stub", gid)
    if not markup.is_code(theirs):
        plan.issues.append(f"answer cell {gid!r} was turned into {theirs.cell_type}: run as code")
    findings = tamper.find_tampering(theirs.source, modules, protected)
    if findings:
        plan.tampering[gid] = findings
        return Step(markup.ANSWER, gid, stubs[gid], "stub (tampering)", gid)
    return Step(markup.ANSWER, gid, theirs.source, "submission", gid)


def _has_code(cell):
    return markup.is_code(cell) and cell.source.strip() != ""


def _first_seen(nb):
    seen = []
    for cell in nb.cells:
        gid = markup.grade_id(cell)
        if gid is not None and gid not in seen:
            seen.append(gid)
    return seen
