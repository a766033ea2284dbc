"""Lecture 9's recipes on tiny settings, and the measurements the lecture prints."""

import numpy as np
import pytest
import torch
from torch.nn import functional

from lstm_course.captioning.decoder import ShowAttendTell, ShowTell
from lstm_course.data import scenes
from lstm_course.data.scenes import Scene, SceneSet, Thing
from lstm_course.experiments import captioning as cap

TINY = cap.with_budget(
    cap.SETUP,
    n_pretrain=64,
    n_train=96,
    n_val=8,
    n_test=16,
    n_novel=12,
    image_size=24,
    channels=(8, 8, 8),
    cnn_steps=6,
    embed_size=8,
    hidden_size=16,
    attn_size=8,
    batch_size=16,
    steps=10,
    eval_every=5,
)
GRID_SHAPE = (3, 3)  # a 24 x 24 image through three 2 x 2 poolings


@pytest.fixture(scope="module")
def pipeline():
    data = cap.make_data(TINY)
    encoder = cap.pretrain_encoder(TINY, data, progress=False)
    features = cap.cache_features(encoder.model, data)
    runs = cap.train_decoders(TINY, data, features, progress=False)
    return data, encoder, features, runs


def test_the_recipe_is_the_lectures():
    assert cap.SETUP.steps == 1000 and cap.SETUP.cnn_steps == 300
    assert (cap.SETUP.n_train, cap.SETUP.n_test, cap.SETUP.n_novel) == (4000, 1000, 500)
    assert cap.SETUP.image_size // 2 ** len(cap.SETUP.channels) == 6  # a 6 x 6 grid
    assert cap.NAMES == {
        "plain": "no attention",
        "h": "attention, query h",
        "hw": "attention, query h+w",
    }
    assert set(cap.COLORS) == set(cap.NAMES.values())


def test_the_pipeline_shapes(pipeline):
    data, encoder, features, runs = pipeline
    assert {k: len(s.scenes) for k, s in data.splits.items()} == {
        "pretrain": 64,
        "train": 96,
        "val": 8,
        "test": 16,
        "novel": 12,
    }
    assert not encoder.model.training
    assert not any(p.requires_grad for p in encoder.model.parameters())  # frozen
    assert set(encoder.accuracy) == {"test", "novel"}
    for acc in encoder.accuracy.values():
        assert 0 <= acc["exact"] <= acc["label_acc"] <= 1
    assert set(features) == {"train", "val", "test", "novel"}  # no features for pretraining
    assert features["test"].shape == (9, 16, 8 + 2)
    assert list(runs) == list(cap.NAMES.values())
    assert isinstance(runs["no attention"].model, ShowTell)
    assert runs["attention, query h+w"].model.query == "hw"
    for run in runs.values():
        steps, bleu4 = run.history.series("val_bleu4")
        assert list(steps) == [5, 10] and all(0 <= b <= 1 for b in bleu4)
        assert {p.device.type for p in run.model.parameters()} == {"cpu"}


def test_pretraining_lowers_the_classifier_loss(pipeline):
    _, encoder, _, _ = pipeline
    loss = encoder.history.loss
    assert np.mean(loss[-2:]) < np.mean(loss[:2])


def test_training_is_reproducible_and_honours_device(pipeline):
    data, _, features, runs = pipeline
    again = cap.train_decoder(TINY, "hw", data, features, progress=False, device="cpu")
    first = runs["attention, query h+w"]
    assert again.history.loss == first.history.loss
    for p, q in zip(again.model.parameters(), first.model.parameters(), strict=True):
        assert torch.equal(p, q)
    meta = cap.make_decoder(TINY, "h", data.vocab, features["train"], device="meta")
    assert {p.device.type for p in meta.parameters()} == {"meta"}
    with pytest.raises(ValueError, match="kind"):
        cap.make_decoder(TINY, "hh", data.vocab, features["train"])
    with pytest.raises(ValueError, match=r"\(L, N, D\)"):
        cap.make_decoder(TINY, "h", data.vocab, features["train"][0])


def test_scores_and_losses_by_position(pipeline, capsys):
    data, _, features, runs = pipeline
    table = cap.score_table(runs, data, features)
    assert set(table) == set(runs)
    for by_split in table.values():
        assert set(by_split) == {"test", "novel"}
        for s in by_split.values():
            assert all(0 <= s[k] <= 1 for k in ("bleu1", "bleu2", "bleu3", "bleu4", "exact"))
            assert s["bleu1"] >= s["bleu4"]
    cap.print_scores(table)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["model", "split"] and len(lines) == 1 + 3 * 2
    losses = cap.position_losses(runs, data, features)
    longest = max(len(c.split()) for c in data.splits["test"].captions) + 1
    assert all(loss.shape == (longest,) and (loss > 0).all() for loss in losses.values())
    written = cap.written(runs, data, features, "novel")
    assert all(len(w) == 12 for w in written.values())


