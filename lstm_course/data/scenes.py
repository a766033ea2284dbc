"""Scenes of two coloured shapes and their captions, rendered with NumPy: lecture 9's data set.

A scene puts two objects (a colour and a shape each) in two cells of a 3 x 3 grid, either in
the same row or in the same column, so that one relation word describes them. Its caption
comes from a grammar with one rule,

    caption  ->  "a" COLOUR SHAPE RELATION "a" COLOUR SHAPE
    COLOUR   ->  red | green | blue | yellow        SHAPE -> circle | square | triangle
    RELATION ->  left of | right of | above | below

e.g. "a red circle left of a blue square". Either object can be named first, so every scene
has two correct captions ("... is the same scene as "a blue square right of a red circle"):
the two *references* BLEU compares a generated caption with, as COCO has five per image.
A training example carries one of them, drawn at random.

Images are RGB, (3, S, S) with S = 48 by default, drawn with soft (antialiased) edges, a small
jitter in position, size and colour, and pixel noise, so that no two images are alike.
Everything is seeded and offline. ``HELD_OUT`` colour-shape pairs never occur in the training
scenes; the "novel" split puts at least one of them in every scene (compositional
generalisation: both words were seen, never together).

``parse_caption`` reads a caption back into the grammar's five slots, and ``compare_caption``
says which slots of a generated caption are wrong (its failure analysis).

Labels for pre-training the CNN (multi-label, ``ATTRIBUTES``): which colours and which shapes
occur in the scene, 7 bits. Captions are batched as in ``lstm_course.data.pairs`` (ids 0
<pad>, 1 <bos>, 2 <eos>, 3 <unk>; teacher forcing with ``tgt_in`` and ``tgt_out``), time-major.
"""

from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from lstm_course.data._checks import check_int, check_seed
from lstm_course.data.pairs import PairVocab

COLOURS = {
    "red": (0.85, 0.15, 0.15),
    "green": (0.15, 0.65, 0.20),
    "blue": (0.15, 0.30, 0.90),
    "yellow": (0.95, 0.80, 0.10),
}
SHAPES = ("circle", "square", "triangle")
RELATIONS = ("left of", "right of", "above", "below")
ATTRIBUTES = (*COLOURS, *SHAPES)  # the classifier's 7 labels
TYPES = tuple((colour, shape) for colour in COLOURS for shape in SHAPES)
HELD_OUT = (("red", "triangle"), ("green", "circle"), ("blue", "square"))
GRID = 3  # cells per side
BACKGROUND = 0.92  # light grey


class Thing(NamedTuple):
    """One object of a scene: its colour, its shape, and its grid cell (row 0 is the top)."""

    colour: str
    shape: str
    row: int
    col: int


class Scene(NamedTuple):
    """Two objects in the same row or column; ``first`` is the one the caption names first."""

    first: Thing
    second: Thing


def relation(a, b):
    """The relation words of ``a`` to ``b``: "left of", "right of", "above" or "below"."""
    if a.row == b.row and a.col != b.col:
        return "left of" if a.col < b.col else "right of"
    if a.col == b.col and a.row != b.row:
        return "above" if a.row < b.row else "below"
    raise ValueError(f"the two objects must share a row or a column, in different cells: {a}, {b}")


def caption(scene):
    """The caption that names ``scene.first`` first, e.g. "a red circle left of a blue square"."""
    a, b = scene
    return f"a {a.colour} {a.shape} {relation(a, b)} a {b.colour} {b.shape}"


def references(scene):
    """Both correct captions of a scene: ``scene.first`` named first, then second."""
    return [caption(scene), caption(Scene(scene.second, scene.first))]


class Parsed(NamedTuple):
    """The five slots of a caption the grammar produces, in the order they are written."""

    colour_1: str
    shape_1: str
    relation: str
    colour_2: str
    shape_2: str


