"""make bench's script runs and reports a ratio per model and shape (its timings are not tested)."""

import json

from lstm_course import bench


def test_bench_writes_a_row_per_kind_and_shape(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "SHAPES", [(3, 2, 4, 5), (2, 1, 3, 4)])
    md, js = tmp_path / "bench.md", tmp_path / "bench.json"
    args = ["--device", "cpu", "--threads", "1", "--repeats", "1", "--markdown", str(md)]
    assert bench.main([*args, "--json", str(js)]) == 0
    rows = json.loads(js.read_text())
    assert [(r["kind"], tuple(r["T, B, D, H"])) for r in rows] == [
        (kind, shape) for kind in bench.KINDS for shape in bench.SHAPES
    ]
    for r in rows:
        assert r["ratio"] == r["ours ms"] / r["torch.nn ms"] > 0
    lines = md.read_text().splitlines()
    assert lines[0].startswith("| model | (T, B, D, H)") and len(lines) == 2 + len(rows)
    assert "| LSTM | (3, 2, 4, 5) | cpu |" in md.read_text()
