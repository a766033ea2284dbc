"""The Neural Turing Machine of lecture 10 in PyTorch (Graves et al. 2014).

``addressing`` and ``memory`` are the batched, differentiable twins of the NumPy reference
``lstm_course.scratch.ntm``; ``heads`` turns the controller's output into weightings;
``model`` is the NTM with an LSTM controller. The copy task's batches, loss and bit errors are
in ``copy_task``, the training recipe and the shipped checkpoints in ``train``. Importing this
package imports torch.
"""

from lstm_course.ntm.addressing import (
    Addressing,
    address,
    content_addressing,
    cosine_similarity,
    interpolate,
    sharpen,
    shift,
)
from lstm_course.ntm.heads import Head, HeadParams, ReadHead, WriteHead
from lstm_course.ntm.memory import initial_memory, read, write
from lstm_course.ntm.model import NTM, NTMConfig, NTMState, NTMTrace

__all__ = [
    "NTM",
    "Addressing",
    "Head",
    "HeadParams",
    "NTMConfig",
    "NTMState",
    "NTMTrace",
    "ReadHead",
    "WriteHead",
    "address",
    "content_addressing",
    "cosine_similarity",
    "initial_memory",
    "interpolate",
    "read",
    "sharpen",
    "shift",
    "write",
]
