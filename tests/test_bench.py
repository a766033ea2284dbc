"""make bench's script: rows, FLOP counts, table, JSON and figure (its timings are not tested)."""

import json

import pytest

from lstm_course import bench
from lstm_course.bench import contenders, flops, report

SHAPES = [(3, 2, 4, 5), (2, 1, 3, 4)]


@pytest.fixture
def quick(monkeypatch):
    """A 64 x 64 matmul for the ceiling: the test checks plumbing, not the machine."""
    real = flops.matmul_gflops
    monkeypatch.setattr(bench, "matmul_gflops", lambda *a, **k: real(*a, **{**k, "n": 64}))


def test_flops_count_the_matrix_products():
    # LSTM, T=2, B=3, D=5, H=7: forward 2*T*B*4H*(D+H), backward twice that
    assert flops.recurrent_flops("lstm", (2, 3, 5, 7)) == 3 * 2 * 2 * 3 * 28 * (5 + 7)
    assert flops.recurrent_flops("gru", (1, 1, 1, 1)) == 6 * 3 * 2
    assert flops.recurrent_flops("rnn", (10, 4, 8, 8)) == 6 * 10 * 4 * 8 * 16


@pytest.mark.parametrize("library", ["torch", "numpy"])
def test_matmul_ceiling_is_a_positive_rate(library):
    assert flops.matmul_gflops(library, n=32, repeats=1) > 0


@pytest.mark.parametrize("kind", bench.KINDS)
def test_every_contender_runs_a_forward_and_backward_pass(kind):
    import torch

    runs = contenders.make_runs(kind, (3, 2, 4, 5), torch.device("cpu"))
    assert list(runs) == list(contenders.IMPLEMENTATIONS)
    for run in runs.values():
        run()


def test_bench_writes_table_json_and_plot(tmp_path, quick):
    md, js, png = tmp_path / "bench.md", tmp_path / "bench.json", tmp_path / "bench.png"
    shapes = ["3,2,4,5", "2,1,3,4"]
    args = ["--device", "cpu", "--threads", "1", "--repeats", "1", "--shapes", *shapes]
    assert bench.main([*args, "--markdown", str(md), "--json", str(js), "--plot", str(png)]) == 0
    data = json.loads(js.read_text())
    rows = data["rows"]
    assert [(r["kind"], tuple(r["shape"])) for r in rows] == [
        (kind, shape) for kind in bench.KINDS for shape in SHAPES
    ]
    for r in rows:
        assert set(r["ms"]) == {"torch.nn", "ours", "numpy"}
        assert r["flops"] == flops.recurrent_flops(r["kind"], r["shape"])
        for name, ms in r["ms"].items():
            assert r["gflops"][name] == pytest.approx(r["flops"] / (ms / 1e3) / 1e9)
            ceiling = data["ceiling_gflops"][name]
            assert r["peak_fraction"][name] == pytest.approx(r["gflops"][name] / ceiling)
        assert r["ratio"]["ours"] == pytest.approx(r["ms"]["ours"] / r["ms"]["torch.nn"])
    lines = md.read_text().splitlines()
    assert lines[0].startswith("| model | (T, B, D, H) | GFLOP | torch.nn |")
    assert "| LSTM | (3, 2, 4, 5) |" in md.read_text()
    assert "Matmul ceiling:" in md.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_subset_of_implementations_has_no_ratio_for_the_missing_one(tmp_path, quick):
    js = tmp_path / "b.json"
    args = ["--device", "cpu", "--repeats", "1", "--kinds", "rnn", "--shapes", "2,1,3,4"]
    assert bench.main([*args, "--implementations", "numpy", "--json", str(js)]) == 0
    (row,) = json.loads(js.read_text())["rows"]
    assert set(row["ms"]) == {"numpy"} and row["ratio"] == {}
    assert "-" not in report.table([row], ["numpy"]).splitlines()[-1].split("|")[4]


@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "0,1,1,1"])
def test_a_bad_shape_is_refused_with_a_clear_message(bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--shapes", bad])
    assert exit_.value.code == 2
    assert "T,B,D,H" in capsys.readouterr().err
