"""Drawings of unrolled recurrent networks (one layer, stacked, bidirectional), and source code
shown side by side: lecture 5's pictures of what ``LSTM(num_layers, bidirectional)`` computes.

``draw_rnn`` draws the network unrolled over T steps, as ``modules.RNN/LSTM/GRU`` run it:

    layer l, forward:   h->(l)_t = cell(h(l-1)_t, h->(l)_{t-1}),   t = 1..T      (5.6, 5.7)
    layer l, backward:  h<-(l)_t = cell(h(l-1)_t, h<-(l)_{t+1}),   t = T..1      (5.7)
    h(l)_t = [h->(l)_t ; h<-(l)_t] (concatenated, 5.8),  h(0)_t = x_t,  y_t reads h(L)_t

and labels where each final state lands in h_n: index k = (l - 1) * num_directions + d, with
d = 0 forward (its last step is t = T) and d = 1 backward (its last step is t = 1).
matplotlib is imported inside the functions.
"""

import html
import inspect

DX, DY = 1.6, 1.0  # spacing of time steps and of rows
W = 0.56  # box width and height
_COLOURS = {"x": "#e6e6e6", "f": "#cfe2f3", "b": "#fce5cd", "y": "#d9ead3"}


def _box(ax, x, y, label, kind):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x - W / 2, y - W / 2),
            W,
            W,
            boxstyle="round,pad=0.02",
            facecolor=_COLOURS[kind],
            edgecolor="k",
            lw=1,
            gid=f"box-{kind}",
        )
    )
    ax.text(x, y, label, ha="center", va="center", fontsize=10)


def _arrow(ax, start, end, colour="k"):
    """Recurrent arrows (coloured) drawn thicker than the gray ones between layers."""
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        gid="arrow",
        arrowprops={
            "arrowstyle": "-|>",
            "color": colour,
            "lw": 0.8 if colour == "0.4" else 1.5,
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )


def _edge(a, b, a_is_box=True):
    """The points where the segment from a to b leaves box a (or point a) and enters box b."""
    (xa, ya), (xb, yb) = a, b
    dx, dy = xb - xa, yb - ya
    big = max(abs(dx), abs(dy))
    s_b = (W / 2 + 0.03) / big  # boxes are squares: leave and enter through a side
    s_a = s_b if a_is_box else 0.05 / big
    return (xa + s_a * dx, ya + s_a * dy), (xb - s_b * dx, yb - s_b * dy)


def rnn_layout(T=4, num_layers=1, bidirectional=False):
    """Box centres of the unrolled network.

    Returns:
        dict with "x" and "y": [(x, y)] per step; "cells": {(layer, d): [(x, y)] per step},
        layer 1..num_layers, d 0 (forward) or 1 (backward); "merge": {layer: [(x, y)]}, the
        points where a bidirectional layer's two directions are concatenated (empty if not).
    """
    shift = 0.42 if bidirectional else 0.0  # the two directions side by side and offset
    cells, merge, height = {}, {}, DY
    for layer in range(1, num_layers + 1):
        cells[layer, 0] = [(t * DX - shift, height) for t in range(T)]
        if bidirectional:
            cells[layer, 1] = [(t * DX + shift, height + 0.75 * DY) for t in range(T)]
            merge[layer] = [(t * DX, height + 1.45 * DY) for t in range(T)]
            height += 0.75 * DY
        height += 1.3 * DY if not bidirectional else 1.6 * DY
    return {
        "x": [(t * DX, 0.0) for t in range(T)],
        "y": [(t * DX, height) for t in range(T)],
        "cells": cells,
        "merge": merge,
    }


