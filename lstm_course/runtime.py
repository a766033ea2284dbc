"""Reproducibility and hardware: one seed for every generator, and the best available device."""

import random

import numpy as np


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every GPU).

    Seeded runs then give identical numbers on the same machine. GPU kernels may still be
    non-deterministic; see ``torch.use_deterministic_algorithms`` if that matters.

    Args:
        seed: a non-negative integer below 2**32 (NumPy's limit).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    import torch  # imported here so that `import lstm_course` stays fast and torch-free

    random.seed(int(seed))
    np.random.seed(int(seed))  # noqa: NPY002 (students' code uses the global generator)
    torch.manual_seed(int(seed))  # seeds the CPU generator and all CUDA/MPS generators


def device():
    """The fastest device torch can use here: CUDA, else Apple's MPS, else the CPU.

    Returns:
        a ``torch.device``. Pass it to every model and trainer (``device=device()``).
    """
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
