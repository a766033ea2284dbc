"""What single LSTM cells track: text signals, their correlation with c_t and h_t, a picture.

Lecture 6, in the spirit of Karpathy's "The unreasonable effectiveness of recurrent neural
networks" (2015): run a trained character model over held-out text, record every unit's cell
state c_t and output h_t, and look for units whose activation follows something measurable
about the text, a *signal* s_t: the position in the line, being inside parentheses or quotes.
The measure is Pearson's correlation over the T characters, for each unit j,

    r_j = sum_t (a_tj - mean_j)(s_t - mean_s) / (T std_j std_s)                      (6.12)

with a_tj = c_tj or h_tj. Each signal is what is true *after* reading character t, since
that is what the state h_t, c_t can know: an opening bracket or quote counts as inside, the
closing one as outside again.
"""

from typing import NamedTuple

import numpy as np
import torch


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text


def line_position(text):
    """(T,) float: the column of each character, 0 for the first character of a line.

    A newline ends its line, so it gets the line's length; the character after it gets 0.
    """
    out = np.zeros(len(_check_text(text)))
    col = 0
    for t, ch in enumerate(text):
        out[t] = col
        col = 0 if ch == "\n" else col + 1
    return out


def inside_brackets(text, open_="(", close=")"):
    """(T,) float, 1.0 while at least one ``open_`` is not yet closed by ``close``.

    Nesting counts: "f(g(x))" is inside from the first "(" up to the last ")" (which is out).
    A blank line (the end of a paragraph) closes everything still open, so that an unmatched
    bracket ("1) first item") cannot mark the rest of the text; a stray ``close`` is ignored.
    """
    if open_ == close:
        raise ValueError(f"open_ and close must differ (use inside_quotes for {open_!r})")
    out = np.zeros(len(_check_text(text)))
    depth = 0
    for t, ch in enumerate(text):
        if ch == open_:
            depth += 1
        elif ch == close and depth > 0:
            depth -= 1
        elif ch == "\n" and t > 0 and text[t - 1] == "\n":
            depth = 0
        out[t] = depth > 0
    return out


def inside_quotes(text, quotes="\"'`"):
    """(T,) float, 1.0 between an opening and a closing quote on the same line.

    Each character of ``quotes`` is tracked on its own and the result is 1.0 where any of
    them is open (so "it's" inside a "double-quoted" string stays inside). A run of the same
    quote character is one delimiter (reST's ``literal`` opens with two backticks), an
    apostrophe between two letters ("don't") is not a quote, and the end of a line closes
    a quote left open (quoted strings in prose rarely span lines).
    """
    out = np.zeros(len(_check_text(text)))
    if not isinstance(quotes, str) or not quotes:
        raise ValueError(f"quotes must be a non-empty str of quote characters, got {quotes!r}")
    for quote in quotes:
        inside = False
        for t, ch in enumerate(text):
            prev = text[t - 1] if t > 0 else ""
            nxt = text[t + 1] if t + 1 < len(text) else ""
            if ch == "\n":
                inside = False
            elif ch == quote and prev != quote and not (prev.isalpha() and nxt.isalpha()):
                inside = not inside
            if inside:
                out[t] = 1.0
    return out


def text_signals(text):
    """The signals the lecture searches for, each (T,) float: name -> array."""
    return {
        "position in line": line_position(text),
        "inside ( )": inside_brackets(text, "(", ")"),
        "inside quotes": inside_quotes(text),
    }


def busiest_window(signal, length):
    """Start of the ``length``-long window where ``signal`` varies most (largest variance).

    A passage to draw a unit on: for an on/off signal, one that is about half on and half off
    (many quotes, long parentheses); for the position in line, one with long lines.
    """
    s = np.asarray(signal, dtype=np.float64)
    if s.ndim != 1 or not 1 <= length <= len(s):
        raise ValueError(f"length must be in [1, len(signal)] = [1, {len(s)}], got {length}")
    c1 = np.concatenate([[0.0], np.cumsum(s)])  # running sums give every window's mean at once
    c2 = np.concatenate([[0.0], np.cumsum(s**2)])
    mean = (c1[length:] - c1[:-length]) / length  # (T - length + 1,)
    variance = (c2[length:] - c2[:-length]) / length - mean**2
    return int(np.argmax(variance))


@torch.no_grad()
def record_states(model, ids):
    """Run a ``CharLM`` over one stream of ids and keep every step's c_t and h_t.

    Args:
        model: a ``CharLM`` whose ``rnn`` is our LSTM (it records its gates).
        ids: (T,) int64 ids, read from a zero state as one sequence.
    Returns:
        {"c": (T, H), "h": (T, H)} float64 NumPy arrays: the state after reading ids[t].
    """
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D tensor of ids, got {type(ids).__name__}")
    was_training = model.training
    model.eval()
    try:
        x = ids.long().view(-1, 1).to(next(model.parameters()).device)  # (T, B=1)
        with model.rnn.record_gates() as gates:
            H_all, _ = model.rnn(model.embed(x))  # (T, 1, H)
    finally:
        model.train(was_training)
    c = gates[0, 0]["c"][:, 0]  # (T, H)
    return {"c": c.double().cpu().numpy(), "h": H_all[:, 0].double().cpu().numpy()}


