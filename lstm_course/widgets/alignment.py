"""Lecture 8's widget: pick a model and a source, step through the decoder, see where it looks.

At decoder step i the model writes y_i from the context c_i = sum_j alpha_ij h_j (8.3). The
widget draws the whole alignment alpha (output tokens down, source characters across) with
row i outlined, and underneath, the source string with each character shaded by alpha_ij:
the characters the model reads to write y_i. ``step_summary`` says the same in words. The
computation is ``lstm_course.experiments.attention.alignment``; matplotlib and ipywidgets
are imported inside the functions that draw.
"""

import numpy as np

from lstm_course.experiments.attention import alignment, plot_alignment


def attended(al, step, top=3):
    """The ``top`` source positions with the most weight at decoder ``step`` (0-based).

    Returns:
        a list of (position j (0-based), character, weight), heaviest first.
    """
    if not 0 <= step < len(al.tokens):
        raise ValueError(f"step must lie in [0, {len(al.tokens)}), got {step}")
    row = al.weights[step]
    order = np.argsort(-row, kind="stable")[:top]
    return [(int(j), al.source[j], float(row[j])) for j in order]


def step_summary(al, step, top=3):
    """One line: what step ``step`` wrote and the characters it read most."""
    reads = ", ".join(f"{c!r} at {j + 1} ({w:.0%})" for j, c, w in attended(al, step, top))
    return f"step {step + 1} writes {al.tokens[step]!r}; it reads {reads}"


def draw_source_weights(ax, al, step):
    """The source characters in a row, each on a square shaded by alpha_ij of this step."""
    row = al.weights[step]
    ax.imshow(row[None, :], cmap="Reds", vmin=0.0, vmax=1.0, aspect="auto")
    for j, char in enumerate(al.source):
        color = "white" if row[j] > 0.5 else "black"
        ax.text(j, 0, char if char != " " else "␣", ha="center", va="center", color=color)
    ax.set_xticks(range(len(al.source)), [str(j + 1) for j in range(len(al.source))], fontsize=7)
    ax.set_yticks([])
    ax.set_title(f"alpha_{step + 1},j: what step {step + 1} reads to write {al.tokens[step]!r}")
    return ax


def alignment_explorer(runs, sources):
    """The widget: a model (with attention), a source (pick or type) and a decoder step.

    Args:
        runs: {name: Run} of models with attention. sources: {name: list of example sources}
            or one list for every model.
    Returns:
        an ipywidgets.VBox.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("alignment_explorer needs at least one run")
    names = list(runs)
    examples = sources if isinstance(sources, dict) else dict.fromkeys(names, list(sources))
    first = examples[names[0]]
    controls = {
        "name": widgets.Dropdown(options=names, value=names[0], description="model"),
        "source": widgets.Combobox(
            value=first[0], options=list(first), description="source", ensure_option=False
        ),
        "step": widgets.IntSlider(value=1, min=1, max=40, description="decoder step i"),
    }
    for control in controls.values():
        control.continuous_update = False

    def new_model(change):  # offer this model's examples
        options = examples[change["new"]]
        controls["source"].options = list(options)
        controls["source"].value = options[0]

    controls["name"].observe(new_model, names="value")

    def show(name, source, step):
        run = runs[name]
        if not source:
            print("type a source")
            return
        al = alignment(run, source)
        i = min(step, len(al.tokens)) - 1
        targets = dict(run.test)
        right = targets.get(source)
        verdict = (
            ""
            if right is None
            else (" (right)" if al.output == right else f" (wrong: the answer is {right!r})")
        )
        print(f"{source!r} -> {al.output!r}{verdict}")
        print(step_summary(al, i))
        height = 1.6 + 0.22 * len(al.tokens)
        fig, (top, bottom) = plt.subplots(
            2,
            1,
            figsize=(max(6.0, 0.3 * len(source) + 2), height + 1.2),
            gridspec_kw={"height_ratios": [height, 0.6]},
        )
        plot_alignment(top, al, step=i)
        draw_source_weights(bottom, al, i)
        fig.tight_layout()
        plt.show()

    out = widgets.interactive_output(show, controls)
    rows = [widgets.HBox([controls["name"], controls["source"]]), controls["step"]]
    return widgets.VBox([*rows, out])
