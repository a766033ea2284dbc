"""Lecture 11's recipes on tiny settings: data splits, curricula, training, scores; the adder."""

import numpy as np
import pytest
import torch

from lstm_course.data.pairs import PairDataset, PairVocab, pair_collate
from lstm_course.data.programs import OUTPUT_CHARS, PROGRAM_CHARS, program_pairs
from lstm_course.experiments import binary_addition as ba
from lstm_course.experiments import execute as ex

TINY = ex.ExecuteSetup(
    length=2,
    nesting=2,
    n_per_level=300,
    n_test=40,
    n_dev=20,
    embed_size=8,
    hidden_size=24,
    batch_size=32,
    steps=40,
    eval_every=20,
    advance_at=0.05,
)


@pytest.fixture(scope="module")
def data():
    return ex.make_data(TINY)


def test_setup_checks_its_fields():
    with pytest.raises(ValueError, match="length"):
        ex.ExecuteSetup(length=0)
    with pytest.raises(ValueError, match="steps"):
        ex.ExecuteSetup(steps=2.5)
    with pytest.raises(ValueError, match="advance_at"):
        ex.ExecuteSetup(advance_at=0.0)
    with pytest.raises(ValueError, match="operations"):
        ex.ExecuteSetup(operations=("+", "**"))


def test_levels_follow_the_naive_order():
    assert ex.levels(TINY) == [(1, 1), (2, 1), (1, 2), (2, 2)]


def test_data_is_seeded_and_test_programs_are_unseen(data):
    again = ex.make_data(TINY)
    assert data.test == again.test and data.train == again.train
    assert set(data.train) == set(data.dev) == set(ex.levels(TINY))
    seen = {p.text for programs in data.train.values() for p in programs}
    assert not seen & {p.text for p in data.test}
    assert all((p.length, p.nesting) == (2, 2) for p in data.test)
    assert data.src_vocab == PairVocab(PROGRAM_CHARS) and data.tgt_vocab == PairVocab(OUTPUT_CHARS)


def test_strategies_draw_their_levels():
    def draws(strategy, n=2000):
        curriculum = ex.Curriculum(strategy, TINY, np.random.default_rng(0))
        return [curriculum.draw() for _ in range(n)]

    assert set(draws("baseline")) == {(2, 2)}
    assert set(draws("naive")) == {(1, 1)}
    mixed = draws("mix")
    assert set(mixed) == set(ex.levels(TINY))
    assert abs(mixed.count((2, 2)) / len(mixed) - 0.25) < 0.05
    combined = draws("combined")
    assert 0.55 < combined.count((1, 1)) / len(combined) < 0.7  # 1/2 naive + 1/8 mix
    with pytest.raises(ValueError, match="strategy"):
        ex.Curriculum("greedy", TINY, np.random.default_rng(0))


def test_naive_curriculum_moves_on_when_mastered_stuck_or_out_of_budget():
    # 1000 steps, an evaluation every 50: each of the 4 levels may use 20 / 4 = 5 of them
    setup = ex.with_budget(TINY, advance_at=0.9, patience=2, steps=1000, eval_every=50)
    curriculum = ex.Curriculum("naive", setup, np.random.default_rng(0))
    assert not curriculum.update(0.5)  # first measurement at this level
    assert curriculum.update(0.95) and curriculum.level() == (2, 1)  # mastered
    assert not curriculum.update(0.3)
    assert not curriculum.update(0.301)  # no real progress: waits once
    assert curriculum.update(0.302) and curriculum.level() == (1, 2)  # stuck twice: moves on
    for accuracy in (0.1, 0.2, 0.3, 0.4):  # steady progress, below advance_at
        assert not curriculum.update(accuracy)
    assert curriculum.update(0.5) and curriculum.level() == (2, 2)  # its share is used up
    assert not curriculum.update(1.0)  # the target is the last level
    assert not ex.Curriculum("mix", setup, np.random.default_rng(0)).update(1.0)


