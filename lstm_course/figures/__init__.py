"""Every figure the lectures show, regenerated from code: one function per figure.

Each lecture has a module here (lecture03.py, ...) whose functions are registered with
``@figure``: the name is the lecture and the figure (``lecture03_clipping``), the function
takes no arguments, computes what the figure shows with the lecture's own calls and seeds
(shared computations are cached per lecture) and returns a matplotlib Figure.

    lstm-course figures                  # all of them into figures/, PNG and SVG
    lstm-course figures --lecture 3      # one lecture's
    lstm-course figures --only lecture03_clipping

Deterministic: seeded, one torch thread, fixed sizes and fonts, and SVGs without dates or
random ids, so a second run on the same machine gives the same pixels (tests/test_figures.py
regenerates every figure and compares it with the committed PNG).
"""

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

REGISTRY = {}  # name -> FigureSpec, filled by importing the lecture modules
DPI = 100


@dataclasses.dataclass(frozen=True)
class FigureSpec:
    name: str  # "lecture03_clipping": the lecture and the figure
    lecture: int
    title: str  # one line, for the README's gallery
    draw: Callable  # () -> matplotlib.figure.Figure


def figure(lecture, title):
    """Register the decorated function as figure ``fn.__name__`` of ``lecture``."""

    def register(fn):
        prefix = f"lecture{lecture:02d}_"
        if not fn.__name__.startswith(prefix):
            raise ValueError(f"figure {fn.__name__!r} of lecture {lecture} must start {prefix!r}")
        if fn.__name__ in REGISTRY:
            raise ValueError(f"figure {fn.__name__!r} is registered twice")
        REGISTRY[fn.__name__] = FigureSpec(fn.__name__, lecture, title, fn)
        return fn

    return register


def load_all():
    """Import every lecture module (which registers its figures); returns the registry."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("lecture"):
            importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY


def select(lectures=None, only=None):
    """Registered names, in lecture and definition order, filtered by lecture numbers or names."""
    load_all()
    names = [s.name for s in sorted(REGISTRY.values(), key=lambda s: s.lecture)]
    if lectures:
        names = [n for n in names if REGISTRY[n].lecture in set(lectures)]
    if only:
        unknown = sorted(set(only) - set(REGISTRY))
        if unknown:
            raise ValueError(
                f"no figure named {', '.join(unknown)}; see `lstm-course figures --list`"
            )
        names = [n for n in names if n in set(only)]
    return names


def _deterministic():
    """One torch thread and fixed matplotlib settings: the same pixels on every run."""
    import matplotlib

    matplotlib.use("Agg")
    import torch

    torch.set_num_threads(1)
    matplotlib.rcdefaults()
    matplotlib.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "svg.fonttype": "path"})


def render(name):
    """The Figure of registered figure ``name`` (computing what it needs)."""
    _deterministic()
    load_all()
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = name  # stable ids inside the SVG
    fig = REGISTRY[name].draw()
    if fig is None:
        raise TypeError(f"figure {name} returned None; it must return its matplotlib Figure")
    return fig


def save(fig, out_dir, name, formats=("png", "svg")):
    """Write ``out_dir/name.png`` and ``.svg`` without timestamps; returns the paths."""
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def generate(names, out_dir, log=print):
    """Render and save each figure; returns {name: [paths]}."""
    written = {}
    for k, name in enumerate(names, 1):
        written[name] = save(render(name), out_dir, name)
        log(f"[{k}/{len(names)}] {name}: {REGISTRY[name].title}")
    return written


def _generate_group(names, out_dir):
    """Worker of generate_parallel: one lecture's figures in a process of its own."""
    generate(names, out_dir, log=lambda line: None)
    return names


def generate_parallel(names, out_dir, jobs=2, log=print):
    """generate() with lectures spread over ``jobs`` processes (one torch thread each)."""
    if jobs <= 1:
        return generate(names, out_dir, log)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    groups = {}
    for name in names:
        groups.setdefault(REGISTRY[name].lecture, []).append(name)
    # The longest lectures first, so that the last process to finish is not a slow one.
    order = sorted(groups.values(), key=len, reverse=True)
    done = 0
    context = multiprocessing.get_context("spawn")  # no forked torch thread pools
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(_generate_group, group, out_dir) for group in order]
        for future in as_completed(futures):
            for name in future.result():
                done += 1
                log(f"[{done}/{len(names)}] {name}: {REGISTRY[name].title}")
    return {name: [Path(out_dir) / f"{name}.{fmt}" for fmt in ("png", "svg")] for name in names}


GALLERY_START, GALLERY_END = "<!-- figures:start -->", "<!-- figures:end -->"


def gallery_markdown(names=None, folder="figures"):
    """The README's gallery: per lecture, each figure as a linked thumbnail with its title."""
    names = select() if names is None else names
    lines = []
    for lecture in sorted({REGISTRY[n].lecture for n in names}):
        lines.append(f"\n**Lecture {lecture}**\n")
        for name in (n for n in names if REGISTRY[n].lecture == lecture):
            title = REGISTRY[name].title.replace('"', "'")
            lines.append(
                f'<a href="{folder}/{name}.svg"><img src="{folder}/{name}.png" width="240" '
                f'alt="{name}" title="{name}: {title}"></a>'
            )
    return "\n".join(lines).strip() + "\n"


def update_gallery(readme, names=None):
    """Rewrite the text between the gallery markers of ``readme`` (a Path); True if changed."""
    text = readme.read_text()
    start, end = text.find(GALLERY_START), text.find(GALLERY_END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no {GALLERY_START} ... {GALLERY_END} section")
    new = text[: start + len(GALLERY_START)] + "\n" + gallery_markdown(names) + text[end:]
    if new != text:
        readme.write_text(new)
    return new != text
