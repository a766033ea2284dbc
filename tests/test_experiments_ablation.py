"""experiments.ablation: the latch and peak tasks, the model table, the runner on a tiny
setting (repeatable, every name), the summary, the gate measurement and the plots."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from lstm_course.experiments import ablation
from lstm_course.modules.recurrent import GRU
from lstm_course.modules.variants import LSTMVariant

matplotlib.use("Agg")

TINY = ablation.AblationConfig(
    names=("vanilla", "NFG", "GRU"),
    seeds=(0, 1),
    T=8,
    hidden_size=4,
    batch_size=4,
    steps=6,
    eval_every=3,
    n_val=16,
)


def test_latch_targets_follow_the_last_marker():
    task = ablation.LatchTask(30, T=12, p_mark=0.3, seed=1)
    assert task.x.shape == (30, 12, 2) and task.y.shape == (30, 12, 1)
    assert task.mask.all() and (task.length == 12).all()
    for n in range(30):
        u, m, y = task.x[n, :, 0], task.x[n, :, 1], task.y[n, :, 0]
        held = 0.0
        for t in range(12):
            held = u[t].item() if m[t] == 1 else held
            assert y[t].item() == held
    assert task.baseline_mse == pytest.approx(float((task.y**2).mean()))
    assert 0 < task.baseline_mse < 1 / 3  # E[u^2] = 1/3 once something is held


def test_latch_is_seeded():
    a, b = ablation.LatchTask(5, seed=3), ablation.LatchTask(5, seed=3)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, ablation.LatchTask(5, seed=4).x)


def test_build_model_uses_the_named_cell():
    for name, (variant, forget_bias) in ablation.MODELS.items():
        model = ablation.build_model(name, 2, 4, 1)
        if variant == "GRU":
            assert isinstance(model.rnn, GRU)
        else:
            assert isinstance(model.rnn, LSTMVariant)
            assert (model.rnn.variant, model.rnn.forget_bias) == (variant, forget_bias)
            assert model.rnn.fused is False  # every variant runs the same step loop
        y, _ = model(torch.zeros(3, 2, 2))
        assert y.shape == (3, 2, 1)


def test_initial_model_is_repeatable():
    a = ablation.initial_model("CIFG", 1, TINY)
    b = ablation.initial_model("CIFG", 1, TINY)
    for x, y in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(x, y)


@pytest.fixture(scope="module")
def tiny_results():
    return ablation.run_ablation(TINY, progress=False)


def test_run_ablation_covers_every_name_and_seed(tiny_results):
    assert list(tiny_results) == [(n, s) for n in TINY.names for s in TINY.seeds]
    for (name, seed), run in tiny_results.items():
        assert (run.name, run.seed) == (name, seed)
        assert run.eval_steps == [3, 6]
        assert run.final_mse == run.val_mse[-1] and math.isfinite(run.final_mse)
    assert tiny_results["vanilla", 0].n_params == 4 * (2 * 4 + 4 * 4 + 2 * 4)
    assert tiny_results["NFG", 0].n_params == 3 * (2 * 4 + 4 * 4 + 2 * 4)


def test_train_run_is_repeatable(tiny_results):
    again = ablation.train_run("NFG", 1, TINY)
    assert again.val_mse == tiny_results["NFG", 1].val_mse


def test_training_lowers_the_latch_loss():
    config = ablation.AblationConfig(
        T=10, p_mark=0.3, hidden_size=8, steps=100, eval_every=100, n_val=64
    )
    run = ablation.train_run("GRU", 0, config)
    val = ablation.LatchTask(64, 10, config.p_mark, seed=999)
    assert run.final_mse < 0.7 * val.baseline_mse


def test_summarize_and_table(tiny_results):
    rows = ablation.summarize(tiny_results)
    assert [r.name for r in rows] == list(TINY.names)
    finals = [tiny_results["NFG", s].final_mse for s in TINY.seeds]
    nfg = rows[1]
    assert nfg.mean == pytest.approx(np.mean(finals))
    assert nfg.std == pytest.approx(np.std(finals, ddof=1))
    table = ablation.format_table(rows).splitlines()
    assert len(table) == 1 + len(TINY.names)
    assert f"{nfg.mean:.4f} +- {nfg.std:.4f}" in table[2]
    assert table[1].split()[5] == "1.00"  # vanilla relative to itself
    assert table[2].endswith(" ".join(f"{v:.4f}" for v in finals))


def test_forget_gate_means(tiny_results):
    x = ablation.LatchTask(8, T=8, p_mark=0.3, seed=5).x.transpose(0, 1)
    marked, other = ablation.forget_gate_means(tiny_results["vanilla", 0].model, x)
    assert 0 < marked < 1 and 0 < other < 1
    assert ablation.forget_gate_means(tiny_results["NFG", 0].model, x) == (1.0, 1.0)
    start = ablation.forget_gate_means(ablation.initial_model("vanilla", 0, TINY), x)[1]
    assert abs(start - 1 / (1 + math.exp(-1))) < 0.15  # b_f = 1: f starts near sigma(1)


def test_peak_labels_and_mask():
    task = ablation.PeakTask(50, T=10, seed=0)
    x, y = task.x[..., 0], task.y[..., 0]
    for n in range(50):
        for t in range(1, 9):
            assert y[n, t] == float(x[n, t] > x[n, t - 1] and x[n, t] > x[n, t + 1])
    assert not task.mask[:, 0].any() and not task.mask[:, -1].any() and task.mask[:, 1:-1].all()


def test_uni_rule_matches_seven_eighths():
    assert ablation.uni_rule_accuracy(n_samples=20000) == pytest.approx(ablation.UNI_BEST, abs=0.01)


def test_train_peak_records_accuracy():
    history = ablation.train_peak(True, hidden_size=4, steps=4, progress=False)
    assert history.steps == 4 and 0 <= history.last("val_acc") <= 1


def test_plots_draw(tiny_results):
    ax = ablation.plot_curves(tiny_results, baseline=0.18)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "training step"
    assert len(ax.get_legend().get_texts()) == len(TINY.names) + 1
    assert len(set(ablation.COLOURS.values())) == len(ablation.MODELS)  # one colour per model
    gru_line = next(line for line in ax.get_lines() if line.get_label() == "GRU")
    assert matplotlib.colors.same_color(gru_line.get_color(), ablation.COLOURS["GRU"])
    val = ablation.LatchTask(4, T=8, seed=9)
    fig = ablation.compare(tiny_results, val, "vanilla", "GRU", 1, 2)
    left, right = fig.axes[:2]
    assert [t.get_text() for t in left.get_legend().get_texts()][:2] == ["vanilla", "GRU"]
    assert right.get_xlabel().startswith("time step")
    assert len(ablation.predict(tiny_results["GRU", 1].model, val[0])) == 8
    history = ablation.train_peak(False, hidden_size=4, steps=2, progress=False)
    ax = ablation.plot_peak({"uni": history})
    assert ax.get_ylabel().startswith("validation accuracy")
    matplotlib.pyplot.close("all")