def parse_caption(text):
    """The grammar's slots of a caption (``Parsed``), or None if the grammar cannot produce it.

    e.g. "a red circle left of a blue square" -> Parsed("red", "circle", "left of", "blue",
    "square"); "a red circle left of" -> None.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    w = text.split()
    for rel in RELATIONS:
        r = rel.split()
        if (
            len(w) == 6 + len(r)
            and w[0] == w[3 + len(r)] == "a"
            and w[3 : 3 + len(r)] == r
            and w[1] in COLOURS
            and w[-2] in COLOURS
            and w[2] in SHAPES
            and w[-1] in SHAPES
        ):
            return Parsed(w[1], w[2], rel, w[-2], w[-1])
    return None


def scene_slots(scene):
    """The ``Parsed`` slots of the caption that names ``scene.first`` first."""
    a, b = scene
    return Parsed(a.colour, a.shape, relation(a, b), b.colour, b.shape)


def compare_caption(text, scene):
    """How a caption differs from the closer of the scene's two references, slot by slot.

    Returns:
        (wrong, reference): ``wrong`` the names of the ``Parsed`` slots that differ (an empty
        tuple: the caption is right; None: the grammar cannot produce it), ``reference`` the
        reference with the fewest wrong slots (the first on a tie, or if ``wrong`` is None).
    """
    parsed = parse_caption(text)
    refs = references(scene)
    if parsed is None:
        return None, refs[0]
    options = []
    for ref, slots in zip(refs, (scene_slots(scene), scene_slots(scene[::-1])), strict=True):
        wrong = tuple(f for f, p, r in zip(Parsed._fields, parsed, slots, strict=True) if p != r)
        options.append((len(wrong), wrong, ref))
    _, wrong, ref = min(options, key=lambda o: o[0])
    return wrong, ref


def attributes(scene):
    """(7,) float32 multi-hot labels: which of ``ATTRIBUTES`` occur in the scene."""
    present = {t.colour for t in scene} | {t.shape for t in scene}
    return np.array([name in present for name in ATTRIBUTES], dtype=np.float32)


def _check_types(types, name="types"):
    types = tuple(tuple(t) for t in types)
    bad = [t for t in types if t not in TYPES]
    if bad or len(set(types)) < 1:
        raise ValueError(f"{name} must be (colour, shape) pairs from TYPES, got {bad or types}")
    return types


def sample_scene(rng, types=TYPES, must_include=()):
    """One random scene with two different (colour, shape) types from ``types``.

    Args:
        rng: a NumPy ``Generator``. types: the allowed (colour, shape) pairs (at least two).
        must_include: if not empty, one of the two objects is drawn from these types.
    """
    types = _check_types(types)
    if len(types) < 2:
        raise ValueError(f"types must hold at least two (colour, shape) pairs, got {types}")
    if must_include:
        pool = _check_types(must_include, "must_include")
        one = pool[rng.integers(len(pool))]
        others = [t for t in types if t != one]
        two = others[rng.integers(len(others))]
        pair = (one, two) if rng.random() < 0.5 else (two, one)
    else:
        i, j = rng.choice(len(types), size=2, replace=False)
        pair = (types[i], types[j])
    line = int(rng.integers(GRID))
    p, q = (int(k) for k in rng.choice(GRID, size=2, replace=False))
    cells = ((line, p), (line, q)) if rng.random() < 0.5 else ((p, line), (q, line))
    return Scene(*(Thing(c, s, r, k) for (c, s), (r, k) in zip(pair, cells, strict=True)))


def _coverage(shape, x, y, cx, cy, r):
    """The fraction of each pixel inside the shape: signed distance (inside > 0) + 0.5, clipped.

    x, y: (S, S) pixel centres; (cx, cy) the shape's centre and r its size, in pixels.
    """
    dx, dy = x - cx, y - cy
    if shape == "circle":
        d = r - np.hypot(dx, dy)
    elif shape == "square":
        d = 0.85 * r - np.maximum(np.abs(dx), np.abs(dy))  # about the circle's area
    else:  # an upward equilateral triangle: inside all three edges
        R = 1.25 * r  # circumradius
        d = np.full_like(x, np.inf)
        for angle in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
            vx, vy = np.cos(angle), np.sin(angle)  # a vertex direction, y pointing up
            # the edge opposite that vertex lies at distance R / 2 along -v (the inradius)
            d = np.minimum(d, R / 2 + (dx * vx - dy * vy))
    return np.clip(d + 0.5, 0.0, 1.0)


def render(scene, size=48, rng=None):
    """Draw a scene: (3, size, size) float32 RGB in [0, 1].

    Each object sits near the centre of its cell (jitter up to 1/8 of a cell), with a radius of
    0.28 to 0.36 cells, and its colour is jittered by up to 0.06 per channel; then Gaussian
    pixel noise (sd 0.03). ``rng`` (a NumPy Generator) draws the jitter; None: no jitter.
    """
    size = check_int("size", size, minimum=12)
    cell = size / GRID
    image = np.full((3, size, size), BACKGROUND)
    for thing in scene:
        shift, radius, tint = np.zeros(2), 0.32, np.zeros(3)
        if rng is not None:
            shift = rng.uniform(-cell / 8, cell / 8, 2)
            radius = rng.uniform(0.28, 0.36)
            tint = rng.uniform(-0.06, 0.06, 3)
        cx, cy = (thing.col + 0.5) * cell + shift[0], (thing.row + 0.5) * cell + shift[1]
        r = radius * cell
        # Only the pixels near the object can be covered: draw in a window around it (faster).
        w = int(np.ceil(1.3 * r)) + 2
        top, left = max(0, int(cy) - w), max(0, int(cx) - w)
        y, x = np.mgrid[top : min(size, int(cy) + w), left : min(size, int(cx) + w)] + 0.5
        alpha = _coverage(thing.shape, x, y, cx, cy, r)  # (h, w) of the window
        colour = np.clip(np.array(COLOURS[thing.colour]) + tint, 0.0, 1.0)
        window = image[:, top : top + alpha.shape[0], left : left + alpha.shape[1]]
        window[:] = window * (1 - alpha) + colour[:, None, None] * alpha
    if rng is not None:
        image = image + rng.normal(0.0, 0.03, image.shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


class SceneSet(NamedTuple):
    """N scenes with everything a model needs.

    Fields:
        scenes: list of N ``Scene``s. images: (N, 3, S, S) uint8 tensor (divide by 255).
        captions: N str, the training caption of each (its ``first`` object named first).
        references: N lists of both correct captions. labels: (N, 7) float32, ``attributes``.
    """

    scenes: list
    images: torch.Tensor
    captions: list
    references: list
    labels: torch.Tensor


def make_scene_set(n, seed=0, size=48, types=TYPES, must_include=()):
    """n seeded random scenes, rendered (see ``sample_scene`` for ``types``, ``must_include``)."""
    n = check_int("n", n, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    scenes = [sample_scene(rng, types, must_include) for _ in range(n)]
    images = np.stack([render(s, size, rng) for s in scenes])
    return SceneSet(
        scenes,
        torch.from_numpy(np.round(images * 255).astype(np.uint8)),
        [caption(s) for s in scenes],
        [references(s) for s in scenes],
        torch.from_numpy(np.stack([attributes(s) for s in scenes])),
    )


def scene_splits(
    n_pretrain=4000, n_train=4000, n_val=200, n_test=1000, n_novel=500, size=48, seed=0
):
    """Lecture 9's splits: {"pretrain", "train", "val", "test", "novel"} -> ``SceneSet``.

    "pretrain" is the classifier's data (our ImageNet): every colour-shape type, labels only.
    train, val and test (the captioning data) use the 9 types not in ``HELD_OUT`` (test: new
    images of the same kind); every "novel" scene holds at least one ``HELD_OUT`` type. Each
    split has its own seed, so changing one size leaves the other splits as they were.
    """
    seen = tuple(t for t in TYPES if t not in HELD_OUT)
    seed = check_seed(seed)
    return {
        "pretrain": make_scene_set(n_pretrain, seed + 4, size, TYPES),
        "train": make_scene_set(n_train, seed, size, seen),
        "val": make_scene_set(n_val, seed + 1, size, seen),
        "test": make_scene_set(n_test, seed + 2, size, seen),
        "novel": make_scene_set(n_novel, seed + 3, size, TYPES, HELD_OUT),
    }


class WordVocab:
    """Words <-> ids, with ``PairVocab``'s four specials: 0 <pad>, 1 <bos>, 2 <eos>, 3 <unk>.

    The words follow in sorted order, so the same words always give the same ids.
    """

    SPECIALS = PairVocab.SPECIALS
    pad_id, bos_id, eos_id, unk_id = PairVocab.pad_id, PairVocab.bos_id, PairVocab.eos_id, 3

    def __init__(self, words):
        words = sorted(set(words))
        bad = [w for w in words if not isinstance(w, str) or not w or " " in w]
        if bad:
            raise ValueError(f"words must be non-empty str without spaces, got {bad[:5]!r}")
        self.itos = [*self.SPECIALS, *words]
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def from_captions(cls, captions):
        """Every word of an iterable of captions (words split on spaces)."""
        return cls({w for text in captions for w in text.split()})

    @classmethod
    def grammar(cls):
        """Every word the caption grammar can produce (17 ids with the specials)."""
        words = {"a", *COLOURS, *SHAPES} | {w for r in RELATIONS for w in r.split()}
        return cls(words)

    def __len__(self):
        return len(self.itos)

    def __eq__(self, other):
        return isinstance(other, WordVocab) and self.itos == other.itos

    def __repr__(self):
        return f"WordVocab(V={len(self)}, words={self.itos[4:]!r})"

    def encode(self, text):
        """str -> list of ids (no specials added); unknown words give <unk>."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return [self.stoi.get(w, self.unk_id) for w in text.split()]

    def tokens(self, ids):
        """ids -> words, up to the first <eos>, skipping <pad> and <bos> (<unk> as "?")."""
        out = []
        for i in torch.as_tensor(ids).flatten().tolist():
            if i == self.eos_id:
                break
            if not 0 <= i < len(self.itos):
                raise ValueError(f"ids must lie in [0, V) = [0, {len(self.itos)}), got {i}")
            if i not in (self.pad_id, self.bos_id):
                out.append(self.itos[i] if i != self.unk_id else "?")
        return out

    def decode(self, ids):
        """ids -> caption str (see ``tokens``)."""
        return " ".join(self.tokens(ids))


