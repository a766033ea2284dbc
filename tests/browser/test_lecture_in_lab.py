"""A lecture notebook in a real JupyterLab, in headless Chromium: what a student's browser shows.

The unit tests and nbval run notebooks without a browser, so a widget that the front end
cannot render, or a slider that no longer redraws its plot, passes them. Here Playwright opens
lectures/04_lstm.ipynb (fast, with gate sliders) in JupyterLab, runs Run > Run All Cells,
checks that the outputs and the sliders appear, moves a slider with the keyboard and checks
that the plot is redrawn, and saves a screenshot to build/browser/.
"""

import configparser
import contextlib
import re
import secrets
import time
from pathlib import Path

import nbformat
import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="run scripts/install-browser-deps")
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "lectures" / "04_lstm.ipynb"
CHECKED = "# NBVAL_CHECK_OUTPUT"


def _student_copy(source, folder):
    """The notebook as a student opens it: no outputs, counts or saved widget state.

    Saved widget state would let Lab draw the sliders before any cell ran.
    """
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    path = folder / source.name
    nbformat.write(nb, path)
    return path


def _sanitize(text):
    """Apply .nbval-sanitize.cfg (timings), then collapse whitespace as the page renders it."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".nbval-sanitize.cfg")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return " ".join(text.split())


def _stream_text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _checked_outputs(nb):
    """{cell index: stored printed text} for the cells nbval compares."""
    return {
        k: _stream_text(cell)
        for k, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and CHECKED in cell.source and _stream_text(cell)
    }


def _count_figures(nb):
    """PNG figures among the cells' outputs (a widget's plot lives in the widget, not here)."""
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


# Prompt of every code cell: "[12]:" ran, "[*]:" queued or running, "[ ]:" not run.
PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'))
    .map(cell => (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim())"""


def _wait_kernel_idle(lab, deadline, cap_s):
    stop = time.monotonic() + deadline.left_s(cap_s)
    while time.monotonic() < stop:
        sessions = lab.api("/api/sessions")
        if sessions and all(s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        time.sleep(0.5)
    pytest.fail(f"the kernel did not become idle in {cap_s} s:\n{lab.log_tail()}")


def _run_all_cells(page, lab, deadline, cap_s):
    """Run > Run All Cells, then wait until no cell is queued and the kernel is idle twice."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    stop, calm = time.monotonic() + deadline.left_s(cap_s), 0
    while time.monotonic() < stop:
        prompts = page.evaluate(PROMPTS_JS)
        started = prompts and prompts[0] not in ("[ ]:", "")
        running = any("*" in p for p in prompts)
        idle = all(s["kernel"]["execution_state"] == "idle" for s in lab.api("/api/sessions"))
        calm = calm + 1 if started and not running and idle else 0
        if calm >= 2:  # two looks 1 s apart: not a gap between two cells
            return prompts
        time.sleep(1)
    pytest.fail(f"Run All Cells did not finish in {cap_s} s; prompts: {prompts}")


def _save_and_read(page, path, deadline):
    """Ctrl+S in Lab, then the notebook as the server wrote it."""
    before = path.stat().st_mtime_ns
    page.locator(".jp-NotebookPanel").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    stop = time.monotonic() + deadline.left_s(20)
    while time.monotonic() < stop:
        if path.stat().st_mtime_ns != before:
            try:  # the server writes in place: a read can catch the file half written
                return nbformat.read(path, as_version=4)
            except ValueError:  # nbformat.reader.NotJSONError
                pass
        time.sleep(0.25)
    pytest.fail("Lab did not save the notebook")


def _open_and_run_all(page, lab, deadline, path):
    """Open the notebook in a fresh workspace, run every cell, return the saved result."""
    workspace = f"test-{secrets.token_hex(4)}"  # a fresh workspace: no tabs from a last run
    page.goto(
        f"{lab.url}/lab/workspaces/{workspace}/tree/{path.name}?reset&token={lab.token}",
        timeout=deadline.left_ms(60),
    )
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(timeout=deadline.left_ms(60))
    _wait_kernel_idle(lab, deadline, cap_s=60)
    prompts = _run_all_cells(page, lab, deadline, cap_s=120)
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), f"cells not run: {prompts}"
    return prompts, _save_and_read(page, path, deadline)


def _check_outputs(page, lecture, prompts, saved):
    """The kernel's outputs (as Lab saved them) and the page match the stored lecture."""
    n_code = sum(c.cell_type == "code" for c in lecture.cells)
    assert len(prompts) == n_code, f"Lab shows {len(prompts)} code cells, the file has {n_code}"
    errors = [
        f"cell {k}: {o.ename}: {o.evalue}"
        for k, cell in enumerate(saved.cells)
        for o in cell.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors, errors
    expected = _checked_outputs(lecture)
    for k, text in expected.items():
        assert _sanitize(_stream_text(saved.cells[k])) == _sanitize(text), f"cell {k} changed"
    # textContent, not innerText: Lab skips laying out off-screen cells (content-visibility).
    shown = _sanitize(" ".join(page.locator(".jp-OutputArea-output").all_text_contents()))
    for k, text in expected.items():
        assert _sanitize(text) in shown, f"cell {k}'s output is not on the page"
    n_figures = _count_figures(lecture)
    assert _count_figures(saved) == n_figures, "the run drew a different number of figures"
    assert page.locator(".jp-OutputArea-output img").count() >= n_figures


def _check_slider_redraws(page, deadline):
    """Move the first slider one step with the keyboard: the kernel must redraw its plot.

    Returns the plot's locator (the sliders sit just above it).
    """
    sliders = page.locator(".jp-OutputArea-output .widget-hslider")
    assert sliders.count() > 0, "no ipywidgets slider rendered"
    slider = sliders.first
    cell = slider.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')]")
    plot = cell.locator(".jp-OutputArea-output img").first
    plot.scroll_into_view_if_needed(timeout=deadline.left_ms(10))
    old_src = plot.get_attribute("src")
    readout = slider.locator(".widget-readout")
    old_value = readout.inner_text()
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    try:  # the redraw replaces the <img>: look it up afresh each time
        page.wait_for_function(
            """([cell, src]) => {
                const img = cell.querySelector('.jp-OutputArea-output img');
                return img !== null && img.getAttribute('src') !== src;
            }""",
            arg=[cell.element_handle(), old_src],
            timeout=deadline.left_ms(30),
        )
    except sync_api.TimeoutError:
        pytest.fail(f"moving the slider ({old_value} -> {readout.inner_text()}) did not redraw")
    assert readout.inner_text() != old_value, "the slider's readout did not move"
    return plot


def test_lecture_runs_in_jupyterlab_and_its_slider_redraws_the_plot(
    page, lab, deadline, screenshots
):
    lecture = nbformat.read(NOTEBOOK, as_version=4)
    try:
        prompts, saved = _open_and_run_all(page, lab, deadline, _student_copy(NOTEBOOK, lab.root))
        _check_outputs(page, lecture, prompts, saved)
        plot = _check_slider_redraws(page, deadline)
        plot.evaluate("img => img.scrollIntoView({block: 'end'})")  # sliders and new plot
        page.screenshot(path=screenshots / f"{NOTEBOOK.stem}.png")
    except BaseException:
        with contextlib.suppress(Exception):  # a dead browser must not hide the real error
            page.screenshot(path=screenshots / f"{NOTEBOOK.stem}-failed.png")
        raise