def draw_rnn(ax=None, T=4, num_layers=1, bidirectional=False, title=None):
    """Draw an RNN unrolled over T steps (eqs. 5.6-5.8) and where its final states go in h_n.

    A bidirectional layer's forward (blue) and backward (orange) states meet at a dot, their
    concatenation h(l)_t, which is what the layer above (or the output) reads.

    Args:
        ax: matplotlib axes, or None for new ones. T: steps drawn.
        num_layers, bidirectional: as for ``modules.LSTM``.
    Returns:
        the axes; boxes and arrows carry gid "box-x|f|b|y" and "arrow" (for tests).
    """
    import matplotlib.pyplot as plt

    size = (1.7 * T + 1.5, 1.6 + (2.4 if bidirectional else 1.3) * num_layers)
    ax = ax if ax is not None else plt.subplots(figsize=size)[1]
    D = 2 if bidirectional else 1
    shift, edge = (0.42 if bidirectional else 0.0), W / 2 + 0.03
    lay = rnn_layout(T, num_layers, bidirectional)
    for t, (x, y) in enumerate(lay["x"]):
        _box(ax, x, y, f"$x_{{{t + 1}}}$", "x")
    for t, (x, y) in enumerate(lay["y"]):
        _box(ax, x, y, f"$y_{{{t + 1}}}$", "y")

    def read_by(layer):  # what layer + 1 (or y) reads at each t, and whether it is a box
        if layer == 0:
            return lay["x"], True
        return (lay["merge"][layer], False) if D == 2 else (lay["cells"][layer, 0], True)

    for (layer, d), row in lay["cells"].items():
        arrow = ("" if D == 1 else r"\overrightarrow", r"\overleftarrow")[d]
        colour = ("C0", "C1")[d]
        name = f"{arrow}{{h}}" if arrow else "h"
        sources, is_box = read_by(layer - 1)
        for t, centre in enumerate(row):
            _box(ax, *centre, f"${name}^{{({layer})}}_{{{t + 1}}}$", ("f", "b")[d])
            _arrow(ax, *_edge(sources[t], centre, is_box), "0.4")
            if D == 2:  # into the concatenation
                _arrow(ax, *_edge(centre, lay["merge"][layer][t]), "0.4")
        steps = list(zip(row, row[1:], strict=False))  # forward: t -> t+1
        for a, b in steps if d == 0 else [(b, a) for a, b in steps]:
            _arrow(ax, *_edge(a, b), colour)
        # Initial and final states, outside the grid: forward starts left, backward right.
        first, last = (row[0], row[-1]) if d == 0 else (row[-1], row[0])
        k = (layer - 1) * D + d
        left, right = -(shift + 0.95), (T - 1) * DX + shift + 0.95
        start, end = (left, right) if d == 0 else (right, left)
        ax.text(start, first[1], f"$h_0[{k}]$", ha="center", va="center", fontsize=9, color=colour)
        ax.text(
            end,
            last[1],
            f"$h_n[{k}]$",
            ha="center",
            va="center",
            fontsize=10,
            color=colour,
            fontweight="bold",
        )
        towards = 1 if d == 0 else -1
        _arrow(
            ax, (start + towards * 0.33, first[1]), (first[0] - towards * edge, first[1]), colour
        )
        _arrow(ax, (last[0] + towards * edge, last[1]), (end - towards * 0.36, last[1]), colour)
    for points in lay["merge"].values():
        ax.plot(*zip(*points, strict=True), "ko", ms=4)
    top_sources, is_box = read_by(num_layers)
    for source, target in zip(top_sources, lay["y"], strict=True):
        _arrow(ax, *_edge(source, target, is_box), "0.4")
    top = lay["y"][0][1]
    ax.set(xlim=(-shift - 1.35, (T - 1) * DX + shift + 1.35), ylim=(-0.5, top + 0.5))
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def side_by_side(*functions, titles=None):
    """HTML showing the source of each function in its own column, for a notebook's display.

    Args:
        functions: functions (or classes) whose ``inspect.getsource`` is shown.
        titles: column headings; default the qualified names.
    Returns:
        an HTML string (wrap it in ``IPython.display.HTML``).
    """
    titles = titles or [f"{f.__module__}.{f.__qualname__}" for f in functions]
    cells = "".join(
        f"<td style='vertical-align:top;text-align:left'><b>{html.escape(title)}</b>"
        f"<pre style='font-size:11px'>{html.escape(inspect.getsource(f))}</pre></td>"
        for f, title in zip(functions, titles, strict=True)
    )
    return f"<table><tr>{cells}</tr></table>"
