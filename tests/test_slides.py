"""Slide decks (lstm_course.slides): offline assets, slide structure, widgets, math, errors."""

import argparse
import base64
import json
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lstm_course import cli, slides
from lstm_course.cli import CommandError, UsageError
from lstm_course.slides import build, structure

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ROOT / "lectures" / "01_sequences_and_rnns.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CDN_HOSTS = ("unpkg.com", "cdnjs", "jsdelivr", "googleapis", "cloudflare", "mathjax.org")


class Deck(HTMLParser):
    """The parts of a deck the tests look at: sections, loaded URLs, headings, notes."""

    def __init__(self, text):
        super().__init__()
        self.depth = 0
        self.slides = []  # per top-level <section>: its sub-slides' first headings
        self.loaded = []  # (tag, url) of every resource the browser would fetch
        self.notes = 0
        self._heading = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.depth += 1
            if self.depth == 1:
                self.slides.append([])
            elif self.depth == 2:
                self.slides[-1].append(None)
        if tag in ("script", "img", "iframe", "source", "audio", "video") and attrs.get("src"):
            self.loaded.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            self.loaded.append((tag, attrs["href"]))
        if tag == "aside" and "notes" in (attrs.get("class") or ""):
            self.notes += 1
        if tag in ("h1", "h2", "h3") and self.depth == 2 and self.slides[-1][-1] is None:
            self._heading = ""

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.slides[-1][-1] = self._heading.strip().rstrip("¶").strip()
            self._heading = None


def assert_offline(deck_path):
    """Every script, style sheet, image or font the deck loads is local and exists."""
    text = deck_path.read_text(encoding="utf-8")
    deck = Deck(text)
    urls = [url for _, url in deck.loaded]
    urls += re.findall(r"""@import\s+(?:url\()?["']?([^"')\s;]+)""", text)
    urls += re.findall(r"""url\(\s*["']?([^"')]+)""", text)
    urls += re.findall(r"""\bimport\s[^;]*?\bfrom\s+["']([^"']+)""", text)
    assert deck.loaded, "no <script src> or <link href> at all: the parser missed them"
    for url in urls:
        if url.startswith(("data:", "#")):
            continue
        assert not re.match(r"^([a-z]+:)?//", url, re.I), f"{deck_path.name} loads {url}"
        assert (deck_path.parent / url.split("?")[0]).is_file(), f"{url} is missing"
    for host in CDN_HOSTS:
        assert host not in text, f"{deck_path.name} mentions {host}"
    return deck


def tiny_png():
    """A valid 4 x 3 grey PNG, without any imaging library."""

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x80" * 4 for _ in range(3))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def widget_state(ids):
    """Saved state of a tqdm-style bar and of an interact() with one slider and a figure."""
    bar, left, progress, right, box, slider, out = ids
    model = {"model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0"}
    state = {
        bar: {**model, "model_name": "HBoxModel", "state": {"children": [
            f"IPY_MODEL_{left}", f"IPY_MODEL_{progress}", f"IPY_MODEL_{right}"]}},
        left: {**model, "model_name": "HTMLModel", "state": {"value": "100%"}},
        progress: {**model, "model_name": "FloatProgressModel", "state": {
            "value": 50.0, "max": 50.0}},
        right: {**model, "model_name": "HTMLModel", "state": {"value": " 50/50 [00:01&lt;00:00]"}},
        box: {**model, "model_name": "VBoxModel", "state": {"children": [
            f"IPY_MODEL_{slider}", f"IPY_MODEL_{out}"]}},
        slider: {**model, "model_name": "FloatSliderModel", "state": {
            "description": "w_h", "value": 0.9, "min": -2.0, "max": 2.0}},
        out: {**model, "model_name": "OutputModel", "state": {"outputs": [{
            "output_type": "display_data", "metadata": {},
            "data": {"image/png": tiny_png(), "text/plain": "<Figure>"}}]}},
    }  # fmt: skip
    return {"application/vnd.jupyter.widget-state+json": {
        "state": state, "version_major": 2, "version_minor": 0}}  # fmt: skip


def widget_output(model_id, text):
    view = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    return new_output(
        "display_data",
        data={"application/vnd.jupyter.widget-view+json": view, "text/plain": text},
    )


