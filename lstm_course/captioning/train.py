"""Training the encoder and the decoders with ``lstm_course.train.fit``, and scoring them.

* ``attribute_loss``: the multi-label loss of eq. (9.1) for pre-training ``SceneCNN``.
* ``caption_loss``: teacher-forced cross-entropy over every real word, <eos> included,
  averaged over those positions (lecture 7's eq. 7.3 with the image as the source):

      L = -(1 / N) sum_{b, t : mask} log p(w_t^b | w_<t^b, image^b)                (9.4)

* Cached features: the encoder is frozen, so its annotation vectors are computed once
  (``encoder.encode_images``) and the decoders train on ``FeatureBatch``es of them.
* Metrics: attribute accuracy of the classifier, and caption BLEU (``analysis.bleu``).
"""

from typing import NamedTuple

import torch
from torch.nn import functional
from torch.utils.data import DataLoader

from lstm_course.analysis.bleu import caption_bleu
from lstm_course.captioning.decode import captions
from lstm_course.data._checks import check_int, check_seed
from lstm_course.data.scenes import caption_tensors
from lstm_course.train import to_device


def attribute_loss(model, batch):
    """The ``fit`` loss for a ``SceneBatch``: binary cross-entropy per attribute, eq. (9.1)."""
    logits = model(batch.images)  # (B, K)
    loss = functional.binary_cross_entropy_with_logits(logits, batch.labels)
    label_acc = ((logits > 0).float() == batch.labels).float().mean()
    return loss, {"label_acc": label_acc}


@torch.no_grad()
def attribute_accuracy(model, images, labels, batch_size=500):
    """How well a ``SceneCNN`` names the attributes of ``images``.

    Args:
        images: (N, 3, S, S) uint8 or float. labels: (N, K) multi-hot.
    Returns:
        {"label_acc": fraction of the N * K labels right,
         "exact": fraction of images with all K labels right}.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    right = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x
        predicted = (model(x) > 0).float().cpu()
        right.append(predicted == labels[start : start + batch_size])
    model.train(was_training)
    right = torch.cat(right)
    return {"label_acc": right.float().mean().item(), "exact": right.all(1).float().mean().item()}


class FeatureBatch(NamedTuple):
    """A batch of B cached images and their captions.

    Fields:
        a: (L, B, D) annotation vectors, eq. (9.2).
        tgt_in, tgt_out: (T, B) int64, <bos> w_1..w_n and w_1..w_n <eos>.
        tgt_mask: (T, B) bool, True at real positions.
    """

    a: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    tgt_mask: torch.Tensor


class FeatureCaptions(torch.utils.data.Dataset):
    """Cached annotations (L, N, D) with one caption per image, as (a_k (L, D), ids (n,)).

    Args:
        a: (L, N, D) from ``encode_images``. captions: N str. vocab: a ``WordVocab``.
    """

    def __init__(self, a, captions, vocab):
        if not isinstance(a, torch.Tensor) or a.dim() != 3 or a.shape[1] != len(captions):
            got = tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__
            raise ValueError(
                f"a must have shape (L, N, D) with N = len(captions) = {len(captions)}, got {got}"
            )
        self.a = a.transpose(0, 1)  # (N, L, D): one image per row, for indexing
        self.ids = [torch.tensor(vocab.encode(c)) for c in captions]

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, k):
        return self.a[k], self.ids[k]


def feature_collate(items):
    """A list of (a_k (L, D), ids) -> ``FeatureBatch`` with a (L, B, D)."""
    a, ids = zip(*items, strict=True)
    return FeatureBatch(torch.stack(a, dim=1), *caption_tensors(ids))


def make_feature_loader(dataset, batch_size=64, seed=0):
    """A shuffling DataLoader of ``FeatureBatch``es whose order depends only on ``seed``."""
    generator = torch.Generator()
    generator.manual_seed(check_seed(seed))
    return DataLoader(
        dataset,
        batch_size=check_int("batch_size", batch_size, minimum=1),
        shuffle=True,
        collate_fn=feature_collate,
        generator=generator,
    )


def caption_loss(model, batch):
    """The ``fit`` loss for a ``FeatureBatch``: (loss, {"word_acc": ...}), eq. (9.4)."""
    logits, _ = model(batch.a, batch.tgt_in)  # (T, B, V)
    mask = batch.tgt_mask
    loss = functional.cross_entropy(logits[mask], batch.tgt_out[mask])
    word_acc = (logits.argmax(-1) == batch.tgt_out)[mask].float().mean()
    return loss, {"word_acc": word_acc}


def caption_scores(model, a, references, vocab, max_len=12):
    """Greedy captions of ``a`` (L, N, D) scored against N lists of references.

    Returns:
        {"bleu1" .. "bleu4": corpus BLEU, "exact": fraction of captions equal to a reference}.
    """
    written = captions(model, a, vocab, max_len)
    scores = {f"bleu{n}": b for n, b in caption_bleu(written, references).items()}
    exact = sum(c in refs for c, refs in zip(written, references, strict=True)) / len(written)
    return {**scores, "exact": exact}


def bleu_eval_fn(a, references, vocab, name="val_bleu4", max_len=12):
    """An ``eval_fn`` for ``fit``: BLEU-4 of greedy captions, recorded as ``name``."""

    def evaluate(model):
        return {name: caption_scores(model, a, references, vocab, max_len)["bleu4"]}

    return evaluate


@torch.no_grad()
def loss_by_position(model, a, captions, vocab):
    """The teacher-forced loss (9.4) at each word position, over a set of captioned images.

    Args:
        a: (L, N, D) annotations. captions: N str (one reference each). vocab: a ``WordVocab``.
    Returns:
        (T,) float64 NumPy array: mean -log p(w_t | w_<t, image) over the captions that have a
        word (or <eos>) at position t (0-based: position 0 is the first "a").
    """
    dataset = FeatureCaptions(a, captions, vocab)
    batch = feature_collate([dataset[k] for k in range(len(dataset))])
    batch = to_device(batch, next(model.parameters()).device)
    was_training = model.training
    model.eval()
    logits, _ = model(batch.a, batch.tgt_in)  # (T, N, V)
    model.train(was_training)
    nll = functional.cross_entropy(logits.permute(1, 2, 0), batch.tgt_out.T, reduction="none")
    mask = batch.tgt_mask.T.float()  # (N, T)
    return ((nll * mask).sum(0) / mask.sum(0)).double().cpu().numpy()
