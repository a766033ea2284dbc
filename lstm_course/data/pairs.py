"""Source -> target string pairs for sequence-to-sequence models: vocabulary and batches.

A translation-style example is a pair of strings (x_1..x_S, y_1..y_T). The encoder reads the
source; the decoder is trained with teacher forcing: at step t it reads y_{t-1} (with
y_0 = <bos>) and is scored on y_t, and the target ends with <eos> so that the model learns
where to stop (Sutskever et al., 2014):

    decoder input   <bos> y_1 ... y_T          tgt_in  (T + 1, B)
    decoder target  y_1 ... y_T <eos>          tgt_out (T + 1, B)

Batches are time-major and padded with id 0 (<pad>); ``src_lengths`` and ``tgt_mask`` say
which positions are real.
"""

from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset

from lstm_course.data._checks import check_int


class PairVocab:
    """Characters <-> ids with the four specials a seq2seq model needs.

    Ids: 0 ``<pad>``, 1 ``<bos>``, 2 ``<eos>``, 3 ``<unk>``, then the characters in sorted
    (code point) order, so the same characters always give the same ids.
    """

    SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __init__(self, chars):
        chars = sorted(set(chars))
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"chars must be single characters, got {bad[:5]!r}")
        self.itos = [*self.SPECIALS, *chars]
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def from_texts(cls, texts):
        """Every character of an iterable of strings."""
        return cls({c for text in texts for c in text})

    def __len__(self):
        return len(self.itos)

    def __eq__(self, other):
        return isinstance(other, PairVocab) and self.itos == other.itos

    def __repr__(self):
        return f"PairVocab(V={len(self)}, chars={''.join(self.itos[4:])!r})"

    def encode(self, text):
        """str -> list of ids (no specials added); unknown characters give <unk>."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return [self.stoi.get(c, self.unk_id) for c in text]

    def decode(self, ids):
        """ids -> str, stopping at the first <eos> and skipping <pad> and <bos>."""
        out = []
        for i in torch.as_tensor(ids).flatten().tolist():
            if i == self.eos_id:
                break
            if not 0 <= i < len(self.itos):
                raise ValueError(f"ids must lie in [0, V) = [0, {len(self.itos)}), got {i}")
            if i not in (self.pad_id, self.bos_id):
                out.append(self.itos[i] if i != self.unk_id else "?")
        return "".join(out)


class PairBatch(NamedTuple):
    """A time-major batch of B pairs (S: longest source, T: longest target + 1).

    Fields:
        src: (S, B) int64 source ids, padded with 0 after each source's end.
        src_lengths: (B,) int64, real source lengths.
        tgt_in: (T, B) int64, <bos> y_1 .. y_n, the decoder's inputs (teacher forcing).
        tgt_out: (T, B) int64, y_1 .. y_n <eos>, what it must predict.
        tgt_mask: (T, B) bool, True at real target positions (including <eos>).
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    tgt_mask: torch.Tensor

    def to(self, device):
        """The same batch on ``device`` (lengths stay on the CPU, as packing wants them)."""
        return PairBatch(
            self.src.to(device),
            self.src_lengths,
            self.tgt_in.to(device),
            self.tgt_out.to(device),
            self.tgt_mask.to(device),
        )


class PairDataset(Dataset):
    """Encoded (source, target) string pairs; ``pair_collate`` batches them.

    Args:
        pairs: a list of (source str, target str).
        src_vocab, tgt_vocab: ``PairVocab``s (built from the pairs when None).
        reverse_source: feed each source backwards (Sutskever et al.'s trick: the first
            target words then sit close to the first source words in time).
    """

    def __init__(self, pairs, src_vocab=None, tgt_vocab=None, reverse_source=False):
        pairs = list(pairs)
        if not pairs:
            raise ValueError("pairs must hold at least one (source, target) pair")
        for k, pair in enumerate(pairs):
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(map(_nonempty, pair))):
                raise ValueError(
                    f"pairs[{k}] must be a (source, target) of non-empty str, got {pair!r}"
                )
        self.pairs = pairs
        self.src_vocab = src_vocab or PairVocab.from_texts(s for s, _ in pairs)
        self.tgt_vocab = tgt_vocab or PairVocab.from_texts(t for _, t in pairs)
        self.reverse_source = bool(reverse_source)

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        source, target = self.pairs[i]
        src = self.src_vocab.encode(source[::-1] if self.reverse_source else source)
        return torch.tensor(src), torch.tensor(self.tgt_vocab.encode(target))


