"""Seq2Seq: shapes, padding never leaks, greedy == beam of width 1, and it learns a task."""

import numpy as np
import pytest
import torch

from lstm_course import set_seed
from lstm_course.data.pairs import PairDataset, PairVocab, make_pair_loader, pair_collate
from lstm_course.data.translation import reversal_pairs
from lstm_course.seq2seq import (
    Seq2Seq,
    accuracy_by_length,
    beam,
    encode_sources,
    exact_match,
    greedy,
    log_prob,
    seq2seq_loss,
    translate,
)
from lstm_course.train import fit

ATTENTION = [None, "additive", "dot", "general"]
# (attention, form): every score in Bahdanau's form, and two in Luong's
VARIANTS = [(a, "bahdanau") for a in ATTENTION] + [("additive", "luong"), ("dot", "luong")]


def _batch(pairs, dataset):
    return pair_collate([dataset[k] for k in range(len(pairs))])


@pytest.fixture(scope="module")
def data():
    pairs = reversal_pairs(6, 2, 7, seed=0)
    return pairs, PairDataset(
        pairs, src_vocab=PairVocab("0123456789"), tgt_vocab=PairVocab("0123456789")
    )


def _model(attention, kind="LSTM", **kwargs):
    """A float64 model with seeded weights."""
    set_seed(0)
    return Seq2Seq(
        14, 14, embed_size=8, hidden_size=16, attention=attention, kind=kind, **kwargs
    ).double()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("attention", ATTENTION)
def test_forward_shapes_and_attention_weights(data, attention, kind):
    pairs, dataset = data
    batch = _batch(pairs, dataset)
    logits, weights = _model(attention, kind)(batch.src, batch.src_lengths, batch.tgt_in)
    T, B = batch.tgt_in.shape
    assert logits.shape == (T, B, 14)
    if attention is None:
        assert weights is None
        return
    S = batch.src.shape[0]
    assert weights.shape == (T, S, B)
    torch.testing.assert_close(weights.sum(1), torch.ones(T, B, dtype=weights.dtype))
    padded = torch.arange(S)[:, None] >= batch.src_lengths[None, :]  # (S, B)
    assert torch.all(weights[:, padded] == 0)


@pytest.mark.parametrize(("attention", "form"), VARIANTS)
def test_padding_never_changes_a_sequence_result(data, attention, form):
    """Each pair decoded alone gives the logits it gets inside a padded batch."""
    pairs, dataset = data
    model = _model(attention, form=form)
    batch = _batch(pairs, dataset)
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)
    for b in range(len(pairs)):
        alone = pair_collate([dataset[b]])
        mine, _ = model(alone.src, alone.src_lengths, alone.tgt_in)
        T = alone.tgt_in.shape[0]
        torch.testing.assert_close(mine[:, 0], logits[:T, b], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("attention", "form"), VARIANTS)
def test_teacher_forcing_equals_stepping_the_decoder(data, attention, form):
    pairs, dataset = data
    model = _model(attention, form=form)
    batch = _batch(pairs, dataset)
    logits, weights = model(batch.src, batch.src_lengths, batch.tgt_in)
    memory = model.encode(batch.src, batch.src_lengths)
    state = memory.state
    for i, y_prev in enumerate(batch.tgt_in.unbind(0)):
        z, state, alpha = model.decode_step(y_prev, state, memory)
        torch.testing.assert_close(z, logits[i], rtol=0, atol=1e-12)
        if attention is not None:
            torch.testing.assert_close(alpha, weights[i], rtol=0, atol=1e-12)


def test_the_two_forms_differ_only_in_the_query():
    """Bahdanau's decoder reads [E_y[y]; c] (8.5); Luong's reads E_y[y] alone (8.6)."""
    bahdanau, luong = _model("dot"), _model("dot", form="luong")
    assert bahdanau.decoder.input_size == 8 + 16 and luong.decoder.input_size == 8
    assert bahdanau.out.in_features == luong.out.in_features == 2 * 16
    assert _model(None, form="luong").form is None  # no attention: no form
    with pytest.raises(ValueError, match="form"):
        Seq2Seq(5, 5, attention="dot", form="vaswani")


