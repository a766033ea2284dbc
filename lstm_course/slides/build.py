"""Build reveal.js decks from lecture notebooks that open offline (``make slides``).

    build/slides/
        index.html                      # a list of the decks
        01_sequences_and_rnns.slides.html
        ...
        assets/reveal.js/...            # copied from lstm_course/slides/vendor/
        assets/mathjax/es5/tex-svg-full.js

Each deck references its scripts and style sheets by relative paths into ``assets/`` and
embeds its figures as data URIs, so the folder works from disk (file://) or from any server,
with no network. The notebooks are not executed: the decks show their saved outputs.
"""

import html
import re
import shutil
import time
from pathlib import Path

from lstm_course.slides.structure import (
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    assign_slide_types,
    explicit_type,
    fold_long_code,
    split_at_headings,
)
from lstm_course.slides.widgets import static_widgets

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
TEMPLATES = HERE / "template"
TEMPLATE_NAME = "lstm_reveal"
ASSETS = "assets"  # folder beside the decks, relative to them
REVEAL_PREFIX = f"{ASSETS}/reveal.js"
MATHJAX_URL = f"{ASSETS}/mathjax/es5/tex-svg-full.js"
DECK_SUFFIX = ".slides.html"
_TEST_MARKER = re.compile(r"#\s*NBVAL_[A-Z_]+")


def default_notebooks():
    """Every lectures/*.ipynb: ./lectures when it exists, else lectures/ beside the package."""
    lectures = Path("lectures")
    if not lectures.is_dir():
        lectures = HERE.parents[1] / "lectures"
    found = sorted(lectures.glob("*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no lecture notebooks in {lectures}/")
    return found


def build_slides(notebooks=None, out_dir=Path("build/slides"), progress=print):
    """Write one reveal.js deck per notebook into ``out_dir``, plus the assets and an index.

    Args:
        notebooks: paths of .ipynb files (default: every lectures/*.ipynb).
        out_dir: output folder, created if needed; existing decks are overwritten.
        progress: called with one line per deck written (``None`` for silence).
    Returns:
        the paths of the decks written, in the order of ``notebooks``.
    Raises:
        FileNotFoundError: a notebook does not exist (nothing is written then).
        ValueError: a notebook is unreadable, has a bad slide type or hides every cell.
    """
    notebooks = default_notebooks() if notebooks is None else [Path(p) for p in notebooks]
    for path in notebooks:
        if not path.is_file():
            raise FileNotFoundError(f"no such notebook: {path}")
    names = [_deck_name(path) for path in notebooks]
    if len(set(names)) != len(names):
        raise ValueError("two notebooks would write the same deck: " + ", ".join(names))
    progress = progress or (lambda line: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    exporter = make_exporter()
    decks, titles = [], []
    for path, name in zip(notebooks, names, strict=True):
        start = time.perf_counter()
        body, slides, title = render_deck(path, exporter)
        deck = out_dir / name
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
        titles.append(title)
        progress(f"wrote {deck} ({slides} slides, {time.perf_counter() - start:.1f} s)")
    write_index(out_dir, decks, titles)
    return decks


def render_deck(path, exporter=None):
    """(HTML, number of slides, title) of the deck for the notebook at ``path``."""
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # not JSON, not a notebook, an unknown version...
        raise ValueError(f"{path} is not a readable notebook: {error}") from None
    nb, slides = prepare_notebook(nb, name=str(path))
    exporter = exporter or make_exporter()
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)}}
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except ValueError as error:  # e.g. "All cells are hidden"
        raise ValueError(f"{path}: {error}") from None
    return body, slides, _title(nb, path)


def prepare_notebook(nb, name="notebook"):
    """(the deck's copy of ``nb``, number of slides): static widgets, no test markers, markdown
    split at headings, long code folded, every cell with a slide type. ``nb`` is not modified."""
    import nbformat

    for index, cell in enumerate(nb["cells"]):  # name the cell as the author numbers it
        explicit_type(cell, where=f"{name}, cell {index}")
    nb = fold_long_code(split_at_headings(strip_test_markers(static_widgets(nb))))
    nb, slides = assign_slide_types(nb, name=name)
    return nbformat.from_dict(nb), slides


def strip_test_markers(nb):
    """Drop the ``# NBVAL_CHECK_OUTPUT`` / ``# NBVAL_IGNORE_OUTPUT`` lines: test plumbing."""
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            lines = cell["source"].splitlines(keepends=True)
            kept = [line for line in lines if not _TEST_MARKER.fullmatch(line.strip())]
            cell["source"] = "".join(kept)
    return nb


def make_exporter():
    """nbconvert's SlidesExporter on our template, with every asset URL pointing into assets/."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    exporter = config.SlidesExporter
    exporter.extra_template_basedirs = [str(TEMPLATES)]
    exporter.template_name = TEMPLATE_NAME
    exporter.reveal_url_prefix = REVEAL_PREFIX
    exporter.reveal_theme = "white"
    exporter.reveal_transition = "slide"
    exporter.reveal_number = "c/t"
    exporter.reveal_width = str(SLIDE_WIDTH)
    exporter.reveal_height = str(SLIDE_HEIGHT)
    exporter.mathjax_url = MATHJAX_URL
    # Never used by our template; set so that no CDN default can slip into a deck.
    exporter.require_js_url = ""
    exporter.jquery_url = ""
    exporter.mermaid_js_url = ""
    exporter.widget_renderer_url = ""
    exporter.exclude_input_prompt = True  # "In [12]:" only costs width on a slide
    exporter.exclude_output_prompt = True
    exporter.embed_images = True  # markdown images become data URIs too
    return SlidesExporter(config=config)


def copy_assets(out_dir):
    """Copy the vendored reveal.js and MathJax (with their licences) to out_dir/assets/."""
    target = Path(out_dir) / ASSETS
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(VENDOR, target, ignore=shutil.ignore_patterns("refresh.sh", "__pycache__"))
    return target


def write_index(out_dir, decks, titles):
    """out_dir/index.html: a link to each deck (only to decks written by this build)."""
    items = "\n".join(
        f'<li><a href="{html.escape(deck.name)}">{html.escape(title)}</a></li>'
        for deck, title in zip(decks, titles, strict=True)
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>lstm-course slides</title>
<style>body {{ font-family: sans-serif; max-width: 48em; margin: 2em auto; }}</style>
</head>
<body>
<h1>lstm-course slides</h1>
<ul>
{items}
</ul>
<p>Arrow keys move between slides, Esc shows an overview, S opens the speaker view.
Interactive widgets appear as static snapshots: open the notebook in JupyterLab to use them.
Everything here works offline.</p>
</body>
</html>
"""
    index = Path(out_dir) / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _deck_name(path):
    return Path(path).stem + DECK_SUFFIX


def _title(nb, path):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem
