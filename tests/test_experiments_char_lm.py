"""The character LM recipe (lecture 6): data, loss in bits, held-out scoring, a tiny run."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional  # noqa: E402

from lstm_course.analysis.ngram import NGramLM  # noqa: E402
from lstm_course.experiments import char_lm  # noqa: E402
from lstm_course.models import CharLM  # noqa: E402

TEXT = "the cat sat on the mat. (a dog) 'sat' too.\n" * 40  # 1720 characters


def tiny_config(**changes):
    settings = dict(
        hidden_size=32, embed_size=8, seq_len=20, batch_size=4, steps=150, lr=3e-2,
        val_fraction=0.1, test_fraction=0.1, eval_every=75, eval_chars=150, seed=0,
    )  # fmt: skip
    settings.update(changes)
    return char_lm.CharLMConfig(**settings)


class Memoryless(nn.Module):
    """A model whose prediction depends on the current character only: no memory at all."""

    def __init__(self, V):
        super().__init__()
        self.table = nn.Embedding(V, V)

    def forward(self, x, state=None):
        return self.table(x), state


def test_load_char_data_splits_contiguously_and_builds_the_vocab_from_train():
    data = char_lm.load_char_data(tiny_config(), text=TEXT + "Z")
    assert data.text.train + data.text.val + data.text.test == TEXT + "Z"
    assert len(data.text.val) == len(data.text.test) == 172
    assert "Z" not in data.vocab.stoi  # only in the test part: it encodes to <unk>
    assert data.ids.test[-1].item() == data.vocab.unk_id
    assert torch.equal(data.ids.train, data.vocab.encode(data.text.train))


def test_lm_loss_is_the_cross_entropy_in_nats_and_reports_bits():
    torch.manual_seed(0)
    model = CharLM(5, 3, 4)
    x, y = torch.randint(0, 5, (6, 2)), torch.randint(0, 5, (6, 2))
    loss, metrics, state = char_lm.lm_loss(model, (x, y), None)
    logits, _ = model(x)
    assert loss.item() == pytest.approx(
        functional.cross_entropy(logits.view(-1, 5), y.view(-1)).item()
    )
    assert metrics["bpc"].item() == pytest.approx(loss.item() / math.log(2))
    assert state[0].shape == (1, 2, 4)


@pytest.mark.parametrize("tracks", [1, 3, 7])
def test_char_nll_scores_every_character_after_all_the_text_of_its_piece(tracks):
    torch.manual_seed(0)
    model = CharLM(6, 3, 4)
    ids = torch.randint(0, 6, (23,))
    nll = char_lm.char_nll(model, ids, tracks=tracks)
    assert nll.shape == (22,) and nll.dtype == torch.float64
    L = -(-22 // tracks)
    for start in range(0, 22, L):  # each piece, read on its own from a zero state
        stop = min(start + L, 22)
        logits, _ = model(ids[start:stop].view(-1, 1))
        expected = functional.cross_entropy(
            logits[:, 0], ids[start + 1 : stop + 1], reduction="none"
        )
        torch.testing.assert_close(nll[start:stop], expected.double(), atol=1e-5, rtol=1e-5)


def test_a_uniform_model_scores_log2_of_the_vocabulary_size():
    model = CharLM(8, 3, 4)
    nn.init.zeros_(model.out.weight)
    nn.init.zeros_(model.out.bias)
    assert char_lm.bits_per_char(model, torch.arange(8).repeat(5)) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="at least 2"):
        char_lm.char_nll(model, torch.tensor([1]))


def test_held_out_bpc_scores_every_model_on_the_same_characters():
    data = char_lm.load_char_data(tiny_config(), text=TEXT)
    torch.manual_seed(0)
    model = CharLM(len(data.vocab), 3, 4)
    out = char_lm.held_out_bpc(data, model, split="val", orders=(1, 2, 3))
    assert list(out) == ["LSTM", "unigram", "bigram", "trigram"]
    V = len(data.vocab)
    bigram = NGramLM(2, V).fit(data.ids.train).bits_per_char(data.ids.val, first=2)
    assert out["bigram"] == pytest.approx(bigram)
    lstm = char_lm.char_nll(model, data.ids.val)[1:].mean().item() / math.log(2)
    assert out["LSTM"] == pytest.approx(lstm)
    assert out["trigram"] < out["bigram"] < out["unigram"]  # the text repeats a sentence
    assert list(char_lm.held_out_bpc(data, orders=(1, 2))) == ["unigram", "bigram"]
    with pytest.raises(ValueError, match="split"):
        char_lm.held_out_bpc(data, split="train")


def test_wiped_memory_costs_nothing_for_a_model_without_memory():
    torch.manual_seed(0)
    ids = torch.randint(0, 5, (300,))
    wiped = char_lm.wiped_memory(Memoryless(5), ids, length=16, shifts=4, tracks=3)
    assert wiped.positions.tolist() == list(range(1, 16))
    assert abs(wiped.excess_bits).max() < 1e-9  # every character compared with itself
    assert wiped.full_bpc == pytest.approx(wiped.wiped_bpc)


def test_wiped_memory_excess_is_the_gap_between_the_two_readings():
    torch.manual_seed(0)
    model = CharLM(5, 3, 8)
    ids = torch.randint(0, 5, (200,))
    wiped = char_lm.wiped_memory(model, ids, length=10, shifts=2)
    assert wiped.excess_bits.shape == (9,)
    assert wiped.excess_bits.mean() == pytest.approx(wiped.wiped_bpc - wiped.full_bpc)
    with pytest.raises(ValueError, match="length"):
        char_lm.wiped_memory(model, ids, length=1)


def test_a_tiny_run_learns_the_text_beats_the_bigram_and_repeats_exactly():
    config = tiny_config()
    data = char_lm.load_char_data(config, text=TEXT)
    run = char_lm.train_char_lm(config, data, progress=False)
    history = run.history
    assert history.steps == 150 and history.eval_steps == [75, 150]
    assert len(history.metrics["bpc"]) == 150 and len(history.metrics["lr"]) == 150
    assert history.metrics["lr"][0] == pytest.approx(3e-2)  # cosine from lr down to 0
    assert history.metrics["lr"][75] == pytest.approx(1.5e-2)
    assert history.metrics["lr"][-1] < 1e-4
    scores = char_lm.held_out_bpc(data, run.model, split="test", orders=(1, 2))
    assert scores["LSTM"] < scores["bigram"] < scores["unigram"]
    assert not run.model.training
    again = char_lm.train_char_lm(config, data, progress=False)
    assert again.history.loss == history.loss  # seeded: the same run twice


def test_plot_bpc_draws_the_curves_and_the_baselines():
    config = tiny_config(steps=4, eval_every=2)
    data = char_lm.load_char_data(config, text=TEXT)
    run = char_lm.train_char_lm(config, data, progress=False)
    fig, ax = plt.subplots()
    char_lm.plot_bpc(ax, run.history, {"unigram": 4.0, "bigram": 3.0}, smooth=2)
    assert ax.get_ylabel() == "bits per character"
    assert len(ax.get_lines()) == 4  # training, validation, two baselines
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[2:] == ["unigram: 4.00", "bigram: 3.00"]
    plt.close(fig)


def test_moving_average_averages_runs_of_n():
    torch.testing.assert_close(
        char_lm.moving_average([1.0, 2.0, 3.0, 4.0], 2),
        torch.tensor([1.5, 2.5, 3.5], dtype=torch.float64),
    )


def test_plot_wiped_memory_marks_the_training_window():
    torch.manual_seed(0)
    wiped = char_lm.wiped_memory(CharLM(5, 3, 4), torch.randint(0, 5, (120,)), length=12)
    fig, ax = plt.subplots()
    char_lm.plot_wiped_memory(ax, wiped, seq_len=8)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "symlog"
    lines = ax.get_lines()
    assert list(lines[0].get_xdata()) == list(range(1, 12))
    assert list(lines[-1].get_xdata()) == [8, 8]  # the vertical line at T
    plt.close(fig)


def test_plot_char_bits_labels_each_scored_character():
    fig, ax = plt.subplots()
    char_lm.plot_char_bits(ax, "ab c\n", [1.0, 2.0, 3.0, 0.5])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b", "\u2423", "c", "\\n"]
    assert [p.get_height() for p in ax.patches] == [1.0, 2.0, 3.0, 0.5]
    with pytest.raises(ValueError, match="bits"):
        char_lm.plot_char_bits(ax, "abc", [1.0])
    plt.close(fig)
