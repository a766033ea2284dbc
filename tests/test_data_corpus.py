"""The stdlib docstring corpus: size, content, no imports, caching; and its statistics."""

import sys
import time

import pytest

from lstm_course.data import CorpusStats, Vocab, corpus_stats, stdlib_docstring_corpus
from lstm_course.data import corpus as corpus_module


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the corpus once, from scratch, caching into a fresh folder; note new modules."""
    cache_home = tmp_path_factory.mktemp("xdg-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(cache_home))
    stdlib_docstring_corpus.cache_clear()
    before = set(sys.modules)
    start = time.perf_counter()
    text = stdlib_docstring_corpus()
    seconds = time.perf_counter() - start
    new_modules = set(sys.modules) - before
    yield {"text": text, "seconds": seconds, "new_modules": new_modules, "cache": cache_home}
    mp.undo()
    stdlib_docstring_corpus.cache_clear()


def test_corpus_is_large_english_prose(built):
    text = built["text"]
    assert isinstance(text, str) and len(text) > 500_000
    assert text.isascii()
    letters = sum(c.isalpha() or c == " " for c in text) / len(text)
    assert letters > 0.8
    assert ">>>" not in text  # doctest examples are dropped
    assert "Return" in text and "\n\n" in text
    assert "\n\n\n" not in text


def test_building_imports_no_stdlib_module(built):
    assert "antigravity" not in sys.modules and "this" not in sys.modules
    assert not built["new_modules"], f"building imported {sorted(built['new_modules'])}"


def test_second_call_is_cached_in_memory_and_on_disk(built):
    start = time.perf_counter()
    assert stdlib_docstring_corpus() is built["text"]
    assert time.perf_counter() - start < 0.05
    (cached,) = (built["cache"] / "lstm_course").glob("corpus-*.txt")
    assert cached.name.startswith(f"corpus-{sys.version_info.major}.{sys.version_info.minor}.")
    stdlib_docstring_corpus.cache_clear()  # memory gone: this call reads the disk cache
    start = time.perf_counter()
    again = stdlib_docstring_corpus()
    assert time.perf_counter() - start < min(0.5, built["seconds"] / 3)
    assert again == built["text"]


def test_disk_cache_writes_atomically_and_skips_unwritable_folders(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return "some text\r\nwith a carriage return\n"

    path = tmp_path / "sub" / "corpus.txt"
    assert corpus_module._read_or_build(path, build) == build()
    assert corpus_module._read_or_build(path, build) == build()
    assert len(calls) == 3  # twice here, once by the first call: the second one read the file
    assert [p.name for p in path.parent.iterdir()] == ["corpus.txt"]  # no temporary left over
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert corpus_module._read_or_build(blocked / "corpus.txt", build) == build()


def test_cache_file_follows_xdg_and_the_file_list(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    a = corpus_module._cache_file([("os.py", 10)])
    assert a.parent == tmp_path / "lstm_course"
    assert a != corpus_module._cache_file([("os.py", 11)])
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG spec says
    assert "relative" not in str(corpus_module._cache_file([("os.py", 10)]))


def test_clean_drops_doctests_and_non_prose():
    doc = """Add two numbers.

        >>> add(1, 2)
        3

        Works for floats too."""
    assert corpus_module._clean(doc) == "Add two numbers.\n\nWorks for floats too."
    assert corpus_module._clean("x = {1: [2, 3], 4: (5, 6)}") is None
    assert corpus_module._clean("Caf\u00e9 au lait is good.") is None


def test_corpus_stats_and_the_unigram_baseline(built):
    stats = corpus_stats(built["text"])
    assert isinstance(stats, CorpusStats) and stats.chars == len(built["text"])
    assert 60 <= stats.distinct <= 97
    assert 4.0 < stats.unigram_bits < 5.5
    assert len(Vocab.from_text(built["text"])) == stats.distinct + 1
    assert corpus_stats("abab") == (4, 2, 1.0)
    assert corpus_stats("aaaa").unigram_bits == 0.0
    with pytest.raises(ValueError, match="text must be a non-empty str"):
        corpus_stats("")
