"""Lecture 9's figures: scenes with captions, attention maps on the image, scores, examples.

Every function draws on axes it is given (matplotlib is imported only where a figure needs
it), so the notebook chooses the layout and the tests can draw on an Agg canvas.
"""

import textwrap

import numpy as np

from lstm_course.data.scenes import compare_caption


def as_rgb(image):
    """(3, S, S) uint8 or float tensor/array -> (S, S, 3) float array in [0, 1] for imshow."""
    x = np.asarray(image)
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"image must have shape (3, S, S), got {x.shape}")
    x = x.astype(np.float64) / (255.0 if x.dtype == np.uint8 else 1.0)
    return x.transpose(1, 2, 0)


def show_image(ax, image, title=None, color="black", fontsize=8):
    """The image without ticks, with an optional (wrapped) title."""
    ax.imshow(as_rgb(image), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(textwrap.fill(title, 26), fontsize=fontsize, color=color)
    return ax


def overlay(ax, image, alpha_map, title=None, cmap="magma", fontsize=9):
    """The image, darkened where the attention weight is low: alpha (h, w) upsampled to S x S.

    The map is scaled by its maximum, so the brightest region is where the decoder looked
    most; ``title`` usually holds the word and the largest weight.
    """
    rgb = as_rgb(image)
    S = rgb.shape[0]
    m = np.asarray(alpha_map, dtype=np.float64)
    if m.ndim != 2 or S % m.shape[0] or S % m.shape[1]:
        raise ValueError(f"alpha_map must be (h, w) dividing the image size {S}, got {m.shape}")
    up = np.kron(m / m.max(), np.ones((S // m.shape[0], S // m.shape[1])))  # (S, S) blocks
    ax.imshow(rgb * (0.25 + 0.75 * up[..., None]), interpolation="nearest")
    ax.imshow(up, cmap=cmap, alpha=0.35, vmin=0, vmax=1, interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)
    return ax


def plot_word_attention(axes, image, attention):
    """The image, then one overlay per written word (a ``WordAttention``): len(words) + 1 axes."""
    if len(axes) < len(attention.words) + 1:
        raise ValueError(f"need {len(attention.words) + 1} axes, got {len(axes)}")
    show_image(axes[0], image, "image")
    for ax, word, m in zip(axes[1:], attention.words, attention.maps, strict=False):
        overlay(ax, image, m, f"{word}  ({m.max():.2f})")
    for ax in axes[len(attention.words) + 1 :]:
        ax.axis("off")
    return axes


KIND_COLORS = {"right": "tab:green", "one slot wrong": "tab:orange", "two or more wrong": "tab:red"}


def plot_examples(axes, scene_set, groups, written):
    """Successes and failures, one row of axes per kind, as the slides show them.

    Args:
        axes: (rows, columns) array of axes, one row per group.
        scene_set: the ``SceneSet``. groups: {kind: scene indices}, e.g. from
            ``captioning.failures.examples_by_errors``; kinds from ``KIND_COLORS``.
        written: every scene's generated caption (str).
    Each title is the generated caption, coloured by its kind; under a wrong one, its wrong
    slots and the closer reference.
    """
    if len(axes) < len(groups):
        raise ValueError(f"need a row of axes per group: {len(groups)} rows, got {len(axes)}")
    for row, (kind, indices) in zip(axes, groups.items(), strict=False):
        for ax, k in zip(row, indices, strict=False):
            show_image(ax, scene_set.images[k])
            ax.set_title(
                textwrap.fill(written[k], 24), fontsize=8, color=KIND_COLORS.get(kind, "black")
            )
            wrong, ref = compare_caption(written[k], scene_set.scenes[k])
            if wrong != ():
                slots = "grammar" if wrong is None else ", ".join(wrong).replace("_", " ")
                ax.set_xlabel(textwrap.fill(f"wrong: {slots}; ref: {ref}", 28), fontsize=7)
        for ax in row[len(indices) :]:
            ax.axis("off")
        row[0].set_ylabel(kind, fontsize=10, color=KIND_COLORS.get(kind, "black"))
    return axes


def plot_attention_by_word(ax, result):
    """Stacked bars: the share of alpha_t on the object named first, the one named second,
    and elsewhere, for each word of a right caption (an ``AttentionByWord``)."""
    x = np.arange(len(result.roles))
    bottom = np.zeros(len(x))
    parts = ("on the object named first", "on the object named second", "elsewhere")
    colors = ("tab:orange", "tab:purple", "lightgray")
    for j, (label, color) in enumerate(zip(parts, colors, strict=True)):
        ax.bar(x, result.weights[:, j], bottom=bottom, label=label, color=color)
        bottom += result.weights[:, j]
    ax.set_xticks(x, result.roles)
    ax.set(xlabel="word written at step t", ylabel="share of alpha_t", ylim=(0, 1))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8)
    return ax


def plot_val_bleu(ax, runs, colors=None):
    """Validation BLEU-4 against training step, one line per ``DecoderRun``."""
    for name, run in runs.items():
        steps, bleu = run.history.series("val_bleu4")
        ax.plot(steps, bleu, "o-", ms=3, label=name, color=(colors or {}).get(name))
    ax.set(xlabel="training step", ylabel="BLEU-4 on 200 validation scenes", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_scores(ax, table, metric="bleu4", colors=None):
    """Grouped bars: ``metric`` per split (groups) and model (bars), values written on top."""
    names = list(table)
    splits = list(next(iter(table.values())))
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        x = np.arange(len(splits)) + (j - (len(names) - 1) / 2) * width
        values = [table[name][s][metric] for s in splits]
        bars = ax.bar(x, values, width, label=name, color=(colors or {}).get(name))
        ax.bar_label(bars, [f"{v:.2f}" for v in values], fontsize=8)
    ax.set_xticks(range(len(splits)), splits)
    label = f"BLEU-{metric[-1]}" if metric.startswith("bleu") else metric
    ax.set(ylabel=label, ylim=(0, 1.12))
    ax.legend(loc="lower left", fontsize=8)
    return ax


def plot_position_losses(ax, losses, labels, colors=None):
    """The teacher-forced loss at each word position, one line per model."""
    for name, loss in losses.items():
        ax.plot(range(len(loss)), loss, "o-", label=name, color=(colors or {}).get(name))
    ax.set_xticks(range(len(labels)), labels)
    ax.set(xlabel="word position t", ylabel="mean -log p(w_t | w_<t, image)")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
