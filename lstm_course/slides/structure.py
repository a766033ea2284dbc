"""Which slide each notebook cell goes on: its own ``slideshow`` metadata, else derived rules.

Reveal.js decks have slides (left/right) made of sub-slides (up/down); nbconvert reads each
cell's ``metadata.slideshow.slide_type``:

    "slide"     starts a new slide            "-"     continues the current sub-slide
    "subslide"  starts a new sub-slide        "skip"  is left out
    "fragment"  appears on the next key press "notes" goes to the speaker notes

A markdown cell with a heading after its first line is first split there (in the deck's copy
only, ``split_at_headings``), so every heading can start a slide. An explicit type always wins
(the first part of a split cell keeps it). A cell without one gets, in order:

1. a markdown cell whose first line is a ``#`` or ``##`` heading starts a slide;
2. a ``###`` heading starts a sub-slide;
3. an empty cell (no source, no outputs) is skipped;
4. any other cell continues the current sub-slide, unless that would overflow the slide's
   height (estimated from lines of text and code and the pixel size of images), in which case
   it starts a sub-slide below (a cell under ``MIN_OWN_SUBSLIDE`` pixels never does). A
   sub-slide taller than the canvas scrolls (see lstm_slides.css). A markdown cell ending in
   a colon counts together with the cell it introduces, so the two move to a new sub-slide
   together.

Code cells longer than ``FOLD_LINES`` lines are folded (``fold_long_code``): the slide shows
a "code (N lines)" line that opens the code on a click, and the outputs as usual.

The first visible cell always starts a slide (nbconvert does the same), so the number of
"slide" cells returned is the number of slides in the deck.
"""

import base64
import math
import re
import struct
from copy import deepcopy

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
FOLD_LINES = 12  # longer code cells are folded on the slide
FOLD_KEY = "lstm_slides_fold"  # metadata key (in the deck's copy only) read by the template

# Layout of the deck, in CSS pixels of reveal.js's 1280 x 720 canvas (see lstm_slides.css).
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
CONTENT_WIDTH = 1200  # the canvas minus reveal's margin
HEIGHT_BUDGET = 680  # what fits under reveal's margins and the cells' padding
IMAGE_MAX_HEIGHT = 520  # the CSS caps figures to this height
TEXT_LINE, TEXT_CHARS = 30, 95  # markdown: px per line, characters per line
CODE_LINE, OUTPUT_LINE = 24, 22  # code and plain-text output: px per line
OUTPUT_CHARS = 110  # characters per line of output before it wraps
CELL_PADDING = 16
FOLDED_CODE = 40  # the summary line of a folded cell
MIN_OWN_SUBSLIDE = 80  # a smaller cell stays on its sub-slide (which may then scroll a little)
HEADING_HEIGHT = {1: 80, 2: 64, 3: 54}
DISPLAY_MATH = 70  # one $$ ... $$ block
MATH_ROW = 36  # each further row (a LaTeX line break) of an aligned block
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in tracebacks take no room


def heading_level(cell):
    """1, 2, 3 ... when a markdown cell starts with a '#'-heading, else None."""
    if cell.get("cell_type") != "markdown":
        return None
    for line in _source(cell).splitlines():
        line = line.strip()
        if not line:
            continue
        return len(line) - len(line.lstrip("#")) if _is_heading(line, 6) else None
    return None


def explicit_type(cell, where="cell"):
    """The cell's own slide type, or None; an unknown value raises ValueError."""
    slideshow = cell.get("metadata", {}).get("slideshow") or {}
    slide_type = slideshow.get("slide_type")
    if slide_type is None:
        return None
    if slide_type not in SLIDE_TYPES:
        raise ValueError(
            f"{where}: metadata.slideshow.slide_type must be one of {SLIDE_TYPES},"
            f" got {slide_type!r}"
        )
    return slide_type


def estimate_height(cell):
    """Rough rendered height of a cell on the slide, in CSS pixels (for the overflow rule)."""
    if cell.get("cell_type") == "markdown":
        return _markdown_height(_source(cell))
    if cell.get("cell_type") != "code":
        return CELL_PADDING + TEXT_LINE * len(_source(cell).splitlines())
    height = 0
    source = _source(cell)
    if cell.get("metadata", {}).get(FOLD_KEY):
        height += FOLDED_CODE
    elif source.strip():
        height += CELL_PADDING + CODE_LINE * len(source.rstrip("\n").splitlines())
    for output in cell.get("outputs", []):
        height += _output_height(output)
    return height


def split_at_headings(nb, max_level=3):
    """A copy of ``nb`` whose markdown cells are cut before each heading of level <= max_level
    that is not their first line (headings inside code fences and $$ blocks do not count).

    The first part keeps the cell's metadata, so an explicit slide type still applies to it;
    the other parts get fresh ids and no slide type, so the rules above place them.
    """
    nb = deepcopy(nb)
    cells = []
    for cell in nb["cells"]:
        markdown = cell.get("cell_type") == "markdown"
        parts = _heading_parts(_source(cell), max_level) if markdown else []
        if len(parts) <= 1:
            cells.append(cell)
            continue
        for index, part in enumerate(parts):
            piece = deepcopy(cell)
            piece["source"] = part
            if index:
                piece["metadata"] = {}
                if "id" in cell:
                    piece["id"] = f"{cell['id']}-{index}"
            cells.append(piece)
    nb["cells"] = cells
    return nb


