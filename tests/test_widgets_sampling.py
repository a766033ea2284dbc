"""The sampling widget's computations: the next-character distribution and the samples."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lstm_course.data import Vocab  # noqa: E402
from lstm_course.models import CharLM  # noqa: E402
from lstm_course.widgets import sampling  # noqa: E402


@pytest.fixture
def lm():
    torch.manual_seed(0)
    vocab = Vocab("abc \n")
    model = CharLM(len(vocab), embed_size=4, hidden_size=8)
    with torch.no_grad():
        model.out.bias.copy_(torch.tensor([5.0, 2.0, 1.0, 0.0, -1.0, 0.5]))  # <unk> likeliest
    return model, vocab


def model_probs(model, vocab, prompt):
    """p(next | prompt) straight from the model, without <unk>, renormalised."""
    with torch.no_grad():
        logits, _ = model(vocab.encode(prompt).view(-1, 1))
    p = torch.softmax(logits[-1, 0].double(), -1).numpy()
    p[vocab.unk_id] = 0
    return p / p.sum()


def test_at_temperature_one_the_bars_are_the_models_probabilities(lm):
    model, vocab = lm
    dist = sampling.next_char_distribution(model, vocab, "ab c", temperature=1.0, k=5)
    p = model_probs(model, vocab, "ab c")
    order = np.argsort(-p)[:5]
    np.testing.assert_allclose(dist.probs, p[order], atol=1e-6)
    assert "<unk>" not in dist.chars and len(dist.chars) == 5
    shown = {"\n": "\\n", " ": "' '"}
    assert dist.chars == [shown.get(vocab.itos[i], vocab.itos[i]) for i in order]
    nonzero = p[p > 0]
    assert dist.entropy_bits == pytest.approx(-(nonzero * np.log2(nonzero)).sum(), abs=1e-6)


def test_a_low_temperature_sharpens_and_a_high_one_flattens(lm):
    model, vocab = lm
    cold = sampling.next_char_distribution(model, vocab, "a", temperature=0.05)
    warm = sampling.next_char_distribution(model, vocab, "a", temperature=1.0)
    hot = sampling.next_char_distribution(model, vocab, "a", temperature=20.0)
    assert cold.probs[0] > 0.99
    assert cold.entropy_bits < warm.entropy_bits < hot.entropy_bits
    assert hot.entropy_bits == pytest.approx(np.log2(5), abs=0.05)  # 5 characters, no <unk>
    with pytest.raises(ValueError, match="k must"):
        sampling.next_char_distribution(model, vocab, "a", k=0)


def test_samples_continue_the_prompt_and_depend_only_on_the_seed(lm):
    model, vocab = lm
    texts = sampling.temperature_samples(model, vocab, "ab", 1.0, n_samples=3, length=30, seed=4)
    assert len(texts) == 3 and all(t.startswith("ab") and len(t) == 32 for t in texts)
    assert all("<unk>" not in t for t in texts)
    again = sampling.temperature_samples(model, vocab, "ab", 1.0, n_samples=2, length=30, seed=4)
    assert again == texts[:2]
    assert len(set(texts)) > 1  # different seeds, different text
    with pytest.raises(ValueError, match="n_samples"):
        sampling.temperature_samples(model, vocab, "ab", n_samples=0)


def test_draw_next_char_labels_the_bars(lm):
    model, vocab = lm
    dist = sampling.next_char_distribution(model, vocab, "b", k=3)
    fig, ax = plt.subplots()
    sampling.draw_next_char(ax, dist, 0.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == dist.chars
    assert "tau = 0.50" in ax.get_title()
    plt.close(fig)


def test_explorer_redraws_when_the_temperature_or_the_prompt_changes(lm, monkeypatch):
    pytest.importorskip("ipywidgets")
    model, vocab = lm
    calls = []
    real = sampling.temperature_samples

    def recording(model, vocab, prompt, temperature, *args):
        calls.append((prompt, round(temperature, 4)))
        return real(model, vocab, prompt, temperature, *args)

    monkeypatch.setattr(sampling, "temperature_samples", recording)
    box = sampling.sampling_explorer(model, vocab, prompt="ab", length=10, n_samples=1)
    temperature, prompt, seed = box.children[0].children
    temperature.value = 0.5
    prompt.value = "ca"
    assert calls[-2:] == [("ab", 0.5), ("ca", 0.5)]
    plt.close("all")
