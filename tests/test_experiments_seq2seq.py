"""Lecture 7's recipes on tiny settings: data splits, training, beam search, <eos>, errors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course.data.pairs import PairVocab  # noqa: E402
from lstm_course.experiments import seq2seq as s2s  # noqa: E402
from lstm_course.seq2seq import log_prob, translate  # noqa: E402

TINY = s2s.TaskSetup(
    task="copy",
    n_train=400,
    n_test=24,
    n_val=12,
    min_len=2,
    max_len=4,
    embed_size=8,
    hidden_size=16,
    steps=30,
    eval_every=10,
)


@pytest.fixture(scope="module")
def runs():
    return s2s.reversal_trick(TINY, progress=False)


def test_setup_checks_its_fields():
    with pytest.raises(ValueError, match="task"):
        s2s.TaskSetup(task="french")
    with pytest.raises(ValueError, match="n_val"):
        s2s.TaskSetup(n_test=10, n_val=11)


@pytest.mark.parametrize("task", s2s.TASKS)
def test_task_pairs_are_seeded_and_test_sources_are_unseen(task):
    setup = s2s.TaskSetup(task=task, n_train=300, n_test=40, n_val=10, min_len=3, max_len=6)
    train, test = s2s.task_pairs(setup)
    assert (train, test) == s2s.task_pairs(setup)
    assert len(train) == 300 and len(test) == 40
    assert not {s for s, _ in test} & {s for s, _ in train}
    longest = max(len(t) for _, t in train + test)
    assert s2s.decode_len(setup) == longest + 2
    src_vocab, tgt_vocab = s2s.vocabularies(setup)
    for source, target in train + test:
        assert PairVocab.unk_id not in src_vocab.encode(source) + tgt_vocab.encode(target)


def test_reversal_trick_trains_two_runs_on_the_same_data(runs):
    forward, backward = runs["as written"], runs["reversed"]
    assert not forward.dataset.reverse_source and backward.dataset.reverse_source
    assert forward.dataset.pairs == backward.dataset.pairs and forward.test == backward.test
    for run in runs.values():
        steps, exact = run.history.series("val_exact")
        assert steps == [10, 20, 30] and all(0 <= e <= 1 for e in exact)
        assert run.history.steps == TINY.steps
    again = s2s.train_task(TINY, reverse_source=True, progress=False)
    assert again.history.loss == backward.history.loss  # seeded


def test_decay_ends_at_lr_times_lr_decay():
    setup = s2s.with_budget(TINY, lr_decay=0.1, steps=20)
    run = s2s.train_task(setup, progress=False)
    lr = run.history.metrics["lr"]
    assert lr[0] == pytest.approx(TINY.lr)
    assert lr[-1] == pytest.approx(TINY.lr * 0.1 ** (19 / 20))
    assert s2s.decay(TINY) is None


def test_minimal_lag_follows_sutskevers_argument():
    # copy "abcd": target i comes from source i
    alignment = [(i, i) for i in range(1, 5)]
    assert s2s.minimal_lag("abcd", "abcd", alignment) == (4, 4.0)
    assert s2s.minimal_lag("abcd", "abcd", alignment, reverse_source=True) == (1, 4.0)
    # "3 March 1998" -> "1998-03-03": the year's "1" (source 9) is written first
    assert s2s.minimal_lag("3 March 1998", "1998-03-03", [(1, 9)]) == (4, 4.0)
    assert s2s.minimal_lag("3 March 1998", "1998-03-03", [(1, 9)], True) == (9, 9.0)
    with pytest.raises(ValueError, match="alignment"):
        s2s.minimal_lag("ab", "ab", [(1, 3)])


def test_beam_of_width_one_is_greedy_and_changes_are_scored(runs):
    run = runs["reversed"]
    outputs = s2s.beam_outputs(run, (1, 2, 4))
    sources = [s for s, _ in run.test]
    assert outputs[1] == translate(run.model, sources, run.dataset, s2s.decode_len(TINY))
    exact = s2s.exact_by_width(run, outputs)
    assert exact[1] == pytest.approx(s2s.final_exact(run))
    for change in s2s.beam_changes(run, outputs, 4):
        assert change.greedy != change.beamed
        lp = log_prob(run.model, [(change.source, change.beamed)], run.dataset)[0]
        assert change.beam_log_prob == pytest.approx(lp)
        hyp = s2s.beam_hypotheses(run, change.source, 4)[0]
        assert hyp[0] == change.beamed and hyp[1] == pytest.approx(lp)  # teacher forcing = beam


def test_error_kinds_compare_the_log_probability_of_output_and_answer(runs):
    run = runs["as written"]
    targets = [t for _, t in run.test]
    assert s2s.error_kinds(run, targets) == (0, 0, len(targets))
    wrong = [t[:-1] + ("1" if t[-1] != "1" else "2") for t in targets]  # last digit changed
    kinds = s2s.error_kinds(run, wrong)
    assert kinds.right == 0 and kinds.search + kinds.model == len(targets)
    sources = [s for s, _ in run.test]
    lp_wrong = log_prob(run.model, list(zip(sources, wrong, strict=True)), run.dataset)
    lp_right = log_prob(run.model, run.test, run.dataset)
    assert kinds.search == sum(r > w for r, w in zip(lp_right, lp_wrong, strict=True))


def test_eos_probabilities_follow_the_greedy_path(runs):
    run = runs["reversed"]
    source = run.test[0][0]
    tokens, p_eos = s2s.eos_probabilities(run, source)
    assert len(tokens) == len(p_eos) and np.all((p_eos >= 0) & (p_eos <= 1))
    greedy_text = translate(run.model, [source], run.dataset, s2s.decode_len(TINY))[0]
    assert "".join(t for t in tokens if t != "<eos>") == greedy_text
    forced, _ = s2s.eos_probabilities(run, source, force_len=9)
    assert len(forced) == 9 and "<eos>" not in forced


def test_max_len_cuts_outputs_and_says_so(runs):
    run = runs["reversed"]
    sources = [s for s, _ in run.test]
    outputs, finished = s2s.cut_by_max_len(run, sources, 1)
    assert all(len(o) <= 1 for o in outputs)
    assert not any(finished)  # one token: no room for a symbol and <eos>
    hyps = s2s.beam_hypotheses(run, sources[0], 2, max_len=1)
    assert all(not finished for *_, finished in hyps)


def test_beam_hypotheses_are_ranked_by_the_length_normalised_score(runs):
    run = runs["reversed"]
    for alpha in (0.0, 1.0):
        hyps = s2s.beam_hypotheses(run, run.test[1][0], 3, length_penalty=alpha)
        scores = [score for _, _, _, score, _ in hyps]
        assert scores == sorted(scores, reverse=True)
        for _, lp, n, score, _ in hyps:
            assert score == pytest.approx(lp / ((5 + n) / 6) ** alpha)
    effect = s2s.length_penalty_effect(run, 2, (0.0, 1.0), n=6)
    assert set(effect) == {0.0, 1.0} and all(0 <= acc <= 1 for acc, _, _ in effect.values())
    assert effect[0.0][2] == 0  # the first alpha is the reference
    source = s2s.several_lengths(run, 3)
    if source is not None:
        assert len({n for _, _, n, _, _ in s2s.beam_hypotheses(run, source, 3)}) > 1
    assert s2s.several_lengths(run, 1) is None  # one hypothesis: one length


def test_plot_and_steps_to(runs):
    fig, ax = plt.subplots()
    s2s.plot_exact_match(ax, runs, "tiny")
    assert len(ax.lines) == 2 and ax.get_xlabel() == "training step"
    plt.close(fig)
    run = runs["reversed"]
    assert s2s.steps_to(run, 2.0) == float("inf")
    assert s2s.steps_to(run, 0.0) == 10
    assert s2s.exact_at(run, 20) == run.history.evals["val_exact"][1]
    with pytest.raises(ValueError, match="step 15"):
        s2s.exact_at(run, 15)


def test_print_changes_marks_the_right_output(capsys):
    change = s2s.Change("ab", "ab", "ba", "ab", -2.0, -1.0, -1.0)
    s2s.print_changes([change])
    assert capsys.readouterr().out.splitlines()[1].endswith("beam")