def test_batches_mix_levels_and_sort_by_length(data):
    datasets = {
        level: PairDataset(program_pairs(programs), data.src_vocab, data.tgt_vocab)
        for level, programs in data.train.items()
    }
    curriculum = ex.Curriculum("mix", TINY, np.random.default_rng(1))
    stream = iter(ex.ProgramBatches(datasets, curriculum, 8, np.random.default_rng(2), pool=5))
    batches = [next(stream) for _ in range(10)]
    for batch in batches:
        S, B = batch.src.shape
        assert B == 8 and batch.tgt_in.shape == batch.tgt_out.shape
        assert batch.src_lengths.max() == S
    spans = [int(b.src_lengths.max() - b.src_lengths.min()) for b in batches]
    assert np.mean(spans) < 12  # sorted pools: similar lengths share a batch


def test_char_accuracy_counts_characters_not_eos(data):
    pairs = program_pairs(data.test[:10])
    dataset = PairDataset(pairs, data.src_vocab, data.tgt_vocab)

    class Oracle(torch.nn.Module):  # knows the answers: its logits peak on the true outputs
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))  # a parameter, for its device

        def forward(self, src, src_lengths, tgt_in):
            return self.logits, None

    oracle = Oracle()
    batch = pair_collate([dataset[k] for k in range(10)])
    oracle.logits = torch.nn.functional.one_hot(batch.tgt_out, len(data.tgt_vocab)).float()
    assert ex.char_accuracy(oracle, pairs, dataset) == 1.0
    oracle.logits[..., PairVocab.eos_id] += 2.0  # always <eos>: every character wrong
    assert ex.char_accuracy(oracle, pairs, dataset) == 0.0


@pytest.fixture(scope="module")
def runs(data):
    return ex.compare_strategies(TINY, ("baseline", "combined"), progress=False)


def test_training_lowers_the_loss_and_is_reproducible(runs):
    run = runs["baseline"]
    loss = run.history.loss
    assert np.mean(loss[-10:]) < 0.8 * np.mean(loss[:5])
    again = ex.train_strategy("baseline", TINY, run.data, progress=False)
    assert again.history.loss == loss
    for a, b in zip(run.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert run.history.eval_steps == [20, 40]
    assert set(run.history.evals) == {"val_char", "val_exact"}


def test_the_combined_curriculum_records_its_stages(runs):
    run = runs["combined"]
    assert {"stage", "level_char"} <= set(run.history.evals)
    assert run.stages and run.stages[0] == (20, (2, 1))  # advance_at is tiny: moves at once


def test_scores_and_predictions(runs, data):
    run = runs["combined"]
    scores = ex.final_scores(run)
    assert 0.0 <= scores.char <= 1.0 and 0.0 <= scores.exact <= 1.0
    assert ex.final_scores(run) == scores  # deterministic
    by_level = ex.scores_by_level(run, data.dev)
    assert set(by_level) == set(ex.levels(TINY))
    outputs = ex.predictions(run, data.test[:5])
    assert len(outputs) == 5 and all(set(o) <= set(OUTPUT_CHARS) for o in outputs)
    with pytest.raises(ValueError, match="strategies"):
        ex.compare_strategies(TINY, ("baseline", "random"))


# ----- the binary adder -----


def test_adder_learns_and_generalises_to_longer_numbers():
    setup = ba.AdderSetup(hidden_size=8, n_train=512, steps=300, seed=0)
    run = ba.train_adder(setup, progress=False)
    assert np.mean(run.history.loss[-20:]) < 0.1 * np.mean(run.history.loss[:5])
    accuracy = ba.length_generalisation(run.model, (8, 24), n=300)
    assert accuracy[8] > 0.95 and accuracy[24] > 0.9
    again = ba.train_adder(setup, progress=False)
    assert again.history.loss == run.history.loss


def test_adder_inputs_and_tables():
    x = ba.operand_bits([5, 1], [3, 1], 3)
    assert x.shape == (4, 2, 2)
    assert x[:, 0, 0].tolist() == [1, 0, 1, 0] and x[:, 0, 1].tolist() == [1, 1, 0, 0]
    rows = ba.bit_table(5, 3, np.full(4, 0.9))
    assert [r[4] for r in rows] == [0, 0, 0, 1]  # 5 + 3 = 8 = 1000
    assert [r[5] for r in rows] == [1, 1, 1, 0]
    with pytest.raises(ValueError, match="non-negative"):
        ba.add(ba.wired_adder(), [-1], [2])
    with pytest.raises(ValueError, match="gain"):
        ba.wired_adder(gain=0.0)
    with pytest.raises(ValueError, match="n_bits"):
        ba.operand_bits(1, 1, 0)
