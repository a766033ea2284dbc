"""Lecture 9's experiments: pre-train a CNN, freeze it, and train caption decoders on its grid.

* ``make_data``: the scene splits of ``lstm_course.data.scenes`` and the word vocabulary.
* ``pretrain_encoder``: the multi-label classifier (eq. 9.1) on the "pretrain" split.
* ``cache_features``: the frozen encoder's annotation vectors (9.2) of every captioning split,
  computed once.
* ``train_decoder``: one decoder ("plain": Show and Tell, 9.3; "h": Show, Attend and Tell,
  9.8; "hw": attention whose query also holds the last word, 9.9), same data, seed, budget.
* ``score_table``: corpus BLEU-1..4 and exact match of greedy captions on held-out scenes
  ("test") and on scenes with colour-shape pairs never captioned in training ("novel").
* ``attention_words``: the words of one greedy caption and the attention map of each;
  ``attention_by_word``: over many right captions, how much of alpha_t lies on the object
  named first, on the one named second, and elsewhere, word by word.

The failure analysis of greedy captions (which slots are wrong) is
``lstm_course.captioning.failures``.

Every recipe is a frozen ``CaptionSetup``, seeded, sized for a CPU at one thread.
"""

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import torch

from lstm_course import set_seed
from lstm_course.captioning.decode import captions as greedy_captions
from lstm_course.captioning.decode import greedy
from lstm_course.captioning.decoder import ShowAttendTell, ShowTell
from lstm_course.captioning.encoder import SceneCNN, encode_images
from lstm_course.captioning.train import (
    FeatureCaptions,
    attribute_accuracy,
    attribute_loss,
    bleu_eval_fn,
    caption_loss,
    caption_scores,
    loss_by_position,
    make_feature_loader,
)
from lstm_course.data.scenes import (
    GRID,
    SceneCaptions,
    WordVocab,
    compare_caption,
    make_scene_loader,
    scene_splits,
)
from lstm_course.train import fit

KINDS = ("plain", "h", "hw")
NAMES = {"plain": "no attention", "h": "attention, query h", "hw": "attention, query h+w"}
COLORS = {
    "no attention": "tab:red",
    "attention, query h": "tab:gray",
    "attention, query h+w": "tab:blue",
}
SPLITS = ("test", "novel")
MAX_LEN = 12  # the longest caption has 8 words; 12 leaves room to see a decoder ramble


@dataclass(frozen=True)
class CaptionSetup:
    """Lecture 9's recipe: data sizes, the encoder and its pre-training, the decoders.

    Attributes:
        n_pretrain, n_train, n_val, n_test, n_novel: scenes in each split.
        image_size: S. channels: the CNN's blocks. cnn_steps, cnn_lr: classifier pre-training.
        embed_size, hidden_size, attn_size: E, H, A of the decoders. batch_size: B.
        steps: decoder training steps. lr: Adam's rate, falling exponentially to
            lr * lr_decay at the last step. eval_every: steps between validation BLEU-4.
        seed: data, models and batch order.
    """

    n_pretrain: int = 4000
    n_train: int = 4000
    n_val: int = 200
    n_test: int = 1000
    n_novel: int = 500
    image_size: int = 48
    channels: tuple = (16, 32, 32)
    cnn_steps: int = 300
    cnn_lr: float = 3e-3
    embed_size: int = 32
    hidden_size: int = 128
    attn_size: int = 64
    batch_size: int = 64
    steps: int = 1000
    lr: float = 1e-2
    lr_decay: float = 0.1
    eval_every: int = 100
    seed: int = 0


SETUP = CaptionSetup()


class CaptionData(NamedTuple):
    """The splits ({"pretrain", "train", "val", "test", "novel"} -> ``SceneSet``), the vocab."""

    splits: dict
    vocab: WordVocab


class EncoderRun(NamedTuple):
    """The pre-trained ``SceneCNN``, its ``fit`` history, and its accuracy on each split."""

    model: SceneCNN
    history: object
    accuracy: dict


class DecoderRun(NamedTuple):
    """A trained decoder, its ``fit`` history (``val_bleu4`` every ``eval_every`` steps),
    its kind ("plain", "h" or "hw") and display name."""

    model: torch.nn.Module
    history: object
    kind: str
    name: str


def make_data(setup=SETUP):
    """Render every split of the setup (seeded)."""
    splits = scene_splits(
        setup.n_pretrain,
        setup.n_train,
        setup.n_val,
        setup.n_test,
        setup.n_novel,
        setup.image_size,
        setup.seed,
    )
    return CaptionData(splits, WordVocab.grammar())


