"""The LSTM slides' worked example: two steps from C_0 = H_0 = 0.5, by hand and by our code.

The slides write the example symbolically; we fix the weights below (one input, one hidden
unit, two output classes) and state every intermediate value. The slides' step-2 cell update
reads C_2 = f_2 * C_1 + i_2 * C~_1; the recurrence defines C_2 = f_2 * C_1 + i_2 * C~_2, which
is what we compute (the lecture points out the typo).
"""

import math

import numpy as np
import pytest

from lstm_course.scratch.activations import softmax
from lstm_course.scratch.lstm import lstm_step_forward

# The slides' names: W^{xi} is input -> input gate, W^{hi} hidden -> input gate, W^i_0 its bias.
WEIGHTS = {
    "i": {"x": 0.5, "h": -0.3, "0": 0.1},
    "f": {"x": -0.2, "h": 0.6, "0": 1.0},
    "c": {"x": 0.9, "h": 0.4, "0": -0.1},  # the candidate C~ (our g)
    "o": {"x": 0.3, "h": -0.5, "0": 0.2},
}
W_Y, W_Y0 = np.array([[1.5, -1.0]]), np.array([0.0, 0.2])
X = [1.0, -2.0]
C0 = H0 = 0.5

# Every intermediate value, to 10 decimals (printed by the pure-Python version below).
EXPECTED = [
    {
        "f": 0.7502601056,
        "i": 0.6106392339,
        "o": 0.5621765009,
        "C~": 0.7615941560,
        "C": 0.8401893248,
        "H": 0.3856021060,
        "y": [0.6822226878, 0.3177773122],
    },
    {
        "f": 0.8363560329,
        "i": 0.2658696146,
        "o": 0.3559924211,
        "C~": -0.9408909476,
        "C": 0.4525430970,
        "H": 0.1509362260,
        "y": [0.5442193117, 0.4557806883],
    },
]


def by_hand():
    """The slides' equations, one scalar at a time, with nothing from the package."""

    def sigma(a):
        return 1.0 / (1.0 + math.exp(-a))

    def pre(gate, h, x):
        return WEIGHTS[gate]["h"] * h + WEIGHTS[gate]["x"] * x + WEIGHTS[gate]["0"]

    C, H, steps = C0, H0, []
    for x in X:
        f, i, o = sigma(pre("f", H, x)), sigma(pre("i", H, x)), sigma(pre("o", H, x))
        C_tilde = math.tanh(pre("c", H, x))
        C = f * C + i * C_tilde
        H = o * math.tanh(C)
        scores = [W_Y[0, k] * H + W_Y0[k] for k in range(2)]
        z = [math.exp(s - max(scores)) for s in scores]
        steps.append(
            {"f": f, "i": i, "o": o, "C~": C_tilde, "C": C, "H": H, "y": [v / sum(z) for v in z]}
        )
    return steps


def test_hand_computation_matches_the_stated_values():
    for got, want in zip(by_hand(), EXPECTED, strict=True):
        for key, value in want.items():
            assert got[key] == pytest.approx(value, abs=1e-10), key


def test_lstm_step_forward_reproduces_the_example():
    order = "ifco"  # our gate order i, f, g (= C~), o
    p = {
        "W_x": np.array([[WEIGHTS[g]["x"] for g in order]]),  # (D, 4H) = (1, 4)
        "W_h": np.array([[WEIGHTS[g]["h"] for g in order]]),  # (H, 4H) = (1, 4)
        "b": np.array([WEIGHTS[g]["0"] for g in order]),  # (4H,) = (4,)
    }
    h, c = np.full((1, 1), H0), np.full((1, 1), C0)
    for x, want in zip(X, EXPECTED, strict=True):
        h, c, cache = lstm_step_forward(np.array([[x]]), h, c, p)
        y = softmax(h @ W_Y + W_Y0)
        got = {"f": cache.f, "i": cache.i, "o": cache.o, "C~": cache.g, "C": c, "H": h, "y": y}
        for key, value in want.items():
            np.testing.assert_allclose(
                np.ravel(got[key]), np.ravel(value), rtol=0, atol=1e-10, err_msg=key
            )
