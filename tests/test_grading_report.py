"""Grade reports: one CSV row per student per question plus a total, JSON, the summary."""

import csv
import json

import pytest

from lstm_course.grading import grader, report


def result(student, points, issues=()):
    questions = [
        grader.QuestionResult(
            "test_a",
            "a",
            points[0],
            2.0,
            grader.PASSED if points[0] else grader.FAILED,
            "" if points[0] else "a is wrong",
        ),
        grader.QuestionResult(
            "test_b",
            "b",
            points[1],
            3.0,
            grader.PASSED if points[1] else grader.FAILED,
            "" if points[1] else "b, not implemented yet",
        ),
    ]
    return grader.SubmissionResult(
        student,
        "01_rnn",
        f"subs/{student}_01_rnn.ipynb",
        "solutions/01_rnn.ipynb",
        "0" * 64,
        questions=questions,
        issues=list(issues),
    )


CLASS = [result("alice", (2.0, 3.0)), result("bob", (0.0, 3.0), ["test cell 'test_a' was edited"])]


def test_csv_has_a_row_per_student_per_question_and_a_total(tmp_path):
    report.write(CLASS, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(report.FIELDS)
    assert [(r["student"], r["question"], r["points"], r["max_points"]) for r in rows] == [
        ("alice", "test_a", "2.0", "2.0"),
        ("alice", "test_b", "3.0", "3.0"),
        ("alice", "TOTAL", "5.0", "5.0"),
        ("bob", "test_a", "0.0", "2.0"),
        ("bob", "test_b", "3.0", "3.0"),
        ("bob", "TOTAL", "3.0", "5.0"),
    ]
    assert rows[3]["feedback"] == "a is wrong" and rows[3]["status"] == "failed"
    assert (
        rows[5]["percentage"] == "60.0" and rows[5]["feedback"] == "test cell 'test_a' was edited"
    )


def test_json_holds_each_submission_with_questions_and_totals(tmp_path):
    report.write(CLASS, tmp_path / "out" / "grades.json")
    data = json.loads((tmp_path / "out" / "grades.json").read_text())
    [alice, bob] = data["submissions"]
    assert (alice["score"], alice["max_score"], alice["percentage"]) == (5.0, 5.0, 100.0)
    assert (bob["score"], bob["percentage"]) == (3.0, 60.0)
    assert bob["questions"][1] == {
        "grade_id": "test_b",
        "answer": "b",
        "points": 3.0,
        "max_points": 3.0,
        "status": "passed",
        "feedback": "",
    }
    assert bob["issues"] == ["test cell 'test_a' was edited"] and bob["sha256"] == "0" * 64


def test_only_csv_and_json_are_written(tmp_path):
    with pytest.raises(ValueError, match="must end in .csv or .json"):
        report.write(CLASS, tmp_path / "grades.xlsx")


def test_progress_and_summary_lines():
    assert report.progress(2, 2, CLASS[1]) == "[2/2] bob 01_rnn: 3/5 (60%) in 0.0 s, 1 issue(s)"
    text = report.summary(CLASS)
    assert "bob 01_rnn: 3/5 (60.0%)" in text
    assert "  test_a: 0/2 failed  a is wrong" in text
    assert "  note: test cell 'test_a' was edited" in text
