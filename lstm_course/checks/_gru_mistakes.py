"""Exercise 3's feedback catalogue: the usual GRU mistakes, computed, and the hint per gate.

``forward_mistakes`` gives the h that each common mistake in (E3.1)-(E3.4) produces;
``name_mistake`` names the first one a student's output matches. ``blocks`` and the hints
say, for each gate block of a weight gradient, where its derivative comes from. The equation
numbers are exercise 3's, (E3.1) to (E3.9).
"""

import numpy as np

from lstm_course.scratch.activations import sigmoid

# ----- naming a common mistake in the forward step -----


def forward_mistakes(x_t, h_prev, p):
    """{a common mistake, in words: the h (B, H) it gives}, so feedback can name the mistake."""
    a_xr, a_xz, a_xn = np.split(x_t @ p["W_x"] + p["b_x"], 3, axis=-1)
    W_hr, W_hz, W_hn = np.split(p["W_h"], 3, axis=-1)
    b_hr, b_hz, b_hn = np.split(p["b_h"], 3, axis=-1)
    a_hr, a_hz, a_hn = h_prev @ W_hr + b_hr, h_prev @ W_hz + b_hz, h_prev @ W_hn + b_hn
    r = sigmoid(a_xr + a_hr)
    z = sigmoid(a_xz + a_hz)
    n = np.tanh(a_xn + r * a_hn)
    r_swapped, z_swapped = z, r  # the first block read as z, the second as r
    n_swapped = np.tanh(a_xn + r_swapped * a_hn)
    return {
        "r and z are swapped: the gates are stacked r, z, n, so the first H columns of W_x "
        "and W_h belong to the reset gate r and the next H to the update gate z": (
            (1 - z_swapped) * n_swapped + z_swapped * h_prev
        ),
        "the reset gate is applied before the matrix product, (r * h_prev) W_hn as in Cho et "
        "al.; here, as in torch.nn.GRU, r multiplies the product h_prev W_hn + b_hn (E3.3)": (
            (1 - z) * np.tanh(a_xn + (r * h_prev) @ W_hn + b_hn) + z * h_prev
        ),
        "r multiplies h_prev W_hn but not b_hn: in (E3.3) it multiplies the whole "
        "h_prev W_hn + b_hn": ((1 - z) * np.tanh(a_xn + r * (h_prev @ W_hn) + b_hn) + z * h_prev),
        "z and 1 - z are swapped in (E3.4): z = 1 keeps the old state, "
        "h = (1 - z) * n + z * h_prev": (z * n + (1 - z) * h_prev),
        "the factor (1 - z) on n is missing in (E3.4)": (n + z * h_prev),
        "the candidate n needs tanh, not the sigmoid (E3.3)": (
            (1 - z) * sigmoid(a_xn + r * a_hn) + z * h_prev
        ),
        "the reset gate r is missing from the candidate (E3.3)": (
            (1 - z) * np.tanh(a_xn + a_hn) + z * h_prev
        ),
    }


def name_mistake(actual, mistakes, fallback):
    """The hint for the first mistake whose output equals actual, else fallback."""
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return fallback
    for words, value in mistakes.items():
        if actual.shape == value.shape and np.allclose(actual, value, atol=1e-8, rtol=1e-6):
            return f"Your numbers match a common mistake: {words}"
    return fallback


STEP_FORWARD_HINT = (
    "Check (E3.1)-(E3.4) one at a time: the gates are stacked r, z, n along the 3H axis, "
    "r and z use the sigmoid, n uses tanh"
)


# ----- gradients, gate block by gate block -----


def blocks(H):
    """The three gate blocks of a 3H axis, in the order that blames the cause of an error.

    da_r is computed from da_n, so a wrong n block also spoils r: n is checked first.
    """
    return {
        "candidate n": slice(2 * H, 3 * H),
        "update z": slice(H, 2 * H),
        "reset r": slice(0, H),
    }


BLOCK_HINTS = {
    "candidate n": "The n block: dh reaches a_n through the factor (1 - z) of (E3.4) and "
    "tanh' = 1 - n^2",
    "update z": "The z block: dh/dz = h_prev - n from (E3.4), then sigma' = z (1 - z)",
    "reset r": "The r block: da_n reaches r through a_hn = h_prev W_hn + b_hn in (E3.3), then "
    "sigma' = r (1 - r)",
}
# In (E3.3) r multiplies the h-side projection of the candidate, so its n block carries r.
H_SIDE_N_HINT = (
    "The n block of the h side: in (E3.3) r multiplies h_prev W_hn + b_hn, so the gradient "
    "of that projection is da_n * r, not da_n"
)