def _heading_parts(text, max_level):
    parts, current, fence, in_math = [], [], None, False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None and not in_math and _is_heading(stripped, max_level):
            if "".join(current).strip():
                parts.append("".join(current).rstrip("\n"))
                current = []
        elif fence is None:
            in_math ^= stripped.count("$$") % 2 == 1
        current.append(line)
    if "".join(current).strip() or not parts:
        parts.append("".join(current).rstrip("\n"))
    return parts


def _is_heading(stripped, max_level):
    hashes = len(stripped) - len(stripped.lstrip("#"))
    return 0 < hashes <= max_level and stripped[hashes : hashes + 1] == " "


def fold_long_code(nb, max_lines=FOLD_LINES):
    """A copy of ``nb`` where code cells over ``max_lines`` lines carry ``FOLD_KEY`` = lines."""
    nb = deepcopy(nb)
    for cell in nb["cells"]:
        lines = len(_source(cell).rstrip("\n").splitlines())
        if cell.get("cell_type") == "code" and lines > max_lines:
            cell.setdefault("metadata", {})[FOLD_KEY] = lines
    return nb


def assign_slide_types(nb, budget=HEIGHT_BUDGET, name="notebook"):
    """A copy of ``nb`` where every cell has ``metadata.slideshow.slide_type`` (the rules above).

    Args:
        nb: a notebook (nbformat node or plain dict); not modified.
        budget: usable slide height in CSS pixels for the overflow rule.
        name: how to name the notebook in error messages.
    Returns:
        (nb copy, number of slides).
    """
    nb = deepcopy(nb)
    cells = nb["cells"]
    heights = [estimate_height(cell) for cell in cells]
    used = 0  # estimated height already on the current sub-slide
    first_visible = True
    slides = 0
    for index, cell in enumerate(cells):
        slide_type = explicit_type(cell, where=f"{name}, cell {index}")
        height = heights[index]
        if slide_type is None:
            # "...as follows:" introduces the next cell: it moves to a new sub-slide with it
            follower = index + 1 < len(cells) and explicit_type(cells[index + 1]) in (None, "-")
            together = height + heights[index + 1] if follower and _introduces(cell) else height
            slide_type = _derived_type(cell, together, used, budget)
        if first_visible and slide_type not in ("skip", "notes"):
            slide_type, first_visible = "slide", False
        if slide_type in ("slide", "subslide"):
            used = height
        elif slide_type in ("-", "fragment"):
            used += height
        slides += slide_type == "slide"
        cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = slide_type
    return nb, slides


def _derived_type(cell, height, used, budget):
    level = heading_level(cell)
    if level in (1, 2):
        return "slide"
    if level == 3:
        return "subslide"
    if not _source(cell).strip() and not cell.get("outputs"):
        return "skip"
    if used > 0 and used + height > budget and height >= MIN_OWN_SUBSLIDE:
        return "subslide"
    return "-"


def _introduces(cell):
    """A markdown paragraph that ends with a colon, e.g. "Now the four runs:"."""
    if cell.get("cell_type") != "markdown" or heading_level(cell) is not None:
        return False
    return _source(cell).rstrip().endswith(":")


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _markdown_height(text):
    height, in_math = CELL_PADDING, False
    for line in text.splitlines():
        stripped = line.strip()
        fences = stripped.count("$$")
        if in_math or fences:
            if not in_math:
                height += DISPLAY_MATH  # a display block starts here
            height += MATH_ROW * stripped.count("\\\\")  # each further row of an aligned block
            in_math ^= fences % 2 == 1
            continue
        if not stripped:
            continue
        if _is_heading(stripped, 3):
            height += HEADING_HEIGHT[len(stripped) - len(stripped.lstrip("#"))]
        else:
            height += TEXT_LINE * max(1, math.ceil(len(stripped) / TEXT_CHARS))
    return height


def _output_height(output):
    if output.get("output_type") == "stream":
        return _lines_height(_text(output.get("text", "")))
    if output.get("output_type") == "error":
        return _lines_height("\n".join(output.get("traceback", [])))
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            size = _image_size(data[mime], output.get("metadata", {}).get(mime, {}))
            return _displayed_height(*size) if size else IMAGE_MAX_HEIGHT
    if "text/html" in data:
        return OUTPUT_LINE * min(20, len(_text(data["text/html"]).splitlines()))
    if "text/latex" in data:
        return DISPLAY_MATH
    if "text/plain" in data:
        return _lines_height(_text(data["text/plain"]))
    return OUTPUT_LINE


def _lines_height(text):
    """Height of preformatted output; long lines wrap at about OUTPUT_CHARS characters."""
    text = _ANSI.sub("", text).rstrip("\n")
    rows = sum(max(1, math.ceil(len(line) / OUTPUT_CHARS)) for line in text.split("\n"))
    return OUTPUT_LINE * rows


def _text(value):
    return "".join(value) if isinstance(value, list) else value


def _image_size(b64, metadata):
    """(width, height) in CSS pixels: the output's metadata, else the PNG/JPEG header."""
    if "width" in metadata and "height" in metadata:
        return float(metadata["width"]), float(metadata["height"])
    try:
        head = base64.b64decode(_text(b64).replace("\n", "")[:44])
    except ValueError:
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return float(width), float(height)
    return None  # JPEG sizes sit deeper in the file; the cap is a fair guess


def _displayed_height(width, height):
    if width <= 0 or height <= 0:
        return IMAGE_MAX_HEIGHT
    scale = min(1.0, CONTENT_WIDTH / width, IMAGE_MAX_HEIGHT / height)
    return height * scale + CELL_PADDING
