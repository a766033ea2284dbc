"""PairVocab, PairDataset and pair_collate: ids, padding, teacher-forcing shift, reversal."""

import numpy as np
import pytest
import torch

from lstm_course.data.pairs import PairBatch, PairDataset, PairVocab, make_pair_loader, pair_collate
from lstm_course.data.translation import (
    DATE_FORMATS,
    copy_pairs,
    date_pairs,
    random_dates,
    reversal_pairs,
)


def test_vocab_specials_come_first_then_sorted_characters():
    v = PairVocab("cab")
    assert v.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"]
    assert (v.pad_id, v.bos_id, v.eos_id, v.unk_id) == (0, 1, 2, 3)
    assert v.encode("cabz") == [6, 4, 5, 3]


def test_vocab_decode_stops_at_eos_and_skips_pad_and_bos():
    v = PairVocab("ab")
    assert v.decode([1, 4, 5, 2, 4]) == "ab"
    assert v.decode(torch.tensor([4, 0, 5])) == "ab"
    assert v.decode([3]) == "?"
    with pytest.raises(ValueError, match=r"\[0, V\)"):
        v.decode([99])


def test_collate_pads_and_shifts_the_target_by_one_step():
    v = PairVocab("abc")
    items = [
        (torch.tensor([4, 5, 6]), torch.tensor([6])),
        (torch.tensor([4]), torch.tensor([5, 4])),
    ]
    batch = pair_collate(items)
    assert isinstance(batch, PairBatch)
    assert batch.src.tolist() == [[4, 4], [5, 0], [6, 0]]  # (S, B), padded with 0
    assert batch.src_lengths.tolist() == [3, 1]
    assert batch.tgt_in.tolist() == [[1, 1], [6, 5], [0, 4]]  # <bos> y_1 ..
    assert batch.tgt_out.tolist() == [[6, 5], [2, 4], [0, 2]]  # .. y_n <eos>
    assert batch.tgt_mask.tolist() == [[True, True], [True, True], [False, True]]
    assert v.decode(batch.tgt_out[:, 1]) == "ba"


def test_dataset_reverses_sources_only_when_asked():
    pairs = [("abc", "x")]
    plain, reversed_ = PairDataset(pairs), PairDataset(pairs, reverse_source=True)
    assert plain.src_vocab.decode(plain[0][0]) == "abc"
    assert reversed_.src_vocab.decode(reversed_[0][0]) == "cba"
    assert plain.tgt_vocab.decode(plain[0][1]) == reversed_.tgt_vocab.decode(reversed_[0][1]) == "x"


@pytest.mark.parametrize("bad", [[], [("", "x")], [("a",)], [("a", 3)]])
def test_dataset_rejects_bad_pairs(bad):
    with pytest.raises(ValueError, match="pair"):
        PairDataset(bad)


def test_loader_is_seeded():
    data = PairDataset(reversal_pairs(50, 2, 6, seed=0))
    first = [b.src for b in make_pair_loader(data, 8, seed=3)]
    again = [b.src for b in make_pair_loader(data, 8, seed=3)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))


def test_date_pairs_are_seeded_and_their_targets_are_iso_dates_of_the_source():
    pairs = date_pairs(200, seed=4)
    assert pairs == date_pairs(200, seed=4)
    assert pairs != date_pairs(200, seed=5)
    dates = random_dates(200, seed=4)
    assert [t for _, t in pairs] == [d.isoformat() for d in dates]
    for (source, _), d in zip(pairs, dates, strict=True):
        assert source in {f(d) for f in DATE_FORMATS.values()}
    assert len({s.split()[0] for s, _ in pairs}) > 20  # many formats and days in use


def test_date_formats_render_a_known_date():
    import datetime

    d = datetime.date(1998, 3, 3)
    rendered = {name: f(d) for name, f in DATE_FORMATS.items()}
    assert rendered == {name: name for name in DATE_FORMATS}  # each format is named by it


def test_date_pairs_check_formats():
    with pytest.raises(ValueError, match="DATE_FORMATS"):
        date_pairs(3, formats=["no such format"])


def test_reversal_pairs_reverse_and_respect_lengths():
    pairs = reversal_pairs(300, 5, 9, seed=1)
    assert all(t == s[::-1] and 5 <= len(s) <= 9 for s, t in pairs)
    assert {len(s) for s, _ in pairs} == set(range(5, 10))
    assert set("".join(s for s, _ in pairs)) == set("0123456789")
    with pytest.raises(ValueError, match="max_len"):
        reversal_pairs(3, 5, 4)
    with pytest.raises(ValueError, match="alphabet"):
        reversal_pairs(3, 1, 2, alphabet="a")


def test_copy_pairs_copy_the_strings_reversal_pairs_reverse():
    copies, reversals = copy_pairs(50, 3, 8, seed=2), reversal_pairs(50, 3, 8, seed=2)
    assert all(s == t for s, t in copies)
    assert [s for s, _ in copies] == [s for s, _ in reversals]
    with pytest.raises(ValueError, match="min_len"):
        copy_pairs(3, 0, 2)


def test_bucketed_loader_sees_every_pair_once_per_pass_in_similar_lengths():
    data = PairDataset(reversal_pairs(1000, 2, 40, seed=0))
    loader = make_pair_loader(data, 16, seed=1, bucket=True)
    assert len(loader) == 63  # ceil(1000 / 16)
    batches = list(loader)
    assert sum(b.src.shape[1] for b in batches) == 1000
    seen = sorted(
        tuple(b.src[:n, k].tolist()) for b in batches for k, n in enumerate(b.src_lengths)
    )
    assert seen == sorted(tuple(data[i][0].tolist()) for i in range(1000))
    spread = [int(b.src_lengths.max() - b.src_lengths.min()) for b in batches]
    assert np.mean(spread) < 3  # sorted within pools of 50 batches: lengths nearly equal
    again = [b.src for b in make_pair_loader(data, 16, seed=1, bucket=True)]
    assert all(torch.equal(a.src, b) for a, b in zip(batches, again, strict=True))
    second_pass = [b.src for b in loader]
    assert not all(torch.equal(a.src, b) for a, b in zip(batches, second_pass, strict=True))