def unit_correlations(activations, signal):
    """Pearson's r between each unit's activation and the signal over time, eq. (6.12).

    Args:
        activations: (T, H) array, one column per unit. signal: (T,) array.
    Returns:
        (H,) float64 in [-1, 1]; 0 for a unit (or a signal) that never changes.
    """
    a = np.asarray(activations, dtype=np.float64)
    s = np.asarray(signal, dtype=np.float64)
    if a.ndim != 2 or s.shape != (a.shape[0],):
        raise ValueError(f"activations must be (T, H) and signal (T,), got {a.shape} and {s.shape}")
    a = a - a.mean(axis=0)  # (T, H)
    s = s - s.mean()  # (T,)
    norm = np.sqrt((a**2).sum(axis=0) * (s**2).sum())  # (H,)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * s[:, None]).sum(axis=0) / norm
    return np.where(norm > 0, r, 0.0)


class UnitMatch(NamedTuple):
    """The unit that follows one signal best: r is the signed correlation (6.12)."""

    signal: str
    state: str  # "c" or "h"
    unit: int
    r: float
    runner_up: float  # the second-largest |r| among the units of the same state


def find_units(states, signals):
    """For every signal and every recorded state, the unit with the largest |r|.

    Args:
        states: {"c": (T, H), "h": (T, H)} from ``record_states``.
        signals: {name: (T,)}, e.g. ``text_signals(text)``.
    Returns:
        a list of ``UnitMatch``, strongest |r| first.
    """
    matches = []
    for name, signal in signals.items():
        for kind, activations in states.items():
            r = unit_correlations(activations, signal)
            order = np.argsort(-np.abs(r))
            runner_up = float(abs(r[order[1]])) if len(r) > 1 else 0.0
            matches.append(UnitMatch(name, kind, int(order[0]), float(r[order[0]]), runner_up))
    return sorted(matches, key=lambda m: -abs(m.r))


def held_out_r(match, states, signals):
    """The correlation (6.12) of a unit found on one text, measured again on another.

    Picking the best of H units on a text favours units that fit that text by chance, so
    the |r| that picked a unit overstates it; the r on fresh text does not.

    Args:
        match: a ``UnitMatch`` from ``find_units``.
        states, signals: ``record_states`` and ``text_signals`` of the other text.
    Returns:
        float, r of the same unit, state and signal.
    """
    activations = states[match.state][:, [match.unit]]  # (T, 1)
    return float(unit_correlations(activations, signals[match.signal])[0])


def text_grid(text, width=100, max_lines=None):
    """Lay text out as lines for drawing: [(row, column, character index), ...].

    Lines longer than ``width`` wrap; a newline starts a new row and is not drawn.
    """
    cells, row, col = [], 0, 0
    for t, ch in enumerate(_check_text(text)):
        if max_lines is not None and row >= max_lines:
            break
        if ch == "\n":
            row, col = row + 1, 0
            continue
        if col >= width:
            row, col = row + 1, 0
        cells.append((row, col, t))
        col += 1
    return cells


def draw_unit_text(ax, text, values, width=100, max_lines=None, title=None, cmap="RdBu_r"):
    """Draw ``text`` with each character's background coloured by ``values`` (Karpathy-style).

    The colour scale is symmetric around 0 (blue negative, red positive), from -m to m with m
    the largest |value| shown, so that a tanh-bounded h_t and an unbounded c_t both fill it.

    Args:
        ax: a matplotlib axes (its ticks are removed). text: str of length T.
        values: (T,) one number per character, e.g. ``states["c"][:, unit]``.
        width: characters per row before wrapping. max_lines: rows drawn at most.
    Returns:
        the matplotlib ``AxesImage`` (for a colour bar).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),):
        raise ValueError(
            f"values must have shape (len(text),) = ({len(text)},), got {values.shape}"
        )
    cells = text_grid(text, width, max_lines)
    rows = 1 + max((r for r, _, _ in cells), default=0)
    grid = np.full((rows, width), np.nan)
    for r, c, t in cells:
        grid[r, c] = values[t]
    m = np.nanmax(np.abs(grid)) if cells else 1.0
    image = ax.imshow(grid, cmap=cmap, vmin=-m, vmax=m, aspect="auto", interpolation="nearest")
    for r, c, t in cells:
        if text[t] != " ":
            ax.text(c, r, text[t], ha="center", va="center", family="monospace", fontsize=7)
    ax.set(xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return image


def draw_unit_passages(matches, text, states, signals, length=600, width=80):
    """One panel per matched unit: the passage of ``text`` where its signal varies most,
    each character coloured by that unit's activation (``draw_unit_text``).

    Args:
        matches: ``UnitMatch`` objects (e.g. chosen on validation text).
        text: the str the ``states`` and ``signals`` were computed on (e.g. test text).
        states, signals: ``record_states`` and ``text_signals`` of ``text``.
        length: characters per passage. width: characters per row.
    Returns:
        the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    passages = []
    for match in matches:
        start = busiest_window(signals[match.signal], length)
        rows = 1 + max(r for r, _, _ in text_grid(text[start : start + length], width))
        passages.append((match, start, rows))
    heights = [rows for _, _, rows in passages]
    fig, axes = plt.subplots(
        len(passages),
        1,
        figsize=(width * 0.13, 0.2 * sum(heights) + 0.5 * len(passages)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, (match, start, _) in zip(axes[:, 0], passages, strict=True):
        r = held_out_r(match, states, signals)
        values = states[match.state][start : start + length, match.unit]
        title = f"{match.signal}: {match.state} unit {match.unit}, r = {r:+.2f} on this text"
        draw_unit_text(ax, text[start : start + length], values, width=width, title=title)
    fig.tight_layout()
    return fig