class SceneBatch(NamedTuple):
    """A batch of B scenes; captions time-major (T: longest caption + 1).

    Fields:
        images: (B, 3, S, S) float32 in [0, 1] (batch first, as convolutions want).
        labels: (B, 7) float32 multi-hot attributes.
        tgt_in: (T, B) int64, <bos> w_1 .. w_n, the decoder's inputs (teacher forcing).
        tgt_out: (T, B) int64, w_1 .. w_n <eos>, what it must predict.
        tgt_mask: (T, B) bool, True at real positions (including <eos>).
    """

    images: torch.Tensor
    labels: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    tgt_mask: torch.Tensor


def caption_tensors(captions):
    """A list of B id tensors (n_b,) -> (tgt_in, tgt_out, tgt_mask), each (T, B), T = max n + 1."""
    if not captions:
        raise ValueError("captions must hold at least one caption")
    lengths = torch.tensor([len(c) for c in captions]) + 1  # + <bos> / <eos>
    T, B = int(lengths.max()), len(captions)
    tgt_in = torch.zeros(T, B, dtype=torch.long)
    tgt_out = torch.zeros(T, B, dtype=torch.long)
    for b, ids in enumerate(captions):
        n = len(ids)
        tgt_in[0, b] = WordVocab.bos_id
        tgt_in[1 : n + 1, b] = torch.as_tensor(ids)
        tgt_out[:n, b] = torch.as_tensor(ids)
        tgt_out[n, b] = WordVocab.eos_id
    return tgt_in, tgt_out, torch.arange(T)[:, None] < lengths[None, :]