def pretrain_encoder(setup, data, progress=True, device="cpu"):
    """Train ``SceneCNN`` on the "pretrain" split's attributes (9.1); then freeze it.

    ``device``: where to train ("cpu" by default, so the lecture's numbers repeat exactly;
    ``lstm_course.device()`` for the fastest one here).

    Returns:
        ``EncoderRun``; ``accuracy[split]`` = {"label_acc", "exact"} for "test" and "novel".
    """
    set_seed(setup.seed)
    model = SceneCNN(
        setup.channels, n_labels=data.splits["pretrain"].labels.shape[1], device=device
    )
    loader = make_scene_loader(
        SceneCaptions(data.splits["pretrain"], data.vocab), setup.batch_size, seed=setup.seed
    )
    history = fit(
        model,
        loader,
        attribute_loss,
        steps=setup.cnn_steps,
        lr=setup.cnn_lr,
        device=device,
        progress=progress,
    )
    model.eval()  # batch norm uses its running statistics from now on
    model.requires_grad_(False)  # frozen: the decoders train on cached features
    accuracy = {
        split: attribute_accuracy(model, data.splits[split].images, data.splits[split].labels)
        for split in SPLITS
    }
    return EncoderRun(model, history, accuracy)


def cache_features(encoder, data):
    """{split: a (L, N, D)} for the captioning splits: the frozen encoder runs once per image.

    The features live on the encoder's device.
    """
    return {
        name: encode_images(encoder, scene_set.images)
        for name, scene_set in data.splits.items()
        if name != "pretrain"
    }


def make_decoder(setup, kind, vocab, a, device=None):
    """A freshly seeded decoder of ``kind`` for annotations shaped like ``a`` (L, N, D)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(a, torch.Tensor) or a.dim() != 3:
        got = tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__
        raise ValueError(f"a must have shape (L, N, D), got {got}")
    set_seed(setup.seed)
    L, D = a.shape[0], a.shape[2]
    if kind == "plain":
        return ShowTell(len(vocab), D, L, setup.embed_size, setup.hidden_size, device=device)
    return ShowAttendTell(
        len(vocab),
        D,
        setup.embed_size,
        setup.hidden_size,
        setup.attn_size,
        query=kind,
        device=device,
    )


def decay(setup):
    """``fit``'s scheduler: lr * lr_decay ** (step / steps)."""
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: setup.lr_decay ** (k / setup.steps)
    )


def train_decoder(setup, kind, data, features, progress=True, device="cpu"):
    """Train one decoder on the cached "train" features with teacher forcing (9.4).

    ``device``: where to train (as ``pretrain_encoder``; the features may live anywhere).

    Returns:
        ``DecoderRun``; ``history.evals["val_bleu4"]`` (greedy, on the "val" split).
    """
    model = make_decoder(setup, kind, data.vocab, features["train"], device=device)
    dataset = FeatureCaptions(features["train"], data.splits["train"].captions, data.vocab)
    history = fit(
        model,
        make_feature_loader(dataset, setup.batch_size, seed=setup.seed),
        caption_loss,
        steps=setup.steps,
        lr=setup.lr,
        scheduler=decay(setup),
        device=device,
        eval_fn=bleu_eval_fn(features["val"], data.splits["val"].references, data.vocab),
        eval_every=setup.eval_every,
        progress=progress,
    )
    return DecoderRun(model, history, kind, NAMES[kind])


def train_decoders(setup, data, features, kinds=KINDS, progress=True, device="cpu"):
    """{name: DecoderRun} for each kind, same data, seed and budget."""
    return {NAMES[k]: train_decoder(setup, k, data, features, progress, device) for k in kinds}


def written(runs, data, features, split):
    """{name: greedy captions (str) of every scene of ``split``}."""
    return {
        name: greedy_captions(run.model, features[split], data.vocab, MAX_LEN)
        for name, run in runs.items()
    }


def score_table(runs, data, features, splits=SPLITS):
    """{name: {split: {"bleu1".."bleu4", "exact"}}}, greedy captions against both references."""
    return {
        name: {
            split: caption_scores(
                run.model, features[split], data.splits[split].references, data.vocab, MAX_LEN
            )
            for split in splits
        }
        for name, run in runs.items()
    }


def print_scores(table):
    """One row per model and split: BLEU-1..4 and exact match."""
    print(f"{'model':22s} {'split':6s}  BLEU-1  BLEU-2  BLEU-3  BLEU-4   exact")
    for name, by_split in table.items():
        for split, s in by_split.items():
            bleu = "".join(f"{s[f'bleu{n}']:8.4f}" for n in range(1, 5))
            print(f"{name:22s} {split:6s}{bleu}{s['exact']:8.4f}")


def position_losses(runs, data, features, split="test"):
    """{name: (T,) teacher-forced loss at each word position} on ``split`` (its captions)."""
    return {
        name: loss_by_position(run.model, features[split], data.splits[split].captions, data.vocab)
        for name, run in runs.items()
    }


class WordAttention(NamedTuple):
    """One greedy caption and where the decoder looked for each word.

    Attributes:
        words: the written words, "<eos>" last if it stopped.
        maps: (len(words), h, w) float64, alpha_t of eq. (9.8) on the grid; each sums to 1.
    """

    words: list
    maps: np.ndarray