def small_notebook(path):
    """Cells that exercise each rule; comments give the slide type each must get."""
    ids = [f"{i:032x}" for i in range(1, 8)]
    skipped, noted = new_code_cell("SKIPPED_SOURCE = 1"), new_markdown_cell("SPEAKER NOTE text")
    skipped.metadata.slideshow = {"slide_type": "skip"}
    noted.metadata.slideshow = {"slide_type": "notes"}
    forced, kept = new_code_cell("forced = 2"), new_markdown_cell("## Not a new slide")
    forced.metadata.slideshow = {"slide_type": "slide"}
    kept.metadata.slideshow = {"slide_type": "-"}
    train = new_code_cell("# NBVAL_CHECK_OUTPUT\nfit()")
    loss = new_output("stream", text="loss 0.1\n")
    train.outputs = [widget_output(ids[0], "  0%|   | 0/50"), loss]
    explore = new_code_cell("# NBVAL_IGNORE_OUTPUT\nexplorer()")
    explore.outputs = [widget_output(ids[4], "VBox(children=(FloatSlider(...")]
    long_code = new_code_cell("\n".join(f"line_{i} = {i}" for i in range(20)))
    equation = "$$h_t = \\tanh(x_t W_x + h_{t-1} W_h) \\tag{1.1}$$"
    cells = [
        new_markdown_cell("# Deck title\n\nInline math $a^2 + b^2 = c^2$ survives."),  # slide 1
        new_code_cell("x = 1"),  # -
        new_markdown_cell(f"## Section A\n\n{equation}"),  # slide 2
        train,  # -
        new_markdown_cell("### Part A.1\n\nText."),  # subslide
        new_markdown_cell("Closing words.\n\n```python\n# not a heading\n```\n\n## Section B"),
        # ^ "-", then its second part "## Section B" starts slide 3
        new_code_cell(""),  # empty: skip
        skipped,
        noted,
        forced,  # slide 4 (explicit)
        kept,  # explicit "-" wins over the heading
        explore,
        long_code,  # folded
    ]
    nb = new_notebook(cells=cells, metadata={"widgets": widget_state(ids)})
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def small_deck(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("slides")
    notebook = small_notebook(tmp / "toy.ipynb")
    lines = []
    decks = slides.build_slides([notebook], out_dir=tmp / "out", progress=lines.append)
    return decks[0], lines


def test_small_deck_is_offline_and_points_at_local_assets(small_deck):
    deck_path, lines = small_deck
    assert deck_path.name == "toy.slides.html" and len(lines) == 1 and "4 slides" in lines[0]
    deck = assert_offline(deck_path)
    scripts = [url for tag, url in deck.loaded if tag == "script"]
    styles = [url for tag, url in deck.loaded if tag == "link"]
    assert "assets/mathjax/es5/tex-svg-full.js" in scripts
    assert "assets/reveal.js/dist/reveal.js" in scripts
    assert "assets/reveal.js/dist/reveal.css" in styles
    assert (deck_path.parent / "assets" / "reveal.js" / "LICENSE").is_file()
    assert (deck_path.parent / "assets" / "mathjax" / "LICENSE").is_file()
    assert not (deck_path.parent / "assets" / "refresh.sh").exists()
    index = (deck_path.parent / "index.html").read_text()
    assert 'href="toy.slides.html"' in index and "Deck title" in index


def test_small_deck_follows_the_metadata_and_the_rules(small_deck):
    text = small_deck[0].read_text(encoding="utf-8")
    deck = Deck(text)
    # slides: title, Section A (+ Part A.1 below it), Section B (split out of a cell), forced
    assert [len(subs) for subs in deck.slides] == [1, 2, 1, 1]
    assert [subs[0] for subs in deck.slides[:3]] == ["Deck title", "Section A", "Section B"]
    assert deck.slides[1][1] == "Part A.1"
    assert "Not a new slide" in text and "forced" in text  # kept on the forced slide
    assert "SKIPPED_SOURCE" not in text
    assert deck.notes == 1 and "SPEAKER NOTE" in text
    assert "NBVAL_" not in text  # test markers are not shown on slides
    assert "# not a heading" in text  # a '#' inside a code fence does not split the cell
    assert '<details class="lstm-code-fold"><summary>code (20 lines)</summary>' in text


def test_small_deck_keeps_math_and_makes_widgets_static(small_deck):
    text = small_deck[0].read_text(encoding="utf-8")
    assert "$a^2 + b^2 = c^2$" in text
    assert "h_{t-1} W_h) \\tag{1.1}$$" in text
    assert "widget-view+json" not in text and "widget-state+json" not in text
    assert re.search(r'<progress (max="50" value="50"|value="50" max="50")>', text)
    assert "50/50 [00:01&lt;00:00]" in text  # unescaped once from the state, escaped once here
    assert "<b>w_h</b> = 0.9" in text and "interactive in JupyterLab" in text
    assert "data:image/png;base64," + tiny_png()[:40] in text  # the Output widget's figure


def test_real_lecture_deck(tmp_path):
    nb = nbformat.read(LECTURE, as_version=4)
    (deck_path,) = slides.build_slides([LECTURE], out_dir=tmp_path, progress=None)
    deck = assert_offline(deck_path)
    text = deck_path.read_text(encoding="utf-8")
    # each '#'/'##' heading (outside code fences) opens its own slide, in order
    expected = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = re.sub(r"```.*?```", "", cell.source, flags=re.S)
            expected += re.findall(r"^##? (.+)$", source, flags=re.M)
    titles = [subs[0] for subs in deck.slides]
    assert len(expected) >= 5 and len(titles) == len(expected)
    for title, heading in zip(titles, expected, strict=True):
        assert title is not None and title.split()[:3] == heading.replace("$", "").split()[:3]
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    inline = re.search(r"\$[^$\n]+\$", prose)
    assert inline.group(0).replace("&", "&amp;").replace("<", "&lt;") in text
    assert text.count("data:image/png;base64,") >= 5  # the lecture's figures, embedded


def test_missing_or_broken_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook: .*nope.ipynb"):
        slides.build_slides([tmp_path / "nope.ipynb"], out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything is written

    bad = tmp_path / "bad.ipynb"
    nb = new_notebook(cells=[new_markdown_cell("# t"), new_markdown_cell("x")])
    nb.cells[1].metadata.slideshow = {"slide_type": "slid"}
    nbformat.write(nb, bad)
    with pytest.raises(ValueError, match=r"bad.ipynb, cell 1: .*slide_type .*got 'slid'"):
        slides.build_slides([bad], out_dir=tmp_path / "out")
    (tmp_path / "junk.ipynb").write_text("not json")
    with pytest.raises(ValueError, match="junk.ipynb is not a readable notebook"):
        slides.build_slides([tmp_path / "junk.ipynb"], out_dir=tmp_path / "out")


def test_command_line_pair(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    slides.configure(parser)
    assert parser.parse_args([]).out == Path("build/slides")
    with pytest.raises(UsageError, match="no such notebook"):
        slides.run(parser.parse_args([str(tmp_path / "missing.ipynb")]), [])
    junk = tmp_path / "junk.ipynb"
    junk.write_text("{")
    with pytest.raises(CommandError, match="not a readable notebook"):
        slides.run(parser.parse_args([str(junk), "--out", str(tmp_path / "o")]), [])
    good = tmp_path / "good.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Hello")]), good)
    status = slides.run(parser.parse_args([str(good), "--out", str(tmp_path / "o")]), [])
    assert status == 0 and (tmp_path / "o" / "good.slides.html").is_file()
    assert "1 deck(s)" in capsys.readouterr().out


