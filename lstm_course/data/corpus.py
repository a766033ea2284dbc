"""A real English corpus, offline: the docstrings of the installed Python standard library.

Every Python installation ships about 1.6 MB of hand-written English in its docstrings, so the
language-model lectures get real text without a download. The files are parsed with ``ast``,
never imported: importing runs module code (``antigravity`` opens a browser, ``this`` prints).
"""

import ast
import collections
import functools
import hashlib
import inspect
import math
import os
import platform
import sysconfig
import tempfile
from pathlib import Path
from typing import NamedTuple

# Folders that hold tests, third-party packages, generated or demo code rather than the
# library's own documentation.
_SKIP_DIRS = frozenset(
    {
        "test",
        "tests",
        "idle_test",
        "site-packages",
        "dist-packages",
        "lib2to3",
        "__pycache__",
        "turtledemo",
        "encodings",  # generated codec modules: one boilerplate docstring per codec
    }
)
_MIN_PROSE = 0.75  # fraction of letters and spaces for a docstring to count as prose
_FORMAT = "1"  # bump when the cleaning changes, so that old disk caches are not reused


def _stdlib_files(root):
    """Sorted [(relative posix path, size in bytes)] of the stdlib's own ``*.py`` files."""
    files = []
    for folder, dirs, names in os.walk(root):
        # Pruning in place stops os.walk from descending; sorting fixes the order everywhere.
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("config-"))
        for name in sorted(names):
            if not name.endswith(".py") or name.startswith(("test_", "_sysconfigdata")):
                continue
            path = Path(folder, name)
            files.append((path.relative_to(root).as_posix(), path.stat().st_size))
    return files


def _docstrings(node):
    """Docstrings of a module and all its classes and functions, in source order."""
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        doc = ast.get_docstring(node, clean=False)
        if doc:
            yield doc
    for child in ast.iter_child_nodes(node):
        yield from _docstrings(child)


def _clean(doc):
    """The prose of one docstring, or None when too little of it is prose.

    Doctest examples (a ``>>>`` line and everything up to the next blank line: continuation
    lines and the expected output) are dropped: they are code and interpreter output, and a
    character model would spend its capacity on prompts instead of English. Docstrings with
    any non-ASCII character are dropped too (a handful), which keeps the vocabulary at the
    95 printable ASCII characters plus newline.
    """
    lines, in_example = [], False
    for line in inspect.cleandoc(doc).expandtabs(4).splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_example = True
        elif not stripped:
            in_example = False
        if not in_example:
            lines.append(line.rstrip())
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:  # removed examples leave runs of blank lines
        text = text.replace("\n\n\n", "\n\n")
    if not text or not text.isascii():
        return None
    prose = sum(c.isalpha() or c == " " for c in text) / len(text)
    return text if prose >= _MIN_PROSE else None


def _build(root, files):
    """Parse every file and join the cleaned docstrings, first occurrence only, by blank lines."""
    kept, seen = [], set()
    for rel, _ in files:
        try:
            tree = ast.parse(Path(root, rel).read_bytes())  # bytes: honours coding cookies
        except (SyntaxError, ValueError, OSError):
            continue  # a broken or unreadable file loses its docstrings, nothing more
        for doc in _docstrings(tree):
            text = _clean(doc)
            if text is not None and text not in seen:
                seen.add(text)
                kept.append(text)
    return "\n\n".join(kept) + "\n"


def _cache_file(files):
    """Where the corpus for this Python and this exact set of files is cached, or None."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: unset, empty or relative means the default
        try:
            base = Path.home() / ".cache"
        except RuntimeError:  # no home directory: no disk cache
            return None
    key = hashlib.sha256(_FORMAT.encode())
    for rel, size in files:
        key.update(f"{rel}\t{size}\n".encode())
    name = f"corpus-{platform.python_version()}-{key.hexdigest()[:16]}.txt"
    return Path(base, "lstm_course", name)


def _write_atomic(path, text):
    """Write to a temporary file beside ``path``, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache of public text need not be
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_or_build(path, build):
    """The text cached at ``path``; else ``build()``, cached there if the folder is writable."""
    if path is not None:
        try:
            with open(path, encoding="utf-8", newline="") as f:  # newline="": exact bytes
                return f.read()
        except (OSError, UnicodeDecodeError):
            pass
    text = build()
    if path is not None:
        try:
            _write_atomic(path, text)
        except OSError:
            pass  # a read-only or missing cache folder only costs the rebuild next time
    return text


@functools.lru_cache(maxsize=1)
def stdlib_docstring_corpus():
    """The installed standard library's docstrings, cleaned and joined: about 1.6 MB of English.

    Files: every ``*.py`` under ``sysconfig.get_paths()["stdlib"]`` in sorted order, except
    test folders, ``site-packages``, ``lib2to3``, ``turtledemo`` and the generated
    ``encodings``. Docstrings of modules, classes and functions are read with ``ast`` (no
    module is imported), cleaned with ``inspect.cleandoc``, stripped of doctest examples
    (``>>>`` blocks), kept when ASCII and at least 75% letters and spaces, deduplicated, and
    joined by blank lines.

    Building takes a few seconds; the result is cached in memory and on disk at
    ``$XDG_CACHE_HOME/lstm_course/corpus-<python version>-<hash>.txt`` (``~/.cache`` without
    XDG_CACHE_HOME), where the hash covers the file list and sizes, so a different Python
    gets its own file. If that folder is not writable the corpus is simply rebuilt next time.

    Returns:
        str, the corpus (ends with a newline). Same Python, same text.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    files = _stdlib_files(root)
    return _read_or_build(_cache_file(files), lambda: _build(root, files))


class CorpusStats(NamedTuple):
    """What ``corpus_stats`` returns."""

    chars: int  # length of the text
    distinct: int  # distinct characters, the V of a character model (without <unk>)
    unigram_bits: float  # entropy of the character frequencies, in bits per character


def corpus_stats(text):
    """Size, alphabet and unigram entropy of a text.

    The unigram entropy H = -sum_c p(c) log2 p(c) is the cross-entropy (in bits per character)
    of the best model that ignores context: a character language model is only using its
    memory when it goes below that (about 4.7 bits for the stdlib corpus).

    Args:
        text: a non-empty str.
    Returns:
        ``CorpusStats(chars, distinct, unigram_bits)``.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text must be a non-empty str, got {type(text).__name__} {text!r:.40}")
    counts = collections.Counter(text)
    n = len(text)
    bits = -sum(c / n * math.log2(c / n) for c in counts.values())
    return CorpusStats(chars=n, distinct=len(counts), unigram_bits=bits)