def _nonempty(s):
    return isinstance(s, str) and len(s) > 0


def pair_collate(items):
    """A list of (src ids (S_b,), tgt ids (T_b,)) -> ``PairBatch``, padded with 0."""
    if not items:
        raise ValueError("items must hold at least one pair")
    B = len(items)
    src_lengths = torch.tensor([len(s) for s, _ in items])
    tgt_lengths = torch.tensor([len(t) for _, t in items]) + 1  # + <eos> (or <bos>)
    S, T = int(src_lengths.max()), int(tgt_lengths.max())
    src = torch.zeros(S, B, dtype=torch.long)
    tgt_in = torch.zeros(T, B, dtype=torch.long)
    tgt_out = torch.zeros(T, B, dtype=torch.long)
    for b, (s, t) in enumerate(items):
        n = len(t)
        src[: len(s), b] = s
        tgt_in[0, b] = PairVocab.bos_id
        tgt_in[1 : n + 1, b] = t
        tgt_out[:n, b] = t
        tgt_out[n, b] = PairVocab.eos_id
    tgt_mask = torch.arange(T)[:, None] < tgt_lengths[None, :]  # (T, B)
    return PairBatch(src, src_lengths, tgt_in, tgt_out, tgt_mask)


class LengthBuckets(torch.utils.data.Sampler):
    """Batches of indices whose sources have similar lengths, in a seeded random order.

    Each pass shuffles the examples, cuts them into pools of ``pool`` batches, sorts each pool
    by source length and cuts it into batches, then shuffles the batches. A padded batch costs
    as much as B copies of its longest pair, and a step-by-step decoder loops over its
    longest target, so with lengths spread over 5..40 bucketing about halves the work while
    each batch still holds random examples of a similar length.

    Args:
        lengths: (N,) source lengths. batch_size: B. pool: batches sorted together.
        generator: a seeded ``torch.Generator`` (the order depends only on it).
    """

    def __init__(self, lengths, batch_size, pool=50, generator=None):
        self.lengths = torch.as_tensor(lengths)
        self.batch_size, self.pool, self.generator = batch_size, pool, generator

    def _batches(self):
        order = torch.randperm(len(self.lengths), generator=self.generator)
        size = self.batch_size * self.pool
        batches = []
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            batches.extend(chunk.split(self.batch_size))
        return [batches[k].tolist() for k in torch.randperm(len(batches), generator=self.generator)]

    def __iter__(self):
        return iter(self._batches())

    def __len__(self):
        return -(-len(self.lengths) // self.batch_size)


def make_pair_loader(dataset, batch_size, shuffle=True, seed=0, bucket=False):
    """A DataLoader of ``PairBatch``es whose order depends only on ``seed``.

    Args:
        dataset: a ``PairDataset``. batch_size: B. shuffle: a new random order every pass.
        seed: the order's seed. bucket: batch pairs of similar source length together
            (``LengthBuckets``; implies shuffle): less padding, faster steps.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    generator = torch.Generator()
    generator.manual_seed(check_int("seed", seed, minimum=0))
    if bucket:
        lengths = [len(source) for source, _ in dataset.pairs]
        sampler = LengthBuckets(lengths, batch_size, generator=generator)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=pair_collate)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=pair_collate,
        generator=generator,
    )
