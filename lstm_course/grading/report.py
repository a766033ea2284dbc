"""Grade reports: a CSV row per student per question plus a total row, JSON, and a summary.

CSV columns: student, notebook, question, answer, points, max_points, percentage, status,
feedback, submission. The total row of each submission has question ``TOTAL`` and, as its
feedback, the issues found (missing cells, edited tests, tampering). The JSON file holds one
object per submission with its questions, totals, issues and the SHA-256 of the file graded.
"""

import csv
import json
from pathlib import Path

FIELDS = (
    "student",
    "notebook",
    "question",
    "answer",
    "points",
    "max_points",
    "percentage",
    "status",
    "feedback",
    "submission",
)
TOTAL = "TOTAL"
FORMATS = (".csv", ".json")


def _number(x):
    return round(float(x), 4)


def rows(results):
    """One dict per submission per question, then the submission's TOTAL row."""
    table = []
    for r in results:
        for q in r.questions:
            share = 100.0 * q.points / q.max_points if q.max_points else 0.0
            table.append(
                {
                    "student": r.student,
                    "notebook": r.notebook,
                    "question": q.grade_id,
                    "answer": q.answer or "",
                    "points": _number(q.points),
                    "max_points": _number(q.max_points),
                    "percentage": _number(share),
                    "status": q.status,
                    "feedback": q.feedback,
                    "submission": r.submission,
                }
            )
        table.append(
            {
                "student": r.student,
                "notebook": r.notebook,
                "question": TOTAL,
                "answer": "",
                "points": _number(r.score),
                "max_points": _number(r.max_score),
                "percentage": _number(r.percentage),
                "status": "",
                "feedback": "; ".join(r.issues),
                "submission": r.submission,
            }
        )
    return table


def write_csv(results, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows(results))


def write_json(results, path):
    data = {"submissions": [r.as_dict() for r in results]}
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write(results, path):
    """Write a report; the format follows the suffix (.csv or .json)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"report {path}: the name must end in .csv or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    (write_csv if path.suffix.lower() == ".csv" else write_json)(results, path)


def progress(index, count, result):
    """The stderr line printed after each notebook, e.g. "[2/30] alice 01_rnn: 8/10 (80%)"."""
    flags = f", {len(result.issues)} issue(s)" if result.issues else ""
    return (
        f"[{index}/{count}] {result.student} {result.notebook}: {result.score:g}/"
        f"{result.max_score:g} ({result.percentage:.0f}%) in {result.seconds:.1f} s{flags}"
    )


def summary(results):
    """A plain-text table: one line per submission, then each question's feedback."""
    lines = []
    for r in results:
        lines.append(f"{r.student} {r.notebook}: {r.score:g}/{r.max_score:g} ({r.percentage:.1f}%)")
        for q in r.questions:
            note = f"  {q.feedback}" if q.feedback else ""
            lines.append(f"  {q.grade_id}: {q.points:g}/{q.max_points:g} {q.status}{note}")
        lines.extend(f"  note: {issue}" for issue in r.issues)
    return "\n".join(lines)
