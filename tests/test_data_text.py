"""Character vocabulary, contiguous splits and next-character windows."""

import json

import pytest
import torch

from lstm_course.data import CharSequenceDataset, Sample, Vocab, make_loader, split_text


def test_vocab_is_sorted_round_trips_and_maps_unknowns_to_zero():
    v = Vocab.from_text("hello world")
    assert v.itos == ["<unk>", " ", "d", "e", "h", "l", "o", "r", "w"] and len(v) == 9
    assert all(v.stoi[s] == i for i, s in enumerate(v.itos))
    ids = v.encode("hello world")
    assert ids.dtype == torch.int64 and ids.shape == (11,)
    assert ids.tolist() == [v.stoi[c] for c in "hello world"]
    assert v.decode(ids) == "hello world"
    assert v.encode("hex!").tolist() == [v.stoi["h"], v.stoi["e"], 0, 0]
    assert v.decode(v.encode("héllo")) == "h<unk>llo"
    assert v.decode([4, 3]) == "he" and v.encode("").shape == (0,)
    assert Vocab.from_text("dlrow olleh") == v  # order of reading does not matter


def test_vocab_min_count_and_serialisation():
    v = Vocab.from_text("aaabbc", min_count=2)
    assert v.itos == ["<unk>", "a", "b"] and v.encode("c").tolist() == [0]
    d = json.loads(json.dumps(v.to_dict()))
    assert Vocab.from_dict(d) == v and Vocab.from_dict(d).encode("cab").tolist() == [0, 1, 2]
    assert Vocab.from_text("abc") != v


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda v: v.decode([0, 9]), ValueError, r"ids must lie in \[0, V\) = \[0, 3\)"),
        (lambda v: v.decode(torch.zeros(2)), ValueError, "1-D sequence of integer ids"),
        (lambda v: v.encode(b"ab"), TypeError, "text must be a str"),
        (lambda v: Vocab(["a", "a"]), ValueError, "chars must be distinct"),
        (lambda v: Vocab(["ab"]), ValueError, "chars must be single characters"),
        (lambda v: Vocab.from_text("ab", min_count=0), ValueError, "min_count must be"),
        (lambda v: Vocab.from_dict({"itos": []}), ValueError, "key 'chars'"),
    ],
)
def test_vocab_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(Vocab.from_text("ab"))


def test_split_text_is_contiguous_and_complete():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    train, val, test = split_text(text, val_fraction=0.1, test_fraction=0.05)
    assert (len(train), len(val), len(test)) == (850, 100, 50)
    assert train + val + test == text
    assert split_text(text).test == "" and len(split_text(text).val) == 100
    ids = torch.arange(200)
    parts = split_text(ids, 0.25)
    assert torch.equal(torch.cat(parts), ids) and parts.val.tolist() == list(range(150, 200))
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction must be < 1"):
        split_text(text, 0.6, 0.4)
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0.0, 1.0\], got -0.1"):
        split_text(text, -0.1)


def test_char_sequence_windows_shift_by_one():
    ids = torch.arange(50)
    ds = CharSequenceDataset(ids, 8)
    assert len(ds) == (50 - 1 - 8) // 8 + 1 == 6
    s = ds[2]
    assert isinstance(s, Sample) and s.x.dtype == s.y.dtype == torch.int64
    assert s.x.tolist() == list(range(16, 24)) and s.y.tolist() == list(range(17, 25))
    assert s.mask.shape == (8,) and s.mask.all() and int(s.length) == 8
    assert torch.equal(ds[-1].y, ds[5].y) and ds[5].y[-1] == 48
    with pytest.raises(IndexError, match="window index 6 out of range for 6 windows"):
        ds[6]
    strided = CharSequenceDataset(ids, 8, stride=3)
    assert len(strided) == 14 and strided[1].x[0] == 3
    batch = next(iter(make_loader(ds, 4, seed=0)))
    assert batch.x.shape == batch.y.shape == batch.mask.shape == (8, 4)


def test_char_sequence_argument_errors():
    with pytest.raises(ValueError, match="ids must hold at least seq_len \\+ 1 = 11 ids, got 10"):
        CharSequenceDataset(torch.arange(10), 10)
    with pytest.raises(TypeError, match="ids must be a 1-D torch.LongTensor, got list"):
        CharSequenceDataset([1, 2, 3], 1)
    with pytest.raises(ValueError, match="ids must be 1-D"):
        CharSequenceDataset(torch.zeros(3, 4, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="stride must be an int >= 1, got 0"):
        CharSequenceDataset(torch.arange(10), 3, stride=0)
