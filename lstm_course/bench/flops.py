"""How much arithmetic a recurrent forward+backward pass is, and how fast this machine multiplies.

Only the matrix products count (they are nearly all of the work; a multiply-add is 2 FLOPs).
With k gates (RNN 1, GRU 3, LSTM 4) and (T, B, D, H):

    forward:   2 T B D kH  (x_t W_ih^T, all steps in one matmul)  +  2 T B H kH  (h_{t-1} W_hh^T)
    backward:  dX = dA W_ih and dW_ih = dA^T X        (2 x 2 T B D kH)
               dh_{t-1} = da_t W_hh and dW_hh = ...    (2 x 2 T B H kH)
    total:     6 T B kH (D + H), three times the forward pass.
"""

import time

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def recurrent_flops(kind, shape):
    """Matmul FLOPs of one forward+backward pass of a one-layer ``kind`` at (T, B, D, H)."""
    T, B, D, H = shape
    return 6 * T * B * GATES[kind] * H * (D + H)


def _best_seconds(fn, repeats):
    fn()  # warm up: threads started, buffers allocated
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_gflops(library, device="cpu", n=1024, repeats=5):
    """The best GFLOP/s of an (n, n) @ (n, n) float32 product in ``library`` ("torch"/"numpy").

    This is what the machine can do when the work is one large matmul: the ceiling that the
    benchmark's recurrent passes are compared against.
    """
    flops = 2 * n**3
    if library == "numpy":
        import numpy as np

        a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        return flops / _best_seconds(lambda: a @ a, repeats) / 1e9
    import torch

    a = torch.randn(n, n, generator=torch.Generator().manual_seed(0)).to(device)
    sync = torch.cuda.synchronize if a.device.type == "cuda" else (lambda: None)

    def product():
        a @ a
        sync()

    return flops / _best_seconds(product, repeats) / 1e9