@pytest.mark.parametrize(("attention", "form"), [(None, "bahdanau"), ("general", "luong")])
def test_log_prob_sums_the_step_log_probabilities_and_eos(data, attention, form):
    """Eq. (7.4) by teacher forcing equals feeding the text one step at a time."""
    pairs, dataset = data
    model = _model(attention, form=form)
    texts = [(source, text) for source, _ in pairs[:3] for text in ("5", "123", "99887")]
    got = log_prob(model, texts, dataset, batch_size=4)  # several batches, padded targets
    for (source, text), lp in zip(texts, got, strict=True):
        (src,) = encode_sources([source], dataset)
        memory = model.encode(src[:, None], torch.tensor([len(src)]))
        state, y, want = memory.state, torch.tensor([PairVocab.bos_id]), 0.0
        for token in [*dataset.tgt_vocab.encode(text), PairVocab.eos_id]:
            logits, state, _ = model.decode_step(y, state, memory)
            want += torch.log_softmax(logits[0], -1)[token].item()
            y = torch.tensor([token])
        assert lp == pytest.approx(want, abs=1e-10)


@pytest.mark.parametrize(
    ("attention", "form"), [(None, "bahdanau"), ("additive", "bahdanau"), ("dot", "luong")]
)
def test_greedy_equals_beam_of_width_one_and_wider_beams_score_no_worse(data, attention, form):
    pairs, dataset = data
    model = _model(attention, form=form)
    batch = _batch(pairs, dataset)
    ids, weights = greedy(model, batch.src, batch.src_lengths, max_len=9)
    assert (weights is None) == (attention is None)
    for b in range(len(pairs)):
        source = batch.src[: batch.src_lengths[b], b]
        one = beam(model, source, beam_width=1, max_len=9)
        column = ids[:, b].tolist()
        expected = column[: column.index(2) + 1] if 2 in column else column
        assert list(one.ids) == expected
        wide = beam(model, source, beam_width=4, max_len=9)
        assert wide.log_prob >= one.log_prob - 1e-12 or not one.finished


def test_it_learns_to_reverse_short_strings():
    set_seed(0)
    pairs = reversal_pairs(3000, 2, 5, seed=1)
    dataset = PairDataset(pairs, reverse_source=False)
    model = Seq2Seq(len(dataset.src_vocab), len(dataset.tgt_vocab), 16, 48, attention="dot")
    history = fit(
        model,
        make_pair_loader(dataset, 64),
        seq2seq_loss,
        steps=300,
        lr=1e-2,
        device="cpu",
        progress=False,
    )
    assert history.loss[-1] < 0.2 * history.loss[0]
    test = reversal_pairs(200, 2, 5, seed=2)
    assert exact_match(model, test, dataset, max_len=7) > 0.8
    by_length = accuracy_by_length(model, test, dataset, max_len=7)
    assert set(by_length) == {2, 3, 4, 5}
    assert translate(model, ["1234"], dataset, 7, beam_width=3) == translate(
        model, ["1234"], dataset, 7
    )
    assert exact_match(model, test[:20], dataset, 7, beam_width=3, length_penalty=1.0) > 0.8


def test_reversed_source_is_read_backwards_by_translate():
    pairs = [("12", "x")]
    forward, backward = PairDataset(pairs), PairDataset(pairs, reverse_source=True)
    assert forward[0][0].tolist() == backward[0][0].flip(0).tolist()


def test_bad_arguments_name_the_argument(data):
    pairs, dataset = data
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(5, 5, attention="bahdanau")
    with pytest.raises(ValueError, match="kind"):
        Seq2Seq(5, 5, kind="RNN")
    model = _model(None)
    batch = _batch(pairs, dataset)
    with pytest.raises(ValueError, match="src"):
        model(batch.src.float(), batch.src_lengths, batch.tgt_in)
    with pytest.raises(ValueError, match="src_lengths"):
        model(batch.src, batch.src_lengths[:2], batch.tgt_in)
    with pytest.raises(ValueError, match="tgt_in"):
        model(batch.src, batch.src_lengths, batch.tgt_in[:, :2])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runs_on_cuda(data):
    pairs, dataset = data
    model = _model("additive").cuda()
    batch = _batch(pairs, dataset).to("cuda")
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)
    assert logits.device.type == "cuda"
    ids, _ = greedy(model, batch.src, batch.src_lengths, 5)
    assert ids.device.type == "cuda"
    assert np.isfinite(beam(model, batch.src[:2, 0].cpu(), 2, 5).log_prob)
