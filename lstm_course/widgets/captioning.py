"""Lecture 9's widget: pick a scene, read the captions, and step through the words of one
to see where the attention decoder looked while writing each.

At step t the decoder writes w_t from zhat_t = sum_i alpha_ti a_i (9.8); the widget draws the
image and alpha_t on it, and says which object's cell holds the most weight
(``describe_step``). The computation is ``lstm_course.experiments.captioning``; matplotlib
and ipywidgets are imported inside the function that draws.
"""

import numpy as np

from lstm_course.captioning.decode import greedy
from lstm_course.captioning.plots import overlay, show_image
from lstm_course.experiments.captioning import MAX_LEN, attention_words, cell_weights


def describe_step(scene, attention, step):
    """One line: the word written at ``step`` (0-based), and the object whose grid cell holds
    most of alpha_t (or "the background" if that cell is empty), with its weight."""
    if not 0 <= step < len(attention.words):
        raise ValueError(f"step must lie in [0, {len(attention.words)}), got {step}")
    cells = cell_weights(attention.maps[step])
    row, col = (int(i) for i in np.unravel_index(cells.argmax(), cells.shape))
    things = [t for t in scene if (t.row, t.col) == (row, col)]
    what = f"the {things[0].colour} {things[0].shape}" if things else "the background"
    return (
        f"word {step + 1} {attention.words[step]!r}: {cells[row, col]:.0%} of the weight "
        f"on cell (row {row + 1}, column {col + 1}), {what}"
    )


def caption_lines(scene_set, k, runs, features, vocab):
    """The references of scene ``k`` and each model's greedy caption, marked right or wrong."""
    refs = scene_set.references[k]
    lines = [f"references: {refs[0]!r} / {refs[1]!r}"]
    for name, run in runs.items():
        ids, _ = greedy(run.model, features[:, k : k + 1], MAX_LEN)
        text = vocab.decode(ids[:, 0])
        lines.append(f"{name:>22s}: {text!r} ({'right' if text in refs else 'wrong'})")
    return lines


def caption_explorer(runs, data, features, attention_model, grid_shape, splits=("test", "novel")):
    """The widget: a split, a scene index and a word; the image and the word's attention map.

    Args:
        runs: {name: DecoderRun}, every model whose caption is listed.
        data: ``CaptionData``. features: {split: a (L, N, D)}.
        attention_model: the name in ``runs`` whose attention is drawn.
        grid_shape: (h, w) of the encoder's grid.
    Returns:
        an ipywidgets.VBox.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    if attention_model not in runs or runs[attention_model].model.attention is None:
        raise ValueError(f"attention_model must name a run with attention, got {attention_model!r}")
    largest = max(len(data.splits[s].scenes) for s in splits)
    controls = {
        "split": widgets.Dropdown(options=list(splits), value=splits[0], description="split"),
        "k": widgets.IntSlider(value=0, min=0, max=largest - 1, description="scene"),
        "step": widgets.IntSlider(value=2, min=1, max=MAX_LEN, description="word t"),
    }
    for control in controls.values():
        control.continuous_update = False

    def clamp(change):  # each split has its own number of scenes
        controls["k"].max = len(data.splits[change["new"]].scenes) - 1

    controls["split"].observe(clamp, names="value")

    def show(split, k, step):
        scene_set, a = data.splits[split], features[split]
        k = min(k, len(scene_set.scenes) - 1)
        for line in caption_lines(scene_set, k, runs, a, data.vocab):
            print(line)
        att = attention_words(runs[attention_model], a[:, k], data.vocab, grid_shape)
        t = min(step, len(att.words)) - 1
        marked = " ".join(f"[{w}]" if i == t else w for i, w in enumerate(att.words))
        print(f"{attention_model}: {marked}")
        print(describe_step(scene_set.scenes[k], att, t))
        fig, (left, right) = plt.subplots(1, 2, figsize=(6.5, 3.4))
        show_image(left, scene_set.images[k], f"{split} scene {k}", fontsize=10)
        title = f"alpha_t for {att.words[t]!r}"
        overlay(right, scene_set.images[k], att.maps[t], title, fontsize=10)
        fig.tight_layout()
        plt.show()

    out = widgets.interactive_output(show, controls)
    return widgets.VBox([widgets.HBox([controls["split"], controls["k"]]), controls["step"], out])
