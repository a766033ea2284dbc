"""Truncated backpropagation through time: forward over the whole sequence, backward in chunks.

Lecture 2. A long sequence is cut into chunks of k steps. Each chunk starts from the state the
previous chunk ended in (the forward pass is exact), but its backward pass stops at the chunk's
first step: the gradient of the state carried in is thrown away. So a loss at step t only
reaches parameters and inputs through steps within its own chunk, at most k - 1 steps back;
dependencies longer than that cannot be learned. With k >= T it is full BPTT.
"""

from typing import NamedTuple

import numpy as np


class TBPTTResult(NamedTuple):
    """What truncated_bptt returns."""

    loss: float  # the sum of the chunk losses
    grads: dict  # parameter gradients, summed over chunks, keys of p
    dX: np.ndarray  # (T, B, D) input gradient, each chunk's own
    H_all: np.ndarray  # (T, B, H) every hidden state (identical to the untruncated forward)
    state_T: object  # the final state: h, or (h, c) for the LSTM


def truncated_bptt(forward, backward, X, state0, p, k, loss_grad):
    """Run ``forward`` over X in chunks of k steps, backpropagating within each chunk only.

    Args:
        forward, backward: a matching pair such as (lstm_forward, lstm_backward), with the
            signatures forward(X, state0, p) -> (H_all, state_T, cache) and
            backward(dH_all, cache) -> (dX, dstate0, grads).
        X: (T, B, D) inputs.
        state0: the initial state (h0, or (h0, c0) for the LSTM), or None for zeros.
        p: the parameter dict.
        k: chunk length, a positive int (the truncation length).
        loss_grad: loss_grad(H_chunk, start) -> (loss, dH_chunk), the loss of the outputs
            H_chunk = H_all[start:start + k] and its gradient with the same shape.
    Returns:
        TBPTTResult(loss, grads, dX, H_all, state_T).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int (the chunk length), got {k!r}")
    if not isinstance(X, np.ndarray) or X.ndim != 3:
        raise ValueError(f"X must be a (T, B, D) array, got shape {np.shape(X)}")
    T = X.shape[0]
    if T == 0:
        raise ValueError("X must have at least one time step, got T = 0")
    loss, grads, dX_chunks, H_chunks = 0.0, None, [], []
    state = state0
    for start in range(0, T, k):
        H_chunk, state, cache = forward(X[start : start + k], state, p)
        chunk_loss, dH_chunk = loss_grad(H_chunk, start)
        # The chunk's gradient on its initial state (the second value) is dropped: this is
        # the truncation. In PyTorch the same cut is `state = state.detach()`.
        dX_chunk, _, chunk_grads = backward(dH_chunk, cache)
        loss += float(chunk_loss)
        if grads is None:
            grads = chunk_grads
        else:
            grads = {key: grads[key] + chunk_grads[key] for key in grads}
        dX_chunks.append(dX_chunk)
        H_chunks.append(H_chunk)
    return TBPTTResult(loss, grads, np.concatenate(dX_chunks), np.concatenate(H_chunks), state)
