"""Lecture 9's scenes: rendering, the caption grammar, the splits, batching, and bad arguments."""

import re

import numpy as np
import pytest
import torch

from lstm_course.data import scenes
from lstm_course.data.scenes import Scene, Thing

# The grammar written out independently of the module: a COLOUR SHAPE RELATION a COLOUR SHAPE.
GRAMMAR = re.compile(
    r"^a (red|green|blue|yellow) (circle|square|triangle) (left of|right of|above|below) "
    r"a (red|green|blue|yellow) (circle|square|triangle)$"
)
LEFT_RIGHT = Scene(Thing("red", "circle", 1, 0), Thing("blue", "square", 1, 2))
ABOVE_BELOW = Scene(Thing("green", "triangle", 2, 1), Thing("yellow", "circle", 0, 1))


@pytest.fixture(scope="module")
def splits():
    return scenes.scene_splits(
        n_pretrain=200, n_train=300, n_val=20, n_test=50, n_novel=60, size=24, seed=3
    )


def test_relations_and_both_references():
    assert scenes.relation(*LEFT_RIGHT) == "left of"
    assert scenes.relation(LEFT_RIGHT.second, LEFT_RIGHT.first) == "right of"
    assert scenes.relation(*ABOVE_BELOW) == "below"  # row 0 is the top
    assert scenes.references(LEFT_RIGHT) == [
        "a red circle left of a blue square",
        "a blue square right of a red circle",
    ]
    assert scenes.references(ABOVE_BELOW)[1] == "a yellow circle above a green triangle"
    with pytest.raises(ValueError, match="share a row or a column"):
        scenes.relation(Thing("red", "circle", 0, 0), Thing("blue", "square", 1, 1))


def test_make_scene_set_is_deterministic_under_its_seed():
    one = scenes.make_scene_set(12, seed=5, size=24)
    two = scenes.make_scene_set(12, seed=5, size=24)
    other = scenes.make_scene_set(12, seed=6, size=24)
    assert torch.equal(one.images, two.images) and one.captions == two.captions
    assert one.scenes == two.scenes and torch.equal(one.labels, two.labels)
    assert not torch.equal(one.images, other.images)


def test_each_split_has_its_own_seed(splits):
    bigger_test = scenes.scene_splits(200, 300, 20, 80, 60, size=24, seed=3)
    assert torch.equal(bigger_test["train"].images, splits["train"].images)
    assert bigger_test["novel"].captions == splits["novel"].captions
    assert splits["test"].captions != splits["train"].captions[:50]


def test_shapes_dtypes_and_ranges(splits):
    for name, n in (("pretrain", 200), ("train", 300), ("val", 20), ("test", 50), ("novel", 60)):
        s = splits[name]
        assert s.images.shape == (n, 3, 24, 24) and s.images.dtype == torch.uint8
        assert s.labels.shape == (n, 7) and s.labels.dtype == torch.float32
        assert len(s.scenes) == len(s.captions) == len(s.references) == n
    image = scenes.render(LEFT_RIGHT, size=48, rng=np.random.default_rng(0))
    assert image.shape == (3, 48, 48) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_render_draws_each_object_in_its_colour_at_its_cell():
    image = scenes.render(LEFT_RIGHT, size=48)  # no rng: no jitter, no noise
    cell = 48 // scenes.GRID
    for thing in LEFT_RIGHT:
        y, x = int((thing.row + 0.5) * cell), int((thing.col + 0.5) * cell)
        np.testing.assert_allclose(image[:, y, x], scenes.COLOURS[thing.colour], atol=1e-6)
    np.testing.assert_allclose(image[:, 2, 2], scenes.BACKGROUND, atol=1e-6)  # a corner
    assert np.allclose(image[:, 2 * cell :, :], scenes.BACKGROUND)  # the bottom row is empty


def test_shapes_differ_in_the_image():
    a = scenes.render(Scene(Thing("red", "circle", 0, 0), Thing("blue", "square", 0, 2)), 48)
    b = scenes.render(Scene(Thing("red", "triangle", 0, 0), Thing("blue", "square", 0, 2)), 48)
    assert np.abs(a[:, :16, :16] - b[:, :16, :16]).max() > 0.5
    assert np.array_equal(a[:, :, 32:], b[:, :, 32:])


def test_captions_follow_the_grammar_and_describe_the_scene(splits):
    for s in splits.values():
        for scene, text, refs, labels in zip(
            s.scenes, s.captions, s.references, s.labels, strict=True
        ):
            assert GRAMMAR.match(text), text
            assert text == refs[0] and GRAMMAR.match(refs[1])
            first, second = scene
            assert (first.row == second.row) != (first.col == second.col)  # one line, two cells
            assert (first.colour, first.shape) != (second.colour, second.shape)
            words = text.split()
            assert (words[1], words[2]) == (first.colour, first.shape)
            assert (words[-2], words[-1]) == (second.colour, second.shape)
            present = {first.colour, first.shape, second.colour, second.shape}
            assert labels.tolist() == [float(a in present) for a in scenes.ATTRIBUTES]


def test_either_object_is_named_first_about_half_the_time(splits):
    train = splits["train"]
    left_first = sum(scenes.relation(*s) in ("left of", "above") for s in train.scenes)
    assert 0.35 < left_first / len(train.scenes) < 0.65


def _pairs(texts):
    out = set()
    for text in texts:
        p = scenes.parse_caption(text)
        out |= {(p.colour_1, p.shape_1), (p.colour_2, p.shape_2)}
    return out


