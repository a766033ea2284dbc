"""Lecture 8's recipes on tiny settings: the length study, alignments and the cost of each form."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lstm_course.experiments import attention as att  # noqa: E402
from lstm_course.experiments import seq2seq as s2s  # noqa: E402
from lstm_course.seq2seq import encode_sources, greedy  # noqa: E402

TINY = s2s.with_budget(
    att.REVERSAL,
    n_train=400,
    n_test=40,
    n_val=10,
    min_len=2,
    max_len=6,
    embed_size=8,
    hidden_size=16,
    steps=20,
    eval_every=10,
)


@pytest.fixture(scope="module")
def runs():
    return att.length_study(TINY, attentions=(None, "dot", "additive"), progress=False)


def test_the_recipes_are_what_the_lecture_says():
    assert att.REVERSAL.task == "reversal" and (att.REVERSAL.min_len, att.REVERSAL.max_len) == (
        5,
        30,
    )
    assert att.REVERSAL.form == "luong" and att.REVERSAL.lr_decay < 1
    assert att.DATES.attention == "additive" and att.DATES.form == "bahdanau"


def test_length_study_trains_each_score_on_the_same_data(runs):
    assert list(runs) == ["no attention", "dot", "additive"]
    assert runs["no attention"].model.attention is None
    assert runs["dot"].model.attention_kind == "dot"
    assert runs["dot"].model.form == "luong"
    tests = [run.test for run in runs.values()]
    assert all(t == tests[0] for t in tests)
    curves = att.length_curves(runs, TINY)
    for curve in curves.values():
        assert set(curve) == {len(s) for s, _ in tests[0]} <= set(range(2, 7))
        assert all(0 <= acc <= 1 for acc in curve.values())
    assert att.accuracy_in_range({2: 1.0, 3: 0.0, 9: 0.5}, 2, 3) == 0.5
    with pytest.raises(ValueError, match="no length"):
        att.accuracy_in_range({2: 1.0}, 5, 6)
    curve = {5: 1.0, 6: 0.97, 7: 0.9, 8: 1.0}
    assert att.reliable_up_to(curve, 0.95) == 6
    assert att.reliable_up_to(curve, 0.5) == 8
    assert att.reliable_up_to(curve, 1.0) == 5
    assert att.reliable_up_to({5: 0.2}, 0.5) == 0


def test_alignment_rows_are_the_decoders_attention_weights(runs):
    run = runs["additive"]
    source = run.test[0][0]
    al = att.alignment(run, source)
    assert al.weights.shape == (len(al.tokens), len(source))
    np.testing.assert_allclose(al.weights.sum(1), 1.0, rtol=1e-5)
    (src,) = encode_sources([source], run.dataset)
    ids, weights = greedy(run.model, src[:, None], torch.tensor([len(src)]), 8)
    np.testing.assert_allclose(al.weights, weights[: len(al.tokens), :, 0].double().numpy())
    with pytest.raises(ValueError, match="attention"):
        att.alignment(runs["no attention"], source)


def test_alignment_columns_follow_the_written_source_when_the_model_reads_it_backwards():
    setup = s2s.with_budget(TINY, attention="dot", steps=2)
    run = s2s.train_task(setup, reverse_source=True, progress=False)
    source = "12345"
    al = att.alignment(run, source)
    (src,) = encode_sources([source], run.dataset)  # "54321"
    _, weights = greedy(run.model, src[:, None], torch.tensor([5]), 8)
    raw = weights[: len(al.tokens), :, 0].double().numpy()
    np.testing.assert_allclose(al.weights, raw[:, ::-1])


def _fake(source, tokens, weights):
    return att.Alignment(source, "".join(t for t in tokens if t != "<eos>"), tokens, weights)


def test_mirror_offsets_and_year_attention():
    S = 4
    perfect = np.eye(S)[::-1]  # step i looks at S - 1 - i
    eos = np.full((1, S), 1 / S)
    al = _fake("1234", [*"4321", "<eos>"], np.vstack([perfect, eos]))
    assert att.mirror_offsets(al).tolist() == [0, 0, 0, 0]
    shifted = np.roll(perfect, 1, axis=1)  # one position later (wrapping at the end)
    al = _fake("1234", list("4321"), shifted)
    assert att.mirror_offsets(al).tolist() == [-3, 1, 1, 1]
    rows, total = att.year_attention(_fake("3 mar 98", list("1998-03-03"), np.eye(10, 8)))
    assert rows.shape == (4, 8) and total.tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="year"):
        att.year_attention(_fake("x", ["1"], np.ones((1, 1))))
    # "3 mar 98": the year is the last 2 characters; the first year step looks there fully
    weights = np.zeros((10, 8))
    weights[0, 7] = weights[1, 6] = weights[2, 0] = 1.0
    weights[3, [0, 7]] = 0.5
    assert att.year_share(_fake("3 mar 98", list("1998-03-03"), weights)) == 0.625
    with pytest.raises(ValueError, match="end with a year"):
        att.year_share(_fake("3 March", list("1998"), np.ones((4, 7)) / 7))


def test_offset_shares_and_one_per_length(runs):
    sources = att.one_per_length(runs["dot"].test, range(2, 7))
    assert [len(s) for s in sources] == sorted({len(s) for s, _ in runs["dot"].test})
    shares = att.offset_shares(runs["dot"], sources)
    assert set(shares) == {0, 1, "other"} and sum(shares.values()) == pytest.approx(1.0)


def test_plots_label_their_axes(runs):
    fig, (a, b, c) = plt.subplots(1, 3)
    att.plot_length_curves(a, att.length_curves(runs, TINY), train_range=(2, 6))
    assert len(a.lines) == 3 and a.get_xlabel().startswith("source length")
    att.plot_training(b, runs)
    assert len(b.lines) == 3
    al = att.alignment(runs["dot"], "123")
    att.plot_alignment(c, al, step=1)
    assert [t.get_text() for t in c.get_xticklabels()] == list("123")
    assert len(c.patches) == 1  # the outlined step
    plt.close(fig)


def test_time_per_step_measures_both_forms():
    ms = att.time_per_step(TINY, steps=2)
    assert set(ms) == {"bahdanau", "luong"} and all(v > 0 for v in ms.values())