def attention_words(run, a_one, vocab, grid_shape):
    """Greedy-decode one image (a_one (L, D)) and return each word's attention map.

    Args:
        run: a ``DecoderRun`` with attention. grid_shape: (h, w) with h * w = L.
    """
    if run.model.attention is None:
        raise ValueError("attention_words needs a decoder with attention; this one has none")
    h, w = grid_shape
    if h * w != a_one.shape[0]:
        raise ValueError(f"grid_shape {grid_shape} must have h * w = L = {a_one.shape[0]}")
    ids, alphas = greedy(run.model, a_one[:, None, :], MAX_LEN)
    return _word_attention(ids[:, 0], alphas[:, :, 0], vocab, grid_shape)


def _word_attention(ids, alphas, vocab, grid_shape):
    """ids (n,) and alphas (n, L) of one image, up to and including <eos>, as a WordAttention."""
    ids = ids.tolist()
    n = ids.index(WordVocab.eos_id) + 1 if WordVocab.eos_id in ids else len(ids)
    words = [vocab.itos[i] for i in ids[:n]]
    maps = alphas[:n].double().cpu().reshape(n, *grid_shape).numpy()
    return WordAttention(words, maps)


def cell_weights(alpha_map, grid=GRID):
    """(grid, grid): the attention weight (h, w) summed over each cell of the scene's grid."""
    m = np.asarray(alpha_map, dtype=np.float64)
    h, w = m.shape
    if h % grid or w % grid:
        raise ValueError(f"alpha_map (h, w) = {m.shape} must divide into {grid} x {grid} cells")
    return m.reshape(grid, h // grid, grid, w // grid).sum(axis=(1, 3))


# The words of a right caption, in order, and where each is in a caption of n words
# (negative: from the end); a two-word relation ("left of") is read at its first word.
WORD_ROLES = (
    ("a", 0),
    ("colour 1", 1),
    ("shape 1", 2),
    ("relation", 3),
    ("a", -3),
    ("colour 2", -2),
    ("shape 2", -1),
)


class AttentionByWord(NamedTuple):
    """Where alpha_t goes, word by word, averaged over right captions.

    Attributes:
        roles: the word labels of ``WORD_ROLES``, then "<eos>".
        weights: (len(roles), 3) float64: the weight on the grid cell (of the scene's 3 x 3)
            that holds the object named first, on the cell of the object named second, and on
            every other cell; each row sums to 1.
        captions: how many right captions the averages are over.
    """

    roles: list
    weights: np.ndarray
    captions: int


def attention_by_word(run, features, scene_set, vocab, grid_shape, n=None):
    """How much of alpha_t lies on each object while the decoder writes each word.

    Greedy captions of the first ``n`` scenes (all if None); for each one that equals a
    reference, the caption says which object is named first, and ``cell_weights`` reads off
    the weight alpha_t puts on that object's cell, on the other object's, and elsewhere.

    Returns:
        ``AttentionByWord``.
    """
    if run.model.attention is None:
        raise ValueError("attention_by_word needs a decoder with attention; this one has none")
    n = features.shape[1] if n is None else n
    ids, alphas = greedy(run.model, features[:, :n], MAX_LEN)  # (steps, n), (steps, L, n)
    rows, used = [], 0
    for k in range(n):
        att = _word_attention(ids[:, k], alphas[:, :, k], vocab, grid_shape)
        words = att.words[:-1] if att.words[-1] == "<eos>" else att.words
        wrong, ref = compare_caption(" ".join(words), scene_set.scenes[k])
        if wrong != () or att.words[-1] != "<eos>":
            continue
        used += 1
        scene = scene_set.scenes[k]
        first, second = scene if ref == scene_set.references[k][0] else scene[::-1]
        steps = [t % len(words) for _, t in WORD_ROLES] + [len(words)]  # + <eos>
        weights = []
        for t in steps:
            cells = cell_weights(att.maps[t])
            on_first, on_second = cells[first.row, first.col], cells[second.row, second.col]
            weights.append((on_first, on_second, 1.0 - on_first - on_second))
        rows.append(weights)
    if not used:
        raise ValueError("no caption was right: nothing to measure")
    return AttentionByWord([r for r, _ in WORD_ROLES] + ["<eos>"], np.mean(rows, axis=0), used)


def print_attention_by_word(result):
    """One row per word: the shares of alpha_t on each named object and elsewhere."""
    print(f"{result.captions} right captions; share of alpha_t on the object named")
    print(f"{'word':9s}  first  second  elsewhere")
    for role, (first, second, rest) in zip(result.roles, result.weights, strict=True):
        print(f"{role:9s} {first:6.4f}  {second:6.4f}  {rest:9.4f}")


def with_budget(setup, **changes):
    """``dataclasses.replace`` for a setup (tests and exercises shrink it)."""
    return replace(setup, **changes)
