"""Lecture 7's widget: decode one source with a beam, and see every hypothesis and its score.

For a trained ``Run`` of ``lstm_course.experiments.seq2seq``, ``beam_report`` lists every
hypothesis that left the beam with its log-probability (7.5), its length n (with <eos>) and
its length-normalised score

    score(y) = log P(y | x) / lp(n),   lp(n) = ((5 + n) / 6) ** alpha          (7.8)

and the greedy path's p(<eos>) at each step. ``beam_explorer`` puts a model choice, a source
box and sliders for the width, alpha and max_len on it. matplotlib and ipywidgets are imported
inside the functions that draw.
"""

from typing import NamedTuple

import numpy as np

from lstm_course.experiments.seq2seq import beam_hypotheses, decode_len, eos_probabilities


class BeamReport(NamedTuple):
    """What the widget shows for one source.

    Attributes:
        source: the source str. hypotheses: list of (text, log P, n, score, finished), best
            first. greedy_tokens: the greedy output, one token per step ("<eos>" last if it
            stopped). p_eos: (len(greedy_tokens),) p(<eos>) at each greedy step.
    """

    source: str
    hypotheses: list
    greedy_tokens: list
    p_eos: np.ndarray


def beam_report(run, source, width=3, length_penalty=0.0, max_len=None):
    """Beam hypotheses and the greedy path's p(<eos>) for one source string."""
    if not isinstance(source, str) or not source:
        raise ValueError(f"source must be a non-empty str, got {source!r}")
    max_len = max_len or decode_len(run.setup)
    hyps = beam_hypotheses(run, source, width, max_len, length_penalty)
    tokens, p_eos = eos_probabilities(run, source, max_len)
    return BeamReport(source, hyps, tokens, p_eos)


def format_hypotheses(report, target=None, limit=10):
    """The hypotheses as a text table, best first; ``target`` marks the right answer."""
    lines = [f"{'#':>2s}  {'output':<20s} {'log P':>8s} {'n':>3s} {'score':>8s}  ended"]
    for k, (text, lp, n, score, finished) in enumerate(report.hypotheses[:limit]):
        mark = "  <- right" if text == target else ""
        ended = "<eos>" if finished else "cut by max_len"
        lines.append(f"{k + 1:2d}  {text:<20s} {lp:8.4f} {n:3d} {score:8.4f}  {ended}{mark}")
    return "\n".join(lines)


def draw_eos(ax, report, max_len=None, logy=False):
    """p(<eos>) at each greedy step, each bar labelled with the token written there.

    ``logy`` draws a log axis down to 1e-8, where the small probabilities show.
    """
    steps = np.arange(1, len(report.p_eos) + 1)
    ax.bar(steps, report.p_eos, color="tab:orange")
    ax.set_xticks(steps, report.greedy_tokens)
    ax.set(xlabel="decoder step i (token written)", ylabel="p(<eos> | y_<i, x)")
    if logy:
        ax.set(yscale="log", ylim=(1e-8, 2.0))
    else:
        ax.set(ylim=(0, 1.05))
    if max_len is not None:
        ax.axvline(max_len + 0.5, color="gray", ls="--", label=f"max_len = {max_len}")
        ax.legend(loc="upper left")
    return ax


def beam_explorer(runs, sources):
    """The widget: a model, a source (pick or type), the beam width, alpha and max_len.

    Args:
        runs: {name: Run}. sources: {name: example sources} or one list for every model.
    Returns:
        an ipywidgets.VBox.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    if not runs or not sources:
        raise ValueError("beam_explorer needs at least one run and one source")
    names = list(runs)
    examples = sources if isinstance(sources, dict) else dict.fromkeys(names, list(sources))
    longest = max(decode_len(run.setup) for run in runs.values())
    style = {"description_width": "initial"}
    first = examples[names[0]]
    controls = {
        "name": widgets.Dropdown(options=names, value=names[0], description="model"),
        "source": widgets.Combobox(
            value=first[0], options=list(first), description="source", ensure_option=False
        ),
        "width": widgets.IntSlider(value=3, min=1, max=8, description="beam width", style=style),
        "alpha": widgets.FloatSlider(
            value=0.0, min=0.0, max=2.0, step=0.1, description="length penalty alpha", style=style
        ),
        "max_len": widgets.IntSlider(
            value=longest, min=1, max=longest + 4, description="max_len", style=style
        ),
    }
    for control in controls.values():
        control.continuous_update = False

    def new_model(change):  # offer this model's examples
        options = examples[change["new"]]
        controls["source"].options = list(options)
        controls["source"].value = options[0]

    controls["name"].observe(new_model, names="value")

    def show(name, source, width, alpha, max_len):
        run = runs[name]
        if not source:
            print("type a source")
            return
        report = beam_report(run, source, width, alpha, max_len)
        target = dict(run.test).get(source)
        print(f"source {source!r}" + ("" if target is None else f", right answer {target!r}"))
        print(format_hypotheses(report, target))
        fig, ax = plt.subplots(figsize=(8, 2.6))
        draw_eos(ax, report, max_len, logy=True)
        ax.set_title("greedy path: the probability of stopping at each step")
        plt.show()

    out = widgets.interactive_output(show, controls)
    rows = [
        widgets.HBox([controls["name"], controls["source"]]),
        widgets.HBox([controls["width"], controls["alpha"], controls["max_len"]]),
    ]
    return widgets.VBox([*rows, out])