def test_held_out_pairs_never_appear_in_the_captioning_data(splits):
    held_out = set(scenes.HELD_OUT)
    for name in ("train", "val", "test"):
        assert not _pairs(splits[name].captions) & held_out
        assert not any(
            p in text
            for p in ("red triangle", "green circle", "blue square")
            for text in splits[name].captions
        )
    assert _pairs(splits["train"].captions) == set(scenes.TYPES) - held_out
    for text in splits["novel"].captions:  # every novel scene holds one
        assert _pairs([text]) & held_out, text
    assert _pairs(splits["pretrain"].captions) == set(scenes.TYPES)  # the classifier sees all


def test_parse_caption_reads_back_the_slots():
    p = scenes.parse_caption("a red circle left of a blue square")
    assert p == ("red", "circle", "left of", "blue", "square")
    assert p.relation == "left of" and p.shape_2 == "square"
    assert scenes.parse_caption("a yellow triangle below a green circle").relation == "below"
    for bad in (
        "",
        "a red circle",
        "a red circle left a blue square",
        "a red dog above a red cat",
        "a red circle left of a blue square <eos>",
        "the red circle above a red square",
    ):
        assert scenes.parse_caption(bad) is None, bad
    with pytest.raises(TypeError, match="text"):
        scenes.parse_caption(["a", "red"])


def test_compare_caption_counts_wrong_slots_against_the_closer_reference():
    assert scenes.compare_caption("a blue square right of a red circle", LEFT_RIGHT) == (
        (),
        "a blue square right of a red circle",
    )
    wrong, ref = scenes.compare_caption("a red circle left of a red square", LEFT_RIGHT)
    assert wrong == ("colour_2",) and ref == "a red circle left of a blue square"
    wrong, ref = scenes.compare_caption("a blue circle right of a red circle", LEFT_RIGHT)
    assert wrong == ("shape_1",) and ref.startswith("a blue square")
    wrong, _ = scenes.compare_caption("a red circle above a red circle", LEFT_RIGHT)
    assert wrong == ("relation", "colour_2", "shape_2")
    assert scenes.compare_caption("a red circle", LEFT_RIGHT) == (None, scenes.caption(LEFT_RIGHT))


def test_word_vocab_encodes_and_decodes():
    vocab = scenes.WordVocab.grammar()
    assert len(vocab) == 17 and vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert vocab == scenes.WordVocab.from_captions(
        scenes.references(LEFT_RIGHT)
        + ["a green triangle above a yellow triangle", "a red circle below a blue circle"]
    )
    text = "a red circle left of a blue square"
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    assert vocab.decode([1, *ids, 2, 5, 5]) == text  # <bos> skipped, stops at <eos>
    assert vocab.encode("a purple circle")[1] == vocab.unk_id
    assert vocab.decode(vocab.encode("a purple circle")) == "a ? circle"
    with pytest.raises(ValueError, match="ids"):
        vocab.decode([4, 99])
    with pytest.raises(TypeError, match="text"):
        vocab.encode(3)
    with pytest.raises(ValueError, match="words"):
        scenes.WordVocab(["two words"])


def test_caption_tensors_are_time_major_with_bos_eos_and_mask():
    tgt_in, tgt_out, mask = scenes.caption_tensors([torch.tensor([5, 6, 7]), torch.tensor([8])])
    assert tgt_in.shape == tgt_out.shape == mask.shape == (4, 2)
    assert tgt_in[:, 0].tolist() == [1, 5, 6, 7] and tgt_out[:, 0].tolist() == [5, 6, 7, 2]
    assert tgt_in[:, 1].tolist() == [1, 8, 0, 0] and tgt_out[:, 1].tolist() == [8, 2, 0, 0]
    assert mask[:, 1].tolist() == [True, True, False, False] and mask[:, 0].all()
    with pytest.raises(ValueError, match="captions"):
        scenes.caption_tensors([])


def test_loader_batches_and_its_order_depends_only_on_the_seed(splits):
    dataset = scenes.SceneCaptions(splits["train"])
    image, ids, labels = dataset[0]
    assert image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1
    assert scenes.WordVocab.grammar().decode(ids) == splits["train"].captions[0]
    batch = next(iter(scenes.make_scene_loader(dataset, batch_size=16, seed=1)))
    assert batch.images.shape == (16, 3, 24, 24) and batch.labels.shape == (16, 7)
    assert batch.tgt_in.shape[1] == 16 and batch.tgt_in.dtype == torch.int64
    assert (batch.tgt_in[0] == scenes.WordVocab.bos_id).all()
    again = next(iter(scenes.make_scene_loader(dataset, batch_size=16, seed=1)))
    other = next(iter(scenes.make_scene_loader(dataset, batch_size=16, seed=2)))
    assert torch.equal(batch.images, again.images)
    assert not torch.equal(batch.images, other.images)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: scenes.make_scene_set(0), ValueError, "n must"),
        (lambda: scenes.make_scene_set(2.5), TypeError, "n must"),
        (lambda: scenes.make_scene_set(3, seed=-1), ValueError, "seed"),
        (lambda: scenes.make_scene_set(3, size=8), ValueError, "size"),
        (lambda: scenes.make_scene_set(3, types=[("red", "hexagon")]), ValueError, "types"),
        (lambda: scenes.make_scene_set(3, types=[("red", "circle")]), ValueError, "types"),
        (
            lambda: scenes.make_scene_set(3, must_include=[("pink", "circle")]),
            ValueError,
            "must_include",
        ),
        (lambda: scenes.scene_splits(n_train=0), ValueError, "n must"),
        (lambda: scenes.SceneCaptions([1, 2]), TypeError, "scene_set"),
        (lambda: scenes.make_scene_loader([], batch_size=0), ValueError, "batch_size"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()
