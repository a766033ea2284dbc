"""Lecture 10's experiments: one traced copy, where the heads go, the generalisation curve and
the plots, on a tiny untrained NTM and on the shipped checkpoints."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lstm_course import set_seed  # noqa: E402
from lstm_course.experiments import ntm as ex  # noqa: E402
from lstm_course.ntm import Addressing, NTMTrace  # noqa: E402
from lstm_course.ntm.copy_task import (  # noqa: E402
    CopyBatches,
    bit_errors,
    copy_batch,
    held_out_seed,
)
from lstm_course.ntm.train import CopyRecipe, build_model, load_shipped  # noqa: E402
from lstm_course.train import History  # noqa: E402

TINY = CopyRecipe(hidden_size=16, N=10, W=5, n_bits=4, max_len=3, batch_size=4)


@pytest.fixture(scope="module")
def tiny():
    set_seed(0)
    return build_model(TINY, device="cpu")


@pytest.fixture(scope="module")
def shipped():
    return {name: load_shipped(name, device="cpu") for name in ("ntm_copy", "lstm_copy")}


def fake_example(written, read, delimiter=0, N=8):
    """A CopyExample whose heads are one-hot at the given locations (L = len(written)): the
    write head at ``written`` for the L input steps and at ``delimiter`` at step L + 1."""
    L = len(written)
    T = 2 * L + 2
    w_write, w_read = np.zeros((T, N)), np.zeros((T, N))
    w_write[np.arange(T), 0] = 1.0
    w_write[1 : L + 1] = np.eye(N)[written]
    w_write[L + 1] = np.eye(N)[delimiter]
    w_read[np.arange(T), 0] = 1.0
    w_read[L + 2 :] = np.eye(N)[read]
    mask = np.arange(T) >= L + 2
    write_stages, read_stages = Addressing(*[w_write] * 4), Addressing(*[w_read] * 4)
    trace = NTMTrace(write_stages, read_stages, None, None, np.zeros((T, N, 3)), None)
    return ex.CopyExample(None, None, None, mask, L, 0.0, trace)


def test_copy_example_traces_an_ntm_and_counts_its_errors(tiny):
    example = ex.copy_example(tiny, L=3, seed=2)
    T = 2 * 3 + 2
    assert example.x.shape == (T, 6) and example.y.shape == example.p.shape == (T, 4)
    assert example.mask.sum() == 3 and example.L == 3
    assert example.trace.write.w.shape == (T, TINY.N) and example.trace.M.shape == (T, 10, 5)
    assert example.trace.write_params.gamma.shape == (T, 1) and example.trace.read_params.e is None
    batch = copy_batch(1, 3, 4, held_out_seed(2, 3) + 500)  # the sequence it documents
    np.testing.assert_array_equal(example.x, batch.x[:, 0].numpy())
    with torch.no_grad():
        y_hat, _ = tiny(batch.x)
    assert example.errors == bit_errors(y_hat, batch.y, batch.mask).item()
    np.testing.assert_allclose(example.p, torch.sigmoid(y_hat[:, 0]).numpy(), atol=1e-6)


def test_copy_example_of_an_lstm_has_no_trace():
    set_seed(0)
    lstm = build_model(CopyRecipe(model="lstm", hidden_size=8, n_bits=4), device="cpu")
    example = ex.copy_example(lstm, L=2)
    assert example.trace is None and example.p.shape == (6, 4)


def test_head_locations_and_read_follows_write():
    follows = fake_example(written=[1, 2, 3, 4], read=[1, 2, 3, 4])
    assert ex.written_locations(follows).tolist() == [1, 2, 3, 4]
    assert ex.read_locations(follows).tolist() == [1, 2, 3, 4]
    assert ex.read_follows_write(follows) == 1.0 and ex.write_delay(follows) == 0
    lost = fake_example(written=[1, 2, 3, 4], read=[1, 2, 2, 2])
    assert ex.read_follows_write(lost) == 0.5
    # a controller that writes each vector one step late: vector j at step j + 1
    late = fake_example(written=[0, 1, 2, 3], read=[1, 2, 3, 4], delimiter=4)
    assert ex.written_locations(late, delay=1).tolist() == [1, 2, 3, 4]
    assert ex.read_follows_write(late, delay=0) == 0.0
    assert ex.read_follows_write(late) == 1.0 and ex.write_delay(late) == 1
    with pytest.raises(ValueError, match="delay must be 0 or 1"):
        ex.written_locations(late, delay=2)


def test_the_plots_show_the_locations_the_heads_focused_on():
    example = fake_example(written=[1, 2, 3, 4], read=[1, 2, 3, 4], N=20)
    example.trace.read.w[1:5] = 1 / 20  # an idle read head: spread, its argmax meaningless
    example.trace.read.w[1, 19] = 0.2
    fig, axes = plt.subplots(1, 2)
    ex.plot_weightings(axes, example)
    assert axes[0].images[0].get_array().shape == (4 + 1 + 3, 10)  # locations 0-4, margin 3
    plt.close(fig)


def test_errors_along_copy_splits_the_errors_of_errors_by_length(tiny):
    parts = ex.errors_along_copy(tiny, L=5, n_parts=2, n_sequences=6, seed=1)
    total = ex.generalisation({"tiny": tiny}, [5], n_sequences=6, seed=1)["tiny"][5]
    assert len(parts) == 2 and sum(parts) == pytest.approx(total)
    assert 0 <= parts[0] <= 3 * 4 and 0 <= parts[1] <= 2 * 4  # vectors 1-3, then 4-5
    with pytest.raises(ValueError, match="n_parts"):
        ex.errors_along_copy(tiny, L=3, n_parts=4)


def test_generalises_up_to_stops_at_the_first_failing_length():
    curve = {1: 0.0, 2: 0.5, 3: 1.0, 4: 3.0, 5: 0.0}
    assert ex.generalises_up_to(curve) == 3  # L = 5 is fine again, but 4 failed first
    assert ex.generalises_up_to(curve, max_errors=0.0) == 1
    assert ex.generalises_up_to({3: 2.0}) == 0
    with pytest.raises(ValueError, match="empty"):
        ex.generalises_up_to({})


def test_running_mean_averages_the_last_window_values():
    np.testing.assert_allclose(ex.running_mean([1, 2, 3, 4, 5], 2), [1, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(ex.running_mean([2, 4, 6], 10), [2, 3, 4])
    with pytest.raises(ValueError, match="window"):
        ex.running_mean([1.0], 0)


def test_generalisation_gives_a_curve_per_model(tiny):
    curves = ex.generalisation({"a": tiny, "b": tiny}, [1, 4], n_sequences=3)
    assert list(curves) == ["a", "b"] and curves["a"] == curves["b"]
    assert set(curves["a"]) == {1, 4} and 0 <= curves["a"][4] <= 4 * 4


def test_plots_draw_what_they_say(tiny):
    example = ex.copy_example(tiny, L=3)
    fig, axes = plt.subplots(7, 1)
    ex.plot_copy(axes[:3], example)
    assert "bits wrong" in axes[2].get_title() and len(axes[0].images) == 1
    ex.plot_weightings(axes[3:5], example, step=4)
    assert axes[3].images[0].get_array().shape[0] <= TINY.N
    assert axes[3].get_title().startswith("write weighting") and len(axes[4].lines) == 1
    image = ex.plot_memory(axes[5], example, step=2)
    assert image.get_array().shape[1] == 5 and "t = 2" in axes[5].get_title()
    ex.plot_generalisation(axes[6], {"NTM": {1: 0.0, 2: 1.0}, "LSTM": {1: 0.0, 2: 4.0}}, 1)
    assert [t.get_text() for t in axes[6].get_legend().get_texts()][:2] == ["NTM", "LSTM"]
    plt.close(fig)


def test_by_batch_length_groups_the_steps_by_their_batch_length():
    recipe = TINY.with_steps(40)
    lengths = CopyBatches(40, 4, 1, 3, 4, 0).lengths
    history = History()
    for step, L in enumerate(lengths):
        history.record_step(0.1 * L, 1.0, 0.1, {"bit_errors": float(L + step)})
    losses = ex.by_batch_length(history, recipe, series="loss")
    assert set(losses) == {1, 2, 3} and all(np.isclose(v, 0.1 * L) for L, v in losses.items())
    tail = ex.by_batch_length(history, recipe, last=10)
    expected = {
        int(L): np.mean([30 + i + L for i in np.flatnonzero(lengths[30:] == L)])
        for L in np.unique(lengths[30:])
    }
    assert tail == pytest.approx(expected)


def test_plot_runs_can_count_sequences_instead_of_steps():
    history = History()
    for step in range(4):
        history.record_step(1.0, 1.0, 0.1, {"bit_errors": float(step)})
    fig, ax = plt.subplots()
    ex.plot_runs(ax, {"B=16": (history, 16)}, window=2, per_sequence=True)
    x, y = ax.lines[0].get_data()
    assert x.tolist() == [16, 32, 48, 64] and y.tolist() == [0.0, 0.5, 1.5, 2.5]
    assert ax.get_xlabel() == "sequences seen"
    plt.close(fig)


# ----- the shipped runs: what the lecture states -----


def test_the_shipped_ntm_replays_its_writes_and_generalises_further_than_the_lstm(shipped):
    ntm, recipe, _ = shipped["ntm_copy"]
    lstm, lstm_recipe, _ = shipped["lstm_copy"]
    assert recipe.max_len == lstm_recipe.max_len
    example = ex.copy_example(ntm, L=recipe.max_len)
    assert example.errors == 0 and ex.read_follows_write(example) == 1.0
    assert ex.read_follows_write(ex.copy_example(ntm, L=2 * recipe.max_len)) == 1.0
    curves = ex.generalisation({"ntm": ntm, "lstm": lstm}, range(1, 21), n_sequences=16)
    assert ex.generalises_up_to(curves["ntm"]) >= 3 * recipe.max_len // 2
    assert ex.generalises_up_to(curves["lstm"]) < recipe.max_len + 2
