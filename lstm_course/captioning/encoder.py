"""The image encoder: a small CNN, pre-trained as a multi-label classifier, then read as a grid.

Three blocks of 3x3 convolution, batch normalisation, ReLU and 2x2 max pooling turn an
image (B, 3, S, S), its pixels centred by (x - 0.5) / 0.25, into a
feature grid (B, C, S/8, S/8): with S = 48, a 6 x 6 grid of C = 32 features, each computed
from a 22 x 22 pixel patch (its receptive field) around its position. For pre-training, a
classifier head averages the grid over positions and scores each attribute:

    f = CNN(image)                    (B, C, h, w)
    q = mean_{positions} f W_c + b_c  (B, K)   logits of the K = 7 attributes          (9.1)
    L = - sum_k [y_k log sigma(q_k) + (1 - y_k) log(1 - sigma(q_k))]   (multi-label)

The captioning decoders read the grid instead, as L = h * w *annotation vectors* (Xu et al.),
one per position i in row-major order, each with its position appended:

    a_i = [f_i ; x_i ; y_i]           (D,) with D = C + 2, x_i, y_i in [-1, 1]         (9.2)

Why the coordinates: a convolution computes the same function at every position, so f_i says
*what* is near position i, not *where* i is; a decoder that averages a_i over the grid
(attention) would otherwise lose the position, and "left of" needs it.
"""

import torch
from torch import nn

from lstm_course.data._checks import check_int


class SceneCNN(nn.Module):
    """Conv-BatchNorm-ReLU-pool blocks, and a multi-label head on the grid's average, eq. (9.1).

    Args:
        channels: output channels of each block (default (16, 32, 32): C = 32).
        n_labels: K, attributes to predict.
        device, dtype: where and in which precision to create the parameters.
    Shapes:
        images (B, 3, S, S), S divisible by 2 ** len(channels); ``grid`` (B, C, h, w);
        ``forward`` logits (B, K).
    """

    def __init__(self, channels=(16, 32, 32), n_labels=7, device=None, dtype=None):
        super().__init__()
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) for c in channels):
            raise ValueError(f"channels must be a non-empty tuple of ints, got {channels!r}")
        n_labels = check_int("n_labels", n_labels, minimum=1)
        layers, previous = [], 3
        for c in channels:
            conv = nn.Conv2d(previous, c, 3, padding=1, device=device, dtype=dtype)
            norm = nn.BatchNorm2d(c, device=device, dtype=dtype)  # trains 300 steps, not 3000
            layers += [conv, norm, nn.ReLU(), nn.MaxPool2d(2)]
            previous = c
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Linear(previous, n_labels, device=device, dtype=dtype)  # W_c, b_c
        self.channels, self.feature_size = tuple(channels), previous

    def grid(self, images):
        """f = CNN(image): (B, 3, S, S) float -> the feature grid (B, C, S / 8, S / 8)."""
        _check_images(images, 2 ** len(self.channels))
        return self.blocks((images - 0.5) / 0.25)  # pixels centred near 0, as SGD likes them

    def forward(self, images):
        """Eq. (9.1): attribute logits (B, K) (apply a sigmoid for probabilities)."""
        return self.head(self.grid(images).mean(dim=(2, 3)))  # average over positions


def annotations(grid, coords=True):
    """Eq. (9.2): the grid as L = h * w annotation vectors, time-major like a source sequence.

    Args:
        grid: (B, C, h, w) from ``SceneCNN.grid``. coords: append x_i, y_i.
    Returns:
        a: (L, B, D) with D = C + 2 (C without coords); position i = row * w + col.
    """
    if not isinstance(grid, torch.Tensor) or grid.dim() != 4:
        got = tuple(grid.shape) if isinstance(grid, torch.Tensor) else type(grid).__name__
        raise ValueError(f"grid must have shape (B, C, h, w), got {got}")
    B, C, h, w = grid.shape
    a = grid.flatten(2).permute(2, 0, 1)  # (L, B, C)
    if not coords:
        return a
    return torch.cat([a, grid_coords(h, w, grid)[:, None, :].expand(h * w, B, 2)], dim=-1)


def grid_coords(h, w, like=None):
    """(h * w, 2) the (x_i, y_i) of each position, cell centres in [-1, 1], row-major."""
    kwargs = {} if like is None else {"device": like.device, "dtype": like.dtype}
    ys = (torch.arange(h, **kwargs) + 0.5) * (2 / h) - 1
    xs = (torch.arange(w, **kwargs) + 0.5) * (2 / w) - 1
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], dim=1)


def _check_images(images, factor):
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        got = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
        raise TypeError(f"images must be a float tensor in [0, 1], got {got}")
    bad_size = images.dim() == 4 and (
        images.shape[2] != images.shape[3] or images.shape[2] % factor or images.shape[2] == 0
    )
    if images.dim() != 4 or images.shape[1] != 3 or bad_size:
        raise ValueError(
            f"images must have shape (B, 3, S, S) with S divisible by {factor}, "
            f"got {tuple(images.shape)}"
        )


@torch.no_grad()
def encode_images(encoder, images, batch_size=500, coords=True):
    """The frozen encoder's annotation vectors for a whole image set, computed once.

    Args:
        encoder: a ``SceneCNN``. images: (N, 3, S, S) uint8 (as in ``SceneSet``) or float.
        batch_size: images per forward pass (memory only; the result is the same).
    Returns:
        a: (L, N, D) on the encoder's device, in its dtype (eq. 9.2).
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    was_training = encoder.training
    encoder.eval()
    weight = next(encoder.parameters())
    chunks = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(weight.device)
        x = x.to(weight.dtype) / 255.0 if x.dtype == torch.uint8 else x.to(weight.dtype)
        chunks.append(annotations(encoder.grid(x), coords))
    encoder.train(was_training)
    return torch.cat(chunks, dim=1)
