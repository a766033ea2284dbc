"""A temperature slider and a prompt box over a trained character model (lecture 6).

``next_char_distribution`` shows what the model predicts right after a prompt, sharpened or
flattened by the temperature tau of eq. (6.1); ``temperature_samples`` continues the prompt by
sampling, eqs. (6.1)-(6.2), with ``lstm_course.decoding.generate``. ``sampling_explorer`` puts
both behind a slider and a text box and redraws whenever either changes. ipywidgets and
matplotlib are imported inside the functions that draw.
"""

from typing import NamedTuple

import numpy as np

from lstm_course.decoding import (
    char_lm_step,
    generate,
    prompt_state,
    softmax_with_temperature,
)


class NextChar(NamedTuple):
    """The model's distribution over the character after a prompt, at one temperature."""

    chars: list  # the k likeliest characters, likeliest first ("\\n" shown as "\\n")
    probs: np.ndarray  # (k,) their probabilities at this temperature
    entropy_bits: float  # entropy of the whole distribution, in bits


def _shown(ch):
    """A character as it can be read on an axis: newline and space made visible."""
    return {"\n": "\\n", " ": "' '"}.get(ch, ch)


def next_char_distribution(model, vocab, prompt, temperature=1.0, k=10):
    """The k likeliest next characters after ``prompt`` at temperature tau, eq. (6.1).

    ``<unk>`` is excluded, as in ``generate``: it stands for characters the vocabulary lacks.

    Args:
        model: a trained ``CharLM``. vocab: its ``Vocab``. prompt: a non-empty str.
        temperature: tau > 0. k: how many characters to return (>= 1).
    Returns:
        a ``NextChar``.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    was_training = model.training
    model.eval()
    try:
        last, state = prompt_state(model, vocab, prompt)
        log_p, _ = char_lm_step(model)(np.array([last]), state)  # (1, V)
    finally:
        model.train(was_training)
    log_p[:, vocab.unk_id] = -np.inf
    p = softmax_with_temperature(log_p, temperature)[0]  # (V,)
    top = np.argsort(-p, kind="stable")[: min(k, len(p))]
    nonzero = p[p > 0]
    entropy = float(-(nonzero * np.log2(nonzero)).sum())
    return NextChar([_shown(vocab.itos[i]) for i in top], p[top], entropy)


def temperature_samples(model, vocab, prompt, temperature=1.0, n_samples=3, length=200, seed=0):
    """``n_samples`` continuations of ``prompt``, sample i drawn with seed ``seed + i``.

    Returns:
        a list of str, each the prompt followed by ``length`` sampled characters.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
    return [
        generate(model, vocab, prompt, length, temperature=temperature, seed=seed + i)
        for i in range(n_samples)
    ]


def draw_next_char(ax, dist, temperature):
    """Bar chart of a ``NextChar``: the k likeliest characters and their probabilities."""
    ax.bar(range(len(dist.chars)), dist.probs, color="tab:blue")
    ax.set_xticks(range(len(dist.chars)), dist.chars, family="monospace")
    ax.set(
        ylim=(0, 1),
        xlabel="next character",
        ylabel="probability",
        title=f"tau = {temperature:.2f}: entropy {dist.entropy_bits:.2f} bits",
    )
    return ax


def sampling_explorer(model, vocab, prompt="Return the ", length=200, n_samples=3, k=12):
    """A temperature slider, a prompt box and a seed: the next-character bars and samples.

    Args:
        model: a trained ``CharLM``. vocab: its ``Vocab``.
        prompt: the text the box starts with. length: characters sampled per continuation.
        n_samples: continuations shown. k: bars in the chart.
    Returns:
        an ipywidgets VBox (display it, or leave it as a cell's last value).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    style = {"description_width": "initial"}
    controls = {
        "temperature": widgets.FloatLogSlider(
            value=1.0,
            base=10,
            min=-1,
            max=0.5,
            step=0.05,
            description="temperature tau",
            continuous_update=False,
            style=style,
        ),
        "prompt": widgets.Text(
            value=prompt, description="prompt", continuous_update=False, style=style
        ),
        "seed": widgets.IntSlider(
            value=0, min=0, max=20, description="seed", continuous_update=False, style=style
        ),
    }

    def show(temperature, prompt, seed):
        if not prompt:
            print("Type a prompt: the model needs at least one character to start from.")
            return
        dist = next_char_distribution(model, vocab, prompt, temperature, k)
        fig, ax = plt.subplots(figsize=(8, 2.6))
        draw_next_char(ax, dist, temperature)
        plt.show()
        texts = temperature_samples(model, vocab, prompt, temperature, n_samples, length, seed)
        for i, text in enumerate(texts):
            print(f"--- sample {i + 1} (seed {seed + i}) ---\n{text}\n")

    out = widgets.interactive_output(show, controls)
    return widgets.VBox([widgets.HBox(list(controls.values())), out])
