"""Every registered figure regenerates to the committed figures/NAME.png (small pixel tolerance),
and the registry, the files and the README's gallery agree.

The comparison is matplotlib's own (RMS difference of the pixel values, 0-255): 0 on the machine
that drew them, a little above it where fonts or BLAS rounding differ slightly.
"""

import re
from pathlib import Path

import pytest

from lstm_course import figures

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"
TOLERANCE = 2.0  # RMS over pixel values (0-255)
NAMES = figures.select()


def test_every_figure_is_named_after_its_lecture_and_has_a_title():
    assert NAMES, "no figures registered"
    for name in NAMES:
        spec = figures.REGISTRY[name]
        assert re.fullmatch(rf"lecture{spec.lecture:02d}_[a-z0-9_]+", name)
        assert spec.title and "\n" not in spec.title


def test_committed_files_are_exactly_the_registry():
    on_disk = {p.stem for p in FIGURES.glob("*.png")}
    assert on_disk == set(NAMES)
    assert {p.stem for p in FIGURES.glob("*.svg")} == set(NAMES)


def test_the_readme_gallery_shows_every_figure():
    readme = (ROOT / "README.md").read_text()
    for name in NAMES:
        assert f"figures/{name}.png" in readme, f"{name} is missing from the README's gallery"


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="no figure named lecture99_nothing"):
        figures.select(only=["lecture99_nothing"])


def test_a_figure_must_be_named_after_its_lecture():
    with pytest.raises(ValueError, match="must start 'lecture02_'"):
        figures.figure(2, "x")(lambda: None)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.xdist_group(n[:9])) for n in NAMES]
)
def test_figure_regenerates_to_the_committed_pixels(name, tmp_path):
    from matplotlib.testing.compare import compare_images

    png, svg = figures.save(figures.render(name), tmp_path, name)
    assert svg.read_text().startswith("<?xml")
    assert "<dc:date>" not in svg.read_text()  # no timestamp: reruns give the same file
    expected = FIGURES / f"{name}.png"
    assert expected.exists(), f"{expected} is missing: run `make figures`"
    result = compare_images(str(expected), str(png), tol=TOLERANCE, in_decorator=True)
    assert result is None, (
        f"{name} differs from figures/{name}.png by RMS {result['rms']:.2f} > {TOLERANCE}; "
        f"if the change is intended, run `lstm-course figures --only {name}`"
    )
