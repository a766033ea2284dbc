"""Lecture 10's widgets: the addressing pipeline with sliders, and a trained NTM step by step.

``addressing_explorer`` moves beta, g, the shift s and gamma of one head on a small fixed memory
and draws the weighting after each stage (10.5)-(10.8). ``step_explorer`` runs a trained NTM on
a copy sequence and shows, at the chosen time step, where the write and read heads focus, what
each head emitted, and the memory. The numbers come from plain functions (``toy_addressing``,
``phase``, ``step_summary``) that the tests call; matplotlib and ipywidgets are imported inside
the functions that draw.
"""

import numpy as np
import torch

from lstm_course.experiments.ntm import copy_example, plot_memory, plot_weightings
from lstm_course.ntm.addressing import address

TOY_N, TOY_W, TOY_ROW, TOY_PREV = 12, 6, 3, 7


def toy_memory():
    """(M (1, N, W), k (1, W), w_prev (1, N)) of the addressing widget: a seeded random memory
    of N = 12 rows, a key that is a noisy copy of row 3, and a head that was on row 7."""
    rng = np.random.default_rng(10)
    M = rng.normal(size=(1, TOY_N, TOY_W))
    k = M[:, TOY_ROW] + 0.5 * rng.normal(size=(1, TOY_W))
    w_prev = np.zeros((1, TOY_N))
    w_prev[0, TOY_PREV] = 1.0
    return (torch.tensor(a) for a in (M, k, w_prev))


def toy_addressing(beta=5.0, g=1.0, s_minus=0.0, s_plus=0.0, gamma=1.0):
    """Address the toy memory with these head outputs (S = 3: offsets -1, 0, +1).

    s(0) = 1 - s(-1) - s(+1); if s(-1) + s(+1) > 1 the two are rescaled to sum to 1.
    Returns:
        (Addressing of (N,) arrays, w_prev (N,)).
    """
    total = s_minus + s_plus
    if s_minus < 0 or s_plus < 0:
        raise ValueError(f"s(-1) and s(+1) must be >= 0, got {s_minus}, {s_plus}")
    if total > 1:
        s_minus, s_plus = s_minus / total, s_plus / total
    s = torch.tensor([[s_minus, 1.0 - s_minus - s_plus, s_plus]], dtype=torch.float64)
    M, k, w_prev = toy_memory()
    stages = address(k, float(beta), float(g), s.clamp_min(0.0), float(gamma), M, w_prev)
    return type(stages)(*(w[0].numpy() for w in stages)), w_prev[0].numpy()


def draw_stages(axes, stages, w_prev):
    """Four bar charts: w^c (10.5), w^g (10.6), w~ (10.7) and w (10.8) over the locations."""
    titles = [
        "content w^c (10.5)",
        "interpolated w^g (10.6)",
        "shifted w~ (10.7)",
        "sharpened w (10.8)",
    ]
    locations = np.arange(len(w_prev))
    for ax, w, title in zip(axes, stages, titles, strict=True):
        ax.bar(locations, w, color="tab:blue")
        ax.step(locations, w_prev, where="mid", color="tab:orange", lw=1, label="w_prev")
        ax.set(title=title, ylim=(0, 1.05), xlabel="location i", xticks=locations[::2])
    axes[0].axvline(TOY_ROW, color="tab:green", ls=":", label="row the key resembles")
    axes[0].legend(loc="upper right", fontsize=8)
    return axes


def addressing_explorer():
    """The widget: sliders for beta, g, s(-1), s(+1) and gamma; the four stages redrawn."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    controls = {
        "beta": widgets.FloatSlider(value=5.0, min=0.0, max=30.0, step=0.5, description="beta"),
        "g": widgets.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="g"),
        "s_minus": widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="s(-1)"),
        "s_plus": widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="s(+1)"),
        "gamma": widgets.FloatSlider(value=1.0, min=1.0, max=20.0, step=0.5, description="gamma"),
    }

    def show(**values):
        stages, w_prev = toy_addressing(**values)
        fig, axes = plt.subplots(1, 4, figsize=(15, 2.8), sharey=True)
        draw_stages(axes, stages, w_prev)
        fig.tight_layout()
        plt.show()
        focus = int(stages.w.argmax())
        print(f"the head now reads/writes mostly location {focus} (w = {stages.w[focus]:.2f})")

    out = widgets.interactive_output(show, controls)
    return widgets.VBox(
        [widgets.HBox(list(controls.values())[:3]), widgets.HBox(list(controls.values())[3:]), out]
    )


def phase(L, t):
    """What the copy task shows at step t of a sequence of L vectors (T = 2L + 2 steps)."""
    if not 0 <= t < 2 * L + 2:
        raise ValueError(f"t must lie in [0, 2L + 2) = [0, {2 * L + 2}), got {t}")
    if t == 0:
        return "start marker"
    if t <= L:
        return f"input vector {t} of {L}"
    if t == L + 1:
        return "delimiter: now copy"
    return f"copy step {t - L - 1} of {L}"


def step_summary(example, t):
    """What both heads did at step t: where each focuses and what it emitted (10.10).

    Returns:
        three lines: the step, its phase and, at a copy step, its wrong output bits; then
        one line per head with its focus, its gate g, its largest content weight max_i w^c,
        its mean shift sum_o o s(o) and gamma.
    """
    trace = example.trace
    lines = [f"t = {t} ({phase(example.L, t)})"]
    if example.mask[t]:  # a copy step: how many of its output bits are wrong (10.12)
        lines[0] += f": {int(((example.p[t] > 0.5) != example.y[t]).sum())} bits wrong"
    for name, stages, p in (
        ("write", trace.write, trace.write_params),
        ("read ", trace.read, trace.read_params),
    ):
        S = p.s.shape[1]
        mean_shift = float(p.s[t] @ np.arange(-(S // 2), S // 2 + 1))
        w = stages.w[t]
        lines.append(
            f"  {name} head at location {int(w.argmax()):3d} (w = {w.max():.2f}): "
            f"g = {float(p.g[t, 0]):.2f}, max w^c = {stages.w_c[t].max():.2f}, "
            f"mean shift {mean_shift:+.2f}, gamma = {float(p.gamma[t, 0]):.1f}"
        )
    return "\n".join(lines)


def step_explorer(model, lengths=(5, 10, 20, 30), seed=0):
    """The widget: pick a length and a time step; see the heads and the memory at that step.

    Args:
        model: a trained ``NTM``. lengths: offered sequence lengths L. seed: picks sequences.
    Returns:
        an ipywidgets.VBox.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    examples = {}

    def example(L):
        if L not in examples:
            examples[L] = copy_example(model, L, seed=seed)
        return examples[L]

    length = widgets.Dropdown(options=list(lengths), value=lengths[0], description="length L")
    step = widgets.IntSlider(value=0, min=0, max=2 * lengths[0] + 1, description="time step t")
    step.continuous_update = False

    def new_length(change):
        step.max = 2 * change["new"] + 1
        step.value = min(step.value, step.max)

    length.observe(new_length, names="value")

    def show(L, t):
        ex = example(L)
        t = min(t, 2 * L + 1)
        print(f"L = {L}: {ex.errors:.0f} bits wrong in the whole copy")
        print(step_summary(ex, t))
        fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), gridspec_kw={"width_ratios": [2, 2, 1]})
        plot_weightings(axes[:2], ex, step=t)
        plot_memory(axes[2], ex, step=t)
        fig.tight_layout()
        plt.show()

    out = widgets.interactive_output(show, {"L": length, "t": step})
    return widgets.VBox([widgets.HBox([length, step]), out])