def test_attention_words_gives_one_map_per_written_word(pipeline):
    data, _, features, runs = pipeline
    run = runs["attention, query h"]
    att = cap.attention_words(run, features["test"][:, 0], data.vocab, GRID_SHAPE)
    assert att.maps.shape == (len(att.words), 3, 3)
    np.testing.assert_allclose(att.maps.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert att.words[-1] == "<eos>" or len(att.words) == cap.MAX_LEN
    with pytest.raises(ValueError, match="attention"):
        cap.attention_words(runs["no attention"], features["test"][:, 0], data.vocab, (3, 3))
    with pytest.raises(ValueError, match="grid_shape"):
        cap.attention_words(run, features["test"][:, 0], data.vocab, (2, 4))


def test_cell_weights_sum_the_grid_over_the_scenes_cells():
    m = np.arange(36, dtype=float).reshape(6, 6)
    cells = cap.cell_weights(m)
    assert cells.shape == (3, 3) and cells.sum() == m.sum()
    assert cells[0, 0] == 0 + 1 + 6 + 7 and cells[2, 1] == 26 + 27 + 32 + 33
    assert np.array_equal(cap.cell_weights(np.eye(3)), np.eye(3))
    with pytest.raises(ValueError, match="alpha_map"):
        cap.cell_weights(np.ones((4, 4)))


# ----- attention by word, with a decoder whose words and weights are known -----

SCENE = Scene(Thing("red", "circle", 0, 0), Thing("blue", "square", 0, 2))
VOCAB = scenes.WordVocab.grammar()


class LookingDecoder(torch.nn.Module):
    """Writes ``text`` for every image, and puts alpha_t on the grid cell ``looks[t]`` (row,
    col of a 3 x 3 grid) or spreads it evenly (None)."""

    def __init__(self, text, looks):
        super().__init__()
        self.ids = [*VOCAB.encode(text), VOCAB.eos_id]
        self.looks = looks
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.attention = "scripted"

    def start(self, a):
        return 0, a.shape[1]

    def step(self, w_prev, t, B):
        logits = functional.one_hot(torch.tensor(self.ids[t]), len(VOCAB)).float().repeat(B, 1)
        alpha = torch.full((9, B), 1 / 9)
        if self.looks[t] is not None:
            alpha = torch.zeros(9, B)
            alpha[3 * self.looks[t][0] + self.looks[t][1]] = 1.0
        return logits, t + 1, alpha


def _one_scene_set(scene, n=2):
    refs = scenes.references(scene)
    return SceneSet([scene] * n, None, [refs[0]] * n, [refs] * n, None)


def test_attention_by_word_splits_the_weight_between_the_named_objects():
    # Named second first: "a blue square right of a red circle"; the blue square is at (0, 2).
    looks = [(0, 2), None, (0, 2), (1, 1), (0, 0), (0, 0), (0, 0), (0, 0), None]
    run = cap.DecoderRun(
        LookingDecoder("a blue square right of a red circle", looks), None, "hw", "x"
    )
    result = cap.attention_by_word(run, torch.zeros(9, 2, 4), _one_scene_set(SCENE), VOCAB, (3, 3))
    assert result.captions == 2
    roles = ["a", "colour 1", "shape 1", "relation", "a", "colour 2", "shape 2", "<eos>"]
    assert result.roles == roles
    want = [
        [1, 0, 0],  # "a": on the blue square, named first
        [1 / 9, 1 / 9, 7 / 9],  # "blue": spread evenly
        [1, 0, 0],  # "square"
        [0, 0, 1],  # "right": the empty centre
        [0, 1, 0],  # the second "a" (step 5, after "of"): on the red circle
        [0, 1, 0],
        [0, 1, 0],
        [1 / 9, 1 / 9, 7 / 9],  # <eos>
    ]
    np.testing.assert_allclose(result.weights, want, atol=1e-6)
    cap.print_attention_by_word(result)


def test_attention_by_word_uses_only_right_captions():
    wrong = LookingDecoder("a red circle left of a red square", [None] * 9)
    run = cap.DecoderRun(wrong, None, "hw", "x")
    with pytest.raises(ValueError, match="no caption was right"):
        cap.attention_by_word(run, torch.zeros(9, 2, 4), _one_scene_set(SCENE), VOCAB, (3, 3))
    plain = cap.DecoderRun(ShowTell(17, 4, 9), None, "plain", "no attention")
    with pytest.raises(ValueError, match="attention"):
        cap.attention_by_word(plain, torch.zeros(9, 2, 4), _one_scene_set(SCENE), VOCAB, (3, 3))


def test_show_attend_tell_is_what_make_decoder_builds(pipeline):
    data, _, features, _ = pipeline
    model = cap.make_decoder(TINY, "h", data.vocab, features["train"])
    assert isinstance(model, ShowAttendTell) and model.query == "h"
    assert model.attention.key_size == features["train"].shape[-1]
