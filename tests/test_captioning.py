"""Lecture 9's models: the CNN encoder, both decoders, decoding, training pieces and figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.nn import functional  # noqa: E402

from lstm_course import set_seed  # noqa: E402
from lstm_course.captioning import decode, failures, plots  # noqa: E402
from lstm_course.captioning import train as cap_train  # noqa: E402
from lstm_course.captioning.decoder import ShowAttendTell, ShowTell  # noqa: E402
from lstm_course.captioning.encoder import (  # noqa: E402
    SceneCNN,
    annotations,
    encode_images,
    grid_coords,
)
from lstm_course.data import scenes  # noqa: E402
from lstm_course.data.scenes import Scene, SceneSet, Thing  # noqa: E402
from lstm_course.train import fit  # noqa: E402

V = len(scenes.WordVocab.grammar())  # 17
L, D = 9, 10  # a 3 x 3 grid of 8 features + 2 coordinates


def _decoders(dtype=torch.float64):
    set_seed(0)
    return {
        "plain": ShowTell(V, D, L, embed_size=6, hidden_size=12, dtype=dtype),
        "h": ShowAttendTell(V, D, 6, 12, attn_size=5, query="h", dtype=dtype),
        "hw": ShowAttendTell(V, D, 6, 12, attn_size=5, query="hw", dtype=dtype),
    }


def _batch(B=4, T=7, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(L, B, D, generator=g, dtype=dtype)
    tgt_in = torch.randint(4, V, (T, B), generator=g)
    tgt_in[0] = scenes.WordVocab.bos_id
    return a, tgt_in


@pytest.fixture(scope="module")
def tiny_data():
    """24 x 24 scenes (a 3 x 3 grid), a random frozen encoder and its cached features."""
    set_seed(0)
    train = scenes.make_scene_set(96, seed=1, size=24)
    encoder = SceneCNN((8, 8, 8)).eval()
    return train, encoder, encode_images(encoder, train.images)


# ----- the encoder -----


def test_scene_cnn_shapes_and_errors():
    set_seed(0)
    cnn = SceneCNN((4, 6, 8), n_labels=7)
    images = torch.rand(2, 3, 48, 48)
    assert cnn.grid(images).shape == (2, 8, 6, 6)
    assert cnn(images).shape == (2, 7)
    with pytest.raises(TypeError, match="images must be a float"):
        cnn(torch.zeros(2, 3, 48, 48, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(B, 3, S, S\).*got \(2, 1, 48, 48\)"):
        cnn(torch.rand(2, 1, 48, 48))
    with pytest.raises(ValueError, match="divisible by 8"):
        cnn(torch.rand(2, 3, 44, 44))
    with pytest.raises(ValueError, match="S, S"):
        cnn(torch.rand(2, 3, 48, 40))
    with pytest.raises(ValueError, match="channels"):
        SceneCNN(())
    with pytest.raises(ValueError, match="n_labels"):
        SceneCNN(n_labels=0)


def test_annotations_are_the_grid_in_row_major_order_with_coordinates():
    grid = torch.randn(2, 5, 3, 4)  # (B, C, h, w)
    a = annotations(grid)
    assert a.shape == (12, 2, 7)
    for i in range(12):
        row, col = divmod(i, 4)
        assert torch.equal(a[i, :, :5], grid[:, :, row, col])
        assert torch.equal(a[i, 0, 5:], a[i, 1, 5:])  # the same position in every image
    xy = grid_coords(3, 4)
    assert torch.allclose(a[:, 0, 5:], xy)
    assert xy[:, 0].tolist()[:4] == pytest.approx([-0.75, -0.25, 0.25, 0.75])  # x along a row
    assert xy[::4, 1].tolist() == pytest.approx([-2 / 3, 0.0, 2 / 3])  # y down the rows
    assert xy.abs().max() < 1 and xy.mean(0).abs().max() < 1e-6  # they average out to 0
    assert annotations(grid, coords=False).shape == (12, 2, 5)
    with pytest.raises(ValueError, match=r"\(B, C, h, w\)"):
        annotations(torch.randn(2, 5, 3))


def test_encode_images_is_the_eval_mode_grid_in_any_batch_size(tiny_data):
    train, encoder, a = tiny_data
    encoder.train()
    x = train.images[:10].float() / 255
    by_3 = encode_images(encoder, train.images[:10], batch_size=3)
    assert encoder.training  # restored
    encoder.eval()
    with torch.no_grad():
        want = annotations(encoder.grid(x))
    assert by_3.shape == (9, 10, 10) and torch.allclose(by_3, want, atol=1e-6)
    assert torch.allclose(encode_images(encoder, x), want, atol=1e-6)  # float input, same
    assert torch.allclose(a[:, :10], want, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        encode_images(encoder, x, batch_size=0)


# ----- the decoders -----


@pytest.mark.parametrize("kind", ["plain", "h", "hw"])
def test_decoder_shapes_and_attention_weights(kind):
    model = _decoders()[kind]
    a, tgt_in = _batch()
    logits, alphas = model(a, tgt_in)
    assert logits.shape == (7, 4, V)
    if kind == "plain":
        assert alphas is None and model.attention is None
    else:
        assert alphas.shape == (7, L, 4)
        assert (alphas >= 0).all()
        torch.testing.assert_close(alphas.sum(1), torch.ones(7, 4, dtype=torch.float64))


@pytest.mark.parametrize("kind", ["plain", "h", "hw"])
def test_teacher_forcing_equals_step_by_step_decoding(kind):
    model = _decoders()[kind]
    a, tgt_in = _batch()
    logits, alphas = model(a, tgt_in)
    state, memory = model.start(a)
    for t in range(tgt_in.shape[0]):
        z, state, alpha = model.step(tgt_in[t], state, memory)
        torch.testing.assert_close(z, logits[t])
        if alpha is not None:
            torch.testing.assert_close(alpha, alphas[t])


def test_the_query_h_w_reads_the_last_word_and_h_does_not():
    models = _decoders()
    a, tgt_in = _batch(B=1, T=2)
    other = tgt_in.clone()
    other[1] = (tgt_in[1] - 4 + 1) % (V - 4) + 4  # another word at step 1
    for kind, changes in (("h", False), ("hw", True)):
        _, alphas = models[kind](a, tgt_in)
        _, alphas_other = models[kind](a, other)
        torch.testing.assert_close(alphas[:1], alphas_other[:1])  # step 0: same history
        assert (not torch.allclose(alphas[1], alphas_other[1])) == changes, kind


def test_show_tell_starts_from_an_image_vector_that_knows_where_each_feature_is():
    model = _decoders()["plain"]
    a, tgt_in = _batch(B=2)
    (h0, c0), memory = model.start(a)
    assert h0.shape == c0.shape == (1, 2, 12) and memory is None
    moved = a.clone()
    moved[:, 1] = a[:, 1].roll(1, dims=0)  # the same features at other positions
    z, _ = model(a, tgt_in)
    z_moved, _ = model(moved, tgt_in)
    torch.testing.assert_close(z[:, 0], z_moved[:, 0])
    assert not torch.allclose(z[:, 1], z_moved[:, 1])  # v = [a_1; ...; a_L] knows the order


def test_decoders_raise_clear_errors_on_wrong_inputs():
    models = _decoders()
    a, tgt_in = _batch()
    with pytest.raises(ValueError, match=r"ShowTell: a must have shape \(L, B, D\) with D = 10"):
        models["plain"](a[..., :6], tgt_in)
    with pytest.raises(ValueError, match="L = 9"):
        models["plain"](a[:4], tgt_in)
    with pytest.raises(ValueError, match="ShowAttendTell: a must have shape"):
        models["h"](a[0], tgt_in)
    with pytest.raises(TypeError, match="tgt_in must be an int64"):
        models["h"](a, tgt_in.float())
    with pytest.raises(ValueError, match=r"tgt_in must have shape \(T, B\).*B = 4"):
        models["hw"](a, tgt_in[:, :3])
    with pytest.raises(ValueError, match="query"):
        ShowAttendTell(V, D, query="w")


def test_device_and_dtype_arguments_are_honoured():
    for model in (
        ShowTell(V, D, L, 6, 12, device="cpu", dtype=torch.float64),
        ShowAttendTell(V, D, 6, 12, 5, device=torch.device("cpu"), dtype=torch.float64),
        SceneCNN((4, 4, 4), device="cpu", dtype=torch.float64),
    ):
        assert {(p.device.type, p.dtype) for p in model.parameters()} == {("cpu", torch.float64)}
    # a device without memory shows the argument reaches every parameter
    for model in (ShowTell(V, D, L, device="meta"), ShowAttendTell(V, D, device="meta")):
        assert {p.device.type for p in model.parameters()} == {"meta"}
    assert {p.device.type for p in SceneCNN(device="meta").parameters()} == {"meta"}


# ----- decoding -----


class ScriptedDecoder(torch.nn.Module):
    """Writes a fixed caption per image: script[t][b] is the word of image b at step t."""

    def __init__(self, script):
        super().__init__()
        self.script = torch.tensor(script)
        self.weight = torch.nn.Parameter(torch.zeros(1))  # for the device
        self.attention = None
        self.steps = 0

    def start(self, a):
        return torch.tensor(0), None

    def step(self, w_prev, state, memory):
        self.steps += 1
        t = int(state)
        words = self.script[min(t, len(self.script) - 1)]
        return functional.one_hot(words, V).double() * 10, state + 1, None


def test_greedy_stops_at_eos_and_pads_with_eos():
    eos = scenes.WordVocab.eos_id
    model = ScriptedDecoder([[5, 5], [eos, 6], [9, 7], [9, eos], [9, 9], [9, 9]])
    ids, alphas = decode.greedy(model, torch.zeros(L, 2, D), max_len=12)
    assert alphas is None
    assert ids[:, 0].tolist() == [5, eos, eos, eos]  # padded with <eos> after its end
    assert ids[:, 1].tolist() == [5, 6, 7, eos]
    assert model.steps == 4  # stopped once every caption had ended
    cut, _ = decode.greedy(model, torch.zeros(L, 2, D), max_len=2)
    assert cut.shape == (2, 2)
    with pytest.raises(ValueError, match="max_len"):
        decode.greedy(model, torch.zeros(L, 2, D), max_len=0)


def test_greedy_follows_the_argmax_and_keeps_the_training_mode():
    model = _decoders()["hw"]
    a, _ = _batch(B=3)
    model.train()
    ids, alphas = decode.greedy(model, a, max_len=5)
    assert model.training
    assert ids.shape[1] == 3 and alphas.shape == (ids.shape[0], L, 3)
    # fed back as teacher-forcing inputs, each word is the argmax after the words before it
    bos = torch.full((1, 3), scenes.WordVocab.bos_id)
    with torch.no_grad():
        logits, _ = model(a, torch.cat([bos, ids[:-1]]))
    for b in range(3):
        column = ids[:, b].tolist()
        n = column.index(2) + 1 if 2 in column else len(column)
        assert logits[:n, b].argmax(-1).tolist() == column[:n]


@pytest.mark.parametrize("kind", ["plain", "hw"])
def test_beam_of_width_one_is_greedy(kind):
    model = _decoders()[kind]
    a, _ = _batch(B=3)
    vocab = scenes.WordVocab.grammar()
    ids, _ = decode.greedy(model, a, max_len=6)
    for b in range(3):
        hyp = decode.beam(model, a[:, b], beam_width=1, max_len=6)
        assert list(hyp.ids) == ids[: len(hyp.ids), b].tolist()
    assert decode.beam_captions(model, a, vocab, 1, 6) == decode.captions(model, a, vocab, 6)
    with pytest.raises(ValueError, match=r"a_one must have shape \(L, D\)"):
        decode.beam(model, a, beam_width=2)


# ----- training -----


def test_caption_loss_is_the_mean_cross_entropy_over_real_positions(tiny_data):
    train, _, a = tiny_data
    vocab = scenes.WordVocab.grammar()
    dataset = cap_train.FeatureCaptions(a, train.captions, vocab)
    batch = cap_train.feature_collate([dataset[k] for k in range(8)])
    set_seed(0)
    model = ShowAttendTell(V, a.shape[-1], 6, 12, 5, query="hw")
    loss, metrics = cap_train.caption_loss(model, batch)
    logits, _ = model(batch.a, batch.tgt_in)
    nll = [
        functional.cross_entropy(logits[t, b], batch.tgt_out[t, b]).item()
        for t in range(logits.shape[0])
        for b in range(8)
        if batch.tgt_mask[t, b]
    ]
    assert loss.item() == pytest.approx(np.mean(nll), rel=1e-5)
    assert 0 <= metrics["word_acc"].item() <= 1
    per_position = cap_train.loss_by_position(model, a[:, :8], train.captions[:8], vocab)
    counts = batch.tgt_mask.sum(1).numpy()
    assert per_position.shape == (logits.shape[0],)
    assert np.sum(per_position * counts) / counts.sum() == pytest.approx(loss.item(), rel=1e-5)
    with pytest.raises(ValueError, match="N = len"):
        cap_train.FeatureCaptions(a, train.captions[:5], vocab)


def _train(a, captions, steps=40):
    vocab = scenes.WordVocab.grammar()
    set_seed(0)
    model = ShowAttendTell(V, a.shape[-1], 8, 16, 8, query="hw", device="cpu")
    dataset = cap_train.FeatureCaptions(a, captions, vocab)
    loader = cap_train.make_feature_loader(dataset, batch_size=16, seed=0)
    history = fit(
        model, loader, cap_train.caption_loss, steps=steps, lr=1e-2, device="cpu", progress=False
    )
    return model, history


def test_a_short_seeded_training_run_lowers_the_loss_and_repeats_exactly(tiny_data):
    train, _, a = tiny_data
    model, history = _train(a, train.captions)
    again, history_again = _train(a, train.captions)
    assert np.mean(history.loss[-5:]) < 0.6 * np.mean(history.loss[:5])
    assert history.loss == history_again.loss
    for p, q in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_caption_scores_and_the_bleu_eval_fn(tiny_data):
    train, _, a = tiny_data
    vocab = scenes.WordVocab.grammar()
    set_seed(0)
    model = ShowAttendTell(V, a.shape[-1], 6, 12, 5, query="hw")
    written = decode.captions(model, a[:, :6], vocab, max_len=9, batch_size=4)
    scores = cap_train.caption_scores(model, a[:, :6], train.references[:6], vocab, max_len=9)
    exact = np.mean([w in r for w, r in zip(written, train.references[:6], strict=True)])
    assert scores["exact"] == exact
    assert set(scores) == {"bleu1", "bleu2", "bleu3", "bleu4", "exact"}
    evaluate = cap_train.bleu_eval_fn(a[:, :6], train.references[:6], vocab, max_len=9)
    assert evaluate(model) == {"val_bleu4": scores["bleu4"]}


def test_attribute_loss_and_accuracy(tiny_data):
    train, encoder, _ = tiny_data
    batch = scenes.scene_collate([scenes.SceneCaptions(train)[k] for k in range(6)])
    loss, metrics = cap_train.attribute_loss(encoder, batch)
    logits = encoder(batch.images)
    assert loss.item() == pytest.approx(
        functional.binary_cross_entropy_with_logits(logits, batch.labels).item()
    )
    acc = cap_train.attribute_accuracy(encoder, train.images[:6], train.labels[:6], batch_size=4)
    right = ((logits > 0).float() == batch.labels).detach()
    assert acc["label_acc"] == pytest.approx(right.float().mean().item())
    assert acc["exact"] == pytest.approx(right.all(1).float().mean().item())


# ----- failures: which slots a caption gets wrong -----

SCENE = Scene(Thing("red", "circle", 0, 0), Thing("blue", "square", 0, 2))
OTHER = Scene(Thing("green", "triangle", 2, 1), Thing("red", "triangle", 0, 1))
WRITTEN = [
    "a red circle left of a blue square",  # right
    "a green triangle below a red triangle",  # right
    "a red circle left of a red square",  # colour 2 wrong
    "a red triangle above a red triangle",  # one object twice: colour 2 wrong
    "a red circle above a red circle",  # relation, colour 2, shape 2 wrong
    "a red circle",  # ungrammatical
]
SET = SceneSet([SCENE, OTHER, SCENE, OTHER, SCENE, SCENE], None, None, None, None)


def test_error_counts_sort_captions_by_their_wrong_slots():
    kinds, slots = failures.error_counts(WRITTEN, SET)
    assert kinds == {"right": 2, "one slot wrong": 2, "two or more wrong": 1, "ungrammatical": 1}
    assert slots == {"colour_1": 0, "shape_1": 0, "relation": 1, "colour_2": 3, "shape_2": 1}
    with pytest.raises(ValueError, match="one caption per scene"):
        failures.error_counts(WRITTEN[:2], SET)


def test_examples_by_errors_takes_the_first_of_each_kind():
    groups = failures.examples_by_errors(WRITTEN, SET, n=1)
    assert groups == {"right": [0], "one slot wrong": [2], "two or more wrong": [4]}
    groups = failures.examples_by_errors(WRITTEN, SET, n=5)
    assert groups["two or more wrong"] == [4, 5]  # ungrammatical counts as more wrong


def test_held_out_pairs_and_repeated_objects_are_counted_from_the_slots():
    assert failures.held_out_named(WRITTEN) == 3  # blue square in 0, red triangle in 1 and 3
    assert failures.held_out_named(["a red circle left of a green triangle", "a red"]) == 0
    assert failures.repeated_objects(WRITTEN) == 2
    assert failures.repeated_objects(["a red circle left of a red square", "a red"]) == 0


def test_print_errors_prints_a_row_per_model_and_split(capsys):
    failures.print_errors({"test": {"m1": WRITTEN, "m2": WRITTEN[::-1]}}, {"test": SET})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[1].split()[:5] == ["m1", "test", "2", "2", "1"]
    assert lines[1].endswith("(1 ungrammatical)")


# ----- figures -----


def test_figures_draw_on_the_axes_they_are_given():
    image = torch.randint(0, 256, (3, 24, 24), dtype=torch.uint8)
    assert plots.as_rgb(image).shape == (24, 24, 3) and plots.as_rgb(image).max() <= 1
    with pytest.raises(ValueError, match="image"):
        plots.as_rgb(np.zeros((24, 24, 3)))
    fig, axes = plt.subplots(1, 4)
    m = np.full((3, 3), 1 / 9)
    m[0, 0] = 0.5
    plots.overlay(axes[0], image, m / m.sum(), "a")
    with pytest.raises(ValueError, match="alpha_map"):
        plots.overlay(axes[0], image, np.ones((5, 5)))

    class Att:
        words = ["a", "<eos>"]
        maps = np.stack([m, m])

    plots.plot_word_attention(axes, image, Att)
    assert axes[1].get_title().startswith("a ") and not axes[3].axison
    with pytest.raises(ValueError, match="axes"):
        plots.plot_word_attention(axes[:2], image, Att)
    plt.close(fig)


def test_plot_examples_colours_each_kind_and_names_the_wrong_slots():
    s = scenes.make_scene_set(3, seed=0, size=24)
    written = [s.captions[0], s.references[1][1], "a red"]
    groups = {"right": [0, 1], "two or more wrong": [2]}
    fig, axes = plt.subplots(2, 3)
    plots.plot_examples(axes, s, groups, written)
    assert " ".join(axes[0, 0].get_title().split()) == s.captions[0]
    assert axes[0, 0].title.get_color() == plots.KIND_COLORS["right"]
    assert axes[0, 1].get_xlabel() == ""  # a right caption needs no reference
    assert axes[1, 0].title.get_color() == plots.KIND_COLORS["two or more wrong"]
    assert "wrong: grammar" in axes[1, 0].get_xlabel()
    assert not axes[0, 2].axison and not axes[1, 1].axison
    with pytest.raises(ValueError, match="row of axes per group"):
        plots.plot_examples(axes[:1], s, groups, written)
    plt.close(fig)