class SceneCaptions(Dataset):
    """A ``SceneSet`` as a torch Dataset: (image (3, S, S) float32, caption ids (n,), labels (7,)).

    Args:
        scene_set: a ``SceneSet``. vocab: a ``WordVocab`` (default: ``WordVocab.grammar()``).
    """

    def __init__(self, scene_set, vocab=None):
        if not isinstance(scene_set, SceneSet):
            raise TypeError(f"scene_set must be a SceneSet, got {type(scene_set).__name__}")
        self.set, self.vocab = scene_set, vocab or WordVocab.grammar()
        self.ids = [torch.tensor(self.vocab.encode(c)) for c in scene_set.captions]

    def __len__(self):
        return len(self.set.scenes)

    def __getitem__(self, i):
        image = self.set.images[i].float() / 255.0
        return image, self.ids[i], self.set.labels[i]


def scene_collate(items):
    """A list of (image, caption ids, labels) -> ``SceneBatch``."""
    images, captions, labels = zip(*items, strict=True)
    return SceneBatch(torch.stack(images), torch.stack(labels), *caption_tensors(captions))


def make_scene_loader(dataset, batch_size=64, shuffle=True, seed=0):
    """A DataLoader of ``SceneBatch``es whose order depends only on ``seed``."""
    generator = torch.Generator()
    generator.manual_seed(check_seed(seed))
    return DataLoader(
        dataset,
        batch_size=check_int("batch_size", batch_size, minimum=1),
        shuffle=shuffle,
        collate_fn=scene_collate,
        generator=generator,
    )