def test_wired_into_the_command_line(tmp_path, capsys):
    """`lstm-course slides`: a missing notebook is one line and exit status 2."""
    assert [c.name for c in cli.COMMANDS].count("slides") == 1
    assert cli.main(["slides", str(tmp_path / "missing.ipynb")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("lstm-course slides: error: no such")


def test_overflow_rule_and_split_rule():
    def tall():
        cell = new_code_cell("y = 2")
        cell.outputs = [new_output("stream", text="row\n" * 20)]  # 20 lines of output
        return cell

    cells = [new_markdown_cell("# T"), tall(), tall(), new_markdown_cell("Next we fit:"), tall()]
    nb, count = structure.assign_slide_types(new_notebook(cells=cells), budget=600)
    types = [c["metadata"]["slideshow"]["slide_type"] for c in nb["cells"]]
    # the second tall cell does not fit under the first; "Next we fit:" goes with its cell
    assert count == 1 and types == ["slide", "-", "subslide", "subslide", "-"]
    assert "slideshow" not in cells[1].metadata  # the input is not modified

    md = "Intro.\n\n$$\n# not a heading inside math\n$$\n\n### Sub\nmore\n## Next\n"
    nb = structure.split_at_headings(new_notebook(cells=[new_markdown_cell(md)]))
    assert [c.source.splitlines()[0] for c in nb.cells] == ["Intro.", "### Sub", "## Next"]
    assert len({c.id for c in nb.cells}) == 3


def test_vendored_assets_are_small_licensed_and_self_contained():
    vendor = build.VENDOR
    files = [p for p in vendor.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3_000_000
    assert all((vendor / name / "LICENSE").is_file() for name in ("reveal.js", "mathjax"))
    readme = (vendor / "README.md").read_text()
    reveal = (vendor / "reveal.js" / "dist" / "reveal.js").read_text()
    mathjax = (vendor / "mathjax" / "es5" / "tex-svg-full.js").read_text()
    reveal_version = re.search(r'"(5\.\d+\.\d+)"', reveal).group(1)
    assert f"| {reveal_version} |" in readme
    assert re.search(r'VERSION\s*=\s*"3\.2\.2"|"3\.2\.2"', mathjax) and "| 3.2.2 |" in readme
    # no web fonts or other files behind the style sheets
    for css in (p for p in vendor.rglob("*.css") if p.is_file()):
        for url in re.findall(r"""url\(\s*["']?([^"')]+)""", css.read_text()):
            assert url.startswith("data:"), f"{css.name} loads {url}"
    scripts = [p for p in vendor.rglob("*.js") if p.is_file()]
    assert len(scripts) == 3 and all("sourceMappingURL" not in p.read_text() for p in scripts)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_deck_renders_math_in_a_browser(small_deck, tmp_path):
    deck_path = small_deck[0]
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
        "--dump-dom", deck_path.as_uri(),
    ]  # fmt: skip
    dom = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
    assert 'class="reveal' in dom and " ready" in dom  # reveal.js initialised
    assert dom.count("<mjx-container") >= 2 and "<svg" in dom  # MathJax typeset both formulas
    assert "$a^2" not in dom.split("<body", 1)[1]  # no raw TeX left on the page
    assert json.dumps("(1.1)")[1:-1] in dom  # the equation's \tag
