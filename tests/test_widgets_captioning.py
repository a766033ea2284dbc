"""Lecture 9's caption explorer: what it says for a word, and that it builds and redraws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course.data.scenes import Scene, Thing  # noqa: E402
from lstm_course.experiments import captioning as cap  # noqa: E402
from lstm_course.widgets import captioning as widget  # noqa: E402

SCENE = Scene(Thing("red", "circle", 0, 0), Thing("blue", "square", 0, 2))


def _maps(*cells):
    """One 6 x 6 map per (row, col) of the 3 x 3 scene grid, all weight in that cell's block."""
    maps = np.zeros((len(cells), 6, 6))
    for t, (row, col) in enumerate(cells):
        maps[t, 2 * row : 2 * row + 2, 2 * col : 2 * col + 2] = 0.25
    return maps


ATT = cap.WordAttention(["a", "red", "circle", "<eos>"], _maps((0, 0), (1, 1), (0, 0), (0, 2)))


def test_describe_step_names_the_object_in_the_heaviest_cell():
    assert widget.describe_step(SCENE, ATT, 0) == (
        "word 1 'a': 100% of the weight on cell (row 1, column 1), the red circle"
    )
    assert widget.describe_step(SCENE, ATT, 1).endswith("(row 2, column 2), the background")
    assert widget.describe_step(SCENE, ATT, 3).endswith("the blue square")
    with pytest.raises(ValueError, match="step"):
        widget.describe_step(SCENE, ATT, 4)


TINY = cap.with_budget(
    cap.SETUP,
    n_pretrain=32,
    n_train=64,
    n_val=4,
    n_test=6,
    n_novel=3,
    image_size=24,
    channels=(4, 4, 4),
    cnn_steps=2,
    embed_size=4,
    hidden_size=8,
    attn_size=4,
    batch_size=16,
    steps=2,
    eval_every=2,
)


@pytest.fixture(scope="module")
def trained():
    data = cap.make_data(TINY)
    encoder = cap.pretrain_encoder(TINY, data, progress=False)
    features = cap.cache_features(encoder.model, data)
    runs = cap.train_decoders(TINY, data, features, kinds=("plain", "hw"), progress=False)
    return runs, data, features


def test_caption_lines_list_the_references_and_each_models_caption(trained):
    runs, data, features = trained
    lines = widget.caption_lines(data.splits["test"], 1, runs, features["test"], data.vocab)
    refs = data.splits["test"].references[1]
    assert lines[0] == f"references: {refs[0]!r} / {refs[1]!r}"
    assert len(lines) == 1 + len(runs)
    for line, name in zip(lines[1:], runs, strict=True):
        assert line.strip().startswith(f"{name}:")
        assert line.endswith("(right)") or line.endswith("(wrong)")


def test_explorer_builds_without_a_display_and_redraws(trained, monkeypatch):
    pytest.importorskip("ipywidgets")
    runs, data, features = trained
    calls = []
    real = widget.attention_words

    def recording(run, a_one, vocab, grid_shape):
        calls.append(a_one)
        return real(run, a_one, vocab, grid_shape)

    monkeypatch.setattr(widget, "attention_words", recording)
    box = widget.caption_explorer(runs, data, features, "attention, query h+w", (3, 3))
    split, k = box.children[0].children
    step = box.children[1]
    assert split.options == ("test", "novel") and k.max == 5  # the larger split: 6 scenes
    n = len(calls)
    k.value = 4
    assert len(calls) == n + 1
    assert np.array_equal(calls[-1].numpy(), features["test"][:, 4].numpy())
    step.value = cap.MAX_LEN  # past the caption's end: shows its last word
    split.value = "novel"
    assert k.max == 2  # clamped to the novel split's 3 scenes
    assert np.array_equal(calls[-1].numpy(), features["novel"][:, k.value].numpy())
    plt.close("all")


def test_explorer_needs_a_model_with_attention(trained):
    pytest.importorskip("ipywidgets")
    runs, data, features = trained
    with pytest.raises(ValueError, match="attention_model"):
        widget.caption_explorer(runs, data, features, "no attention", (3, 3))
    with pytest.raises(ValueError, match="attention_model"):
        widget.caption_explorer(runs, data, features, "missing", (3, 3))
