"""Reveal.js slide decks of the lectures that work offline (``lstm-course slides``).

    from lstm_course.slides import build_slides
    build_slides()                                  # every lectures/*.ipynb -> build/slides/
    build_slides(["lectures/04_lstm.ipynb"], out_dir=Path("/tmp/deck"))

Slide breaks come from each cell's ``metadata.slideshow.slide_type`` or, where absent, from
the headings and the estimated height of the cells (``structure``); widgets become static
snapshots (``widgets``); reveal.js and MathJax are vendored (``vendor/README.md``).
Importing this package is cheap: nbconvert loads only when a deck is built.
"""

from pathlib import Path

from lstm_course.slides.build import build_slides

__all__ = ["build_slides", "configure", "run"]


def configure(parser):
    """Add the arguments of ``lstm-course slides`` to an argparse parser."""
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to turn into decks (default: every lectures/*.ipynb)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("build/slides"),
        help="folder for the decks, their assets and index.html (default: build/slides/)",
    )


def run(args, extra=None):
    """Build the decks; a missing notebook is a UsageError, a broken one a CommandError."""
    from lstm_course.cli import CommandError, UsageError

    try:
        decks = build_slides(args.notebooks or None, args.out)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:
        raise CommandError(str(error)) from None
    print(f"{len(decks)} deck(s) in {args.out}/: open {args.out / 'index.html'} in a browser")
    return 0
