"""The three implementations the benchmark times, each as a zero-argument forward+backward pass.

- "torch.nn": torch.nn.RNN/LSTM/GRU (oneDNN's fused kernels on the CPU, cuDNN on a GPU).
- "ours": lstm_course.modules, the lecture equations in PyTorch (the LSTM's fused Function).
- "numpy": lstm_course.scratch, the NumPy forward and hand-written backward (always the CPU).

All three get the same weights (torch.nn's, seeded) and the same input and output gradient.
"""

import numpy as np

IMPLEMENTATIONS = ("torch.nn", "ours", "numpy")


def _torch_pass(module, X, dY, device):
    import torch

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def run():
        module.zero_grad(set_to_none=True)
        X.grad = None
        Y, _ = module(X)
        Y.backward(dY)
        sync()

    return run


def _numpy_pass(kind, p, X, dY):
    from lstm_course.scratch import gru, lstm, rnn

    forward, backward = {
        "rnn": (rnn.rnn_forward, rnn.rnn_backward),
        "gru": (gru.gru_forward, gru.gru_backward),
        "lstm": (lstm.lstm_forward, lstm.lstm_backward),
    }[kind]

    def run():
        _, _, cache = forward(X, None, p)
        backward(dY, cache)

    return run


def make_runs(kind, shape, device, implementations=IMPLEMENTATIONS):
    """{name: run} for one kind ("rnn", "gru", "lstm") and shape (T, B, D, H) on ``device``."""
    import torch

    from lstm_course import modules
    from lstm_course.scratch.torch_params import params_from_torch

    T, B, D, H = shape
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(T, B, D, generator=gen)
    dY = torch.randn(T, B, H, generator=gen)
    torch.manual_seed(0)
    reference = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind](D, H)
    p = {k: v.astype(np.float32) for k, v in params_from_torch(reference).items()}
    runs = {}
    for name in implementations:
        if name == "numpy":
            runs[name] = _numpy_pass(kind, p, X.numpy(), dY.numpy())
            continue
        if name == "torch.nn":
            module = reference
        else:
            module = getattr(modules, kind.upper())(D, H)
            module.load_state_dict(reference.state_dict())
        Xd = X.clone().to(device).requires_grad_()  # its own copy: .grad is reset per pass
        runs[name] = _torch_pass(module.to(device), Xd, dY.to(device), device)
    return runs
