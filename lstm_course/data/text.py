"""Character-level text for language models: the vocabulary, contiguous splits, and windows."""

import collections
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from lstm_course.data._checks import check_float, check_ids, check_int
from lstm_course.data.samples import Sample


class Vocab:
    """Characters <-> integer ids, V = len(vocab) symbols.

    Id 0 is ``<unk>``: every character not seen when the vocabulary was built (or seen fewer
    than ``min_count`` times) encodes to 0, and 0 decodes to the five characters "<unk>".
    The known characters follow in sorted (code point) order, so the same text always gives
    the same ids, whatever order it was read in.

    Attributes:
        itos: list of V str; itos[0] = "<unk>", then the characters.
        stoi: dict str -> id, the inverse of itos.
        unk_id: 0.
    """

    UNK = "<unk>"
    unk_id = 0

    def __init__(self, chars):
        """Args: chars: an iterable of distinct single characters (any order)."""
        chars = list(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"chars must be single characters, got {bad[:5]!r}")
        if len(set(chars)) != len(chars):
            dupes = sorted(c for c, k in collections.Counter(chars).items() if k > 1)
            raise ValueError(f"chars must be distinct, got duplicates {dupes[:5]!r}")
        self.itos = [self.UNK, *sorted(chars)]
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        # Sorted code points make encoding one vectorised binary search.
        self._codes = np.array([ord(c) for c in self.itos[1:]], dtype=np.uint32)

    @classmethod
    def from_text(cls, text, min_count=1):
        """The characters of ``text`` that occur at least ``min_count`` times (>= 1)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        min_count = check_int("min_count", min_count, minimum=1)
        return cls(c for c, k in collections.Counter(text).items() if k >= min_count)

    def encode(self, text):
        """str of length T -> (T,) int64 tensor of ids in [0, V); unknown characters give 0."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # (T,)
        pos = np.searchsorted(self._codes, points)  # where each would sit among the known
        pos = np.minimum(pos, max(len(self._codes) - 1, 0))
        known = self._codes[pos] == points if len(self._codes) else np.zeros(len(points), bool)
        return torch.from_numpy(np.where(known, pos + 1, self.unk_id).astype(np.int64))

    def decode(self, ids):
        """(T,) ids (tensor, array or list of ints in [0, V)) -> str; id 0 gives "<unk>"."""
        ids = torch.as_tensor(ids)
        if ids.ndim != 1 or ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise ValueError(
                f"ids must be a 1-D sequence of integer ids, got dtype {ids.dtype}, "
                f"shape {tuple(ids.shape)}"
            )
        values = ids.tolist()
        bad = [i for i in values if not 0 <= i < len(self.itos)]
        if bad:
            raise ValueError(f"ids must lie in [0, V) = [0, {len(self.itos)}), got {bad[:5]}")
        return "".join(self.itos[i] for i in values)

    def __len__(self):
        return len(self.itos)

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self):
        shown = "".join(self.itos[1:40])
        return f"Vocab(V={len(self)}, chars={shown!r}{'...' if len(self) > 40 else ''})"

    def to_dict(self):
        """A JSON-able dict: ``{"unk": "<unk>", "chars": [...]}`` (chars without <unk>)."""
        return {"unk": self.UNK, "chars": self.itos[1:]}

    @classmethod
    def from_dict(cls, d):
        """The inverse of ``to_dict``: equal ids for equal characters."""
        if not isinstance(d, dict) or "chars" not in d:
            raise ValueError(f"d must be a dict from Vocab.to_dict with key 'chars', got {d!r:.60}")
        if d.get("unk", cls.UNK) != cls.UNK:
            raise ValueError(f"d['unk'] must be {cls.UNK!r}, got {d['unk']!r}")
        return cls(d["chars"])


class TextSplits(NamedTuple):
    """What ``split_text`` returns: three consecutive pieces of one text."""

    train: object
    val: object
    test: object


def split_text(text, val_fraction=0.1, test_fraction=0.0):
    """Cut a text (or a 1-D id tensor) into contiguous train, validation and test parts.

    Contiguous, in that order: windows drawn at random from one text and then split would put
    overlapping, near-identical windows on both sides, and the validation loss would measure
    memorisation. Here no character of the validation or test part is ever trained on.

    Args:
        text: a str or a 1-D tensor of N ids.
        val_fraction, test_fraction: in [0, 1), summing to less than 1; each part holds
            floor(fraction * N) characters and train the rest (the beginning).
    Returns:
        ``TextSplits(train, val, test)``, of the input's type; empty parts are "" (or size 0).
    """
    if not isinstance(text, str):
        check_ids("text", text)
    val = check_float("val_fraction", val_fraction, 0.0, 1.0)
    test = check_float("test_fraction", test_fraction, 0.0, 1.0)
    if val + test >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave training text, "
            f"got {val} + {test} = {val + test}"
        )
    N = len(text)
    n_val, n_test = int(val * N), int(test * N)
    n_train = N - n_val - n_test
    return TextSplits(text[:n_train], text[n_train : n_train + n_val], text[n_train + n_val :])


class CharSequenceDataset(Dataset):
    """Fixed-length windows of a token stream for next-character prediction.

    Window i starts at s = i * stride: x = ids[s : s + T] and y = ids[s + 1 : s + T + 1], so
    y[t] is the character after x[t] and every step is scored. The default stride T gives
    non-overlapping windows (each character is a target once per epoch); a smaller stride
    gives more, overlapping, windows. Windows are independent samples, so shuffling them is
    fine, but each starts with an empty memory: for a state carried across windows use
    ``stream_batches``.

    Each sample is ``Sample(x, y, mask, length)``:
        x: (T,) int64 ids.  y: (T,) int64 ids, x shifted by one.
        mask: (T,) bool, all True.  length: () int64, T.

    Args:
        ids: (N,) integer ids, e.g. ``vocab.encode(text)``; N >= T + 1.
        seq_len: T >= 1.
        stride: steps between window starts, >= 1; default T.
    """

    def __init__(self, ids, seq_len, stride=None):
        self.ids = check_ids("ids", ids).long()
        self.T = check_int("seq_len", seq_len, minimum=1)
        self.stride = self.T if stride is None else check_int("stride", stride, minimum=1)
        N = self.ids.shape[0]
        if N < self.T + 1:
            raise ValueError(f"ids must hold at least seq_len + 1 = {self.T + 1} ids, got {N}")
        self._n = (N - 1 - self.T) // self.stride + 1
        self._mask = torch.ones(self.T, dtype=torch.bool)
        self._length = torch.tensor(self.T)

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        if not -self._n <= i < self._n:
            raise IndexError(f"window index {i} out of range for {self._n} windows")
        s = (i % self._n) * self.stride
        return Sample(
            self.ids[s : s + self.T], self.ids[s + 1 : s + self.T + 1], self._mask, self._length
        )
