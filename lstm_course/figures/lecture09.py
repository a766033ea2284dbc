"""Lecture 9, image captioning: the figures of lectures/09_image_captioning.ipynb."""

import functools

import matplotlib.pyplot as plt

from lstm_course.captioning import failures, plots
from lstm_course.captioning.plots import overlay, show_image
from lstm_course.experiments import captioning as cap
from lstm_course.figures import figure
from lstm_course.train import final_plot

# The x labels of the position-loss figure: what the word at each position t is.
POSITIONS = [
    "a",
    "colour",
    "shape",
    "relation",
    "of / a",
    "a / colour",
    "colour / shape",
    "shape / <eos>",
    "<eos>",
]


@functools.cache
def _data():
    return cap.make_data(cap.SETUP)


@functools.cache
def _encoder():
    """The pre-trained, frozen CNN (pretrain_encoder seeds itself)."""
    return cap.pretrain_encoder(cap.SETUP, _data(), progress=False)


@functools.cache
def _features():
    return cap.cache_features(_encoder().model, _data())


def _grid_shape():
    return (_data().splits["test"].images.shape[-1] // 8,) * 2


@functools.cache
def _decoder(kind):
    """One decoder run of ``kind`` ("plain", "h", "hw"); each is seeded by make_decoder."""
    return cap.train_decoder(cap.SETUP, kind, _data(), _features(), progress=False)


def _runs(kinds=cap.KINDS):
    return {cap.NAMES[kind]: _decoder(kind) for kind in kinds}


@figure(9, "Twelve training scenes, each with the one of its two captions it carries")
def lecture09_training_scenes():
    train = _data().splits["train"]
    fig, axes = plt.subplots(2, 6, figsize=(13, 5.2))
    for k, ax in enumerate(axes.flat):
        plots.show_image(ax, train.images[k], train.captions[k], fontsize=9)
    fig.suptitle("training scenes with the caption each carries")
    fig.tight_layout()
    return fig


@figure(9, "Pre-training the CNN encoder on the scene labels: loss, label accuracy, grad norm")
def lecture09_encoder_pretraining():
    return final_plot(_encoder().history, metrics=("label_acc",))


@figure(
    9, "Training the decoder without attention (Show and Tell): loss, validation BLEU-4, grad norm"
)
def lecture09_show_tell_training():
    return final_plot(_decoder("plain").history, metrics=("val_bleu4",))


@figure(
    9, "Teacher-forced loss by word position: attention with query h fails on the relation word"
)
def lecture09_position_losses():
    losses = cap.position_losses(_runs(("plain", "h")), _data(), _features())
    fig, ax = plt.subplots(figsize=(10, 3.5))
    plots.plot_position_losses(ax, losses, POSITIONS, colors=cap.COLORS)
    ax.set_title("teacher-forced loss at each word position (test captions)")
    return fig


@figure(9, "The three decoders: validation BLEU-4 during training, test and novel BLEU-4 after it")
def lecture09_bleu_comparison():
    runs = _runs()
    table = cap.score_table(runs, _data(), _features())
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    plots.plot_val_bleu(axes[0], runs, colors=cap.COLORS)
    axes[0].set_title("validation BLEU-4 during training")
    plots.plot_scores(axes[1], table, colors=cap.COLORS)
    axes[1].set_title("BLEU-4 after 1000 steps: 1000 test scenes, 500 novel scenes")
    fig.tight_layout()
    return fig


@figure(9, "Where the query h+w decoder looks (alpha_t) for each word it writes, three test scenes")
def lecture09_word_attention():
    att_run, test = _decoder("hw"), _data().splits["test"]
    fig, axes = plt.subplots(3, 10, figsize=(15, 5.4))
    for row, k in zip(axes, (0, 1, 2), strict=True):
        words = cap.attention_words(
            att_run, _features()["test"][:, k], _data().vocab, _grid_shape()
        )
        plots.plot_word_attention(row, test.images[k], words)
        row[0].set_ylabel(f"test scene {k}", fontsize=9)
    fig.suptitle("alpha_t for each written word (attention, query h+w)")
    fig.tight_layout()
    return fig


@figure(9, "Share of alpha_t on the object named first, second and elsewhere, word by word")
def lecture09_attention_by_word():
    data = _data()
    by_word = cap.attention_by_word(
        _decoder("hw"), _features()["test"], data.splits["test"], data.vocab, _grid_shape(), n=300
    )
    fig, ax = plt.subplots(figsize=(10, 3.8))
    plots.plot_attention_by_word(ax, by_word)
    ax.set_title("where alpha_t lies while each word is written (query h+w, right test captions)")
    fig.tight_layout()
    return fig


@figure(9, "Novel scenes captioned by the query h+w decoder: right, one slot wrong, more wrong")
def lecture09_novel_examples():
    data, name = _data(), cap.NAMES["hw"]
    novel = data.splits["novel"]
    # Only the captions the figure shows: the h+w decoder's on the novel split.
    written = cap.written({name: _decoder("hw")}, data, _features(), "novel")[name]
    groups = failures.examples_by_errors(written, novel, 6)
    fig, axes = plt.subplots(3, 6, figsize=(13, 9))
    plots.plot_examples(axes, novel, groups, written)
    fig.suptitle("novel scenes, attention with query h+w: right, one slot wrong, more wrong")
    fig.tight_layout()
    return fig


@figure(9, "The caption explorer's first view: test scene 0 and alpha_t for its second word")
def lecture09_caption_explorer():
    # The widget's defaults: split "test", scene k = 0, word t = 2, drawn as its show() does.
    data = _data()
    scene_set, k = data.splits["test"], 0
    att = cap.attention_words(_decoder("hw"), _features()["test"][:, k], data.vocab, _grid_shape())
    t = min(2, len(att.words)) - 1
    fig, (left, right) = plt.subplots(1, 2, figsize=(6.5, 3.4))
    show_image(left, scene_set.images[k], f"test scene {k}", fontsize=10)
    overlay(right, scene_set.images[k], att.maps[t], f"alpha_t for {att.words[t]!r}", fontsize=10)
    fig.tight_layout()
    return fig
