"""The usual RNN mistakes, computed: what a student's outputs would be if they made one.

Each catalogue is a list of (message, thunk); thunk() returns the outputs the mistake
produces (a subset of the checked outputs), or None when it cannot be told apart at these
shapes. ``_recurrent.diagnose`` names the first one the student's outputs match. The equation
numbers are exercise 1's, (E1.1) to (E1.7).
"""

import numpy as np

from lstm_course.scratch import rnn as ref
from lstm_course.scratch.activations import sigmoid

# ----- one step -----


def step_forward_mistakes(x_t, h_prev, p):
    """Catalogue for rnn_step_forward: outputs {"h"}."""
    W_x, W_h, b = p["W_x"], p["W_h"], p["b"]
    a = x_t @ W_x + h_prev @ W_h + b  # (B, H)
    return [
        (
            "The bias b is missing: a = x_t W_x + h_prev W_h + b, eq. (E1.1)",
            lambda: {"h": np.tanh(a - b)},
        ),
        (
            "h looks like sigmoid(a), but the RNN's nonlinearity is tanh, eq. (E1.2)",
            lambda: {"h": sigmoid(a)},
        ),
        ("h is a itself: apply the nonlinearity, h = tanh(a), eq. (E1.2)", lambda: {"h": a}),
        ("h looks like relu(a); this exercise uses tanh, eq. (E1.2)", lambda: {"h": a * (a > 0)}),
        (
            "The recurrent term h_prev W_h is missing (without it the network has no memory), "
            "eq. (E1.1)",
            lambda: {"h": np.tanh(x_t @ W_x + b)},
        ),
        (
            "h_prev is multiplied by W_h transposed: with row vectors it is h_prev @ W_h, "
            "eq. (E1.1)",
            lambda: {"h": np.tanh(x_t @ W_x + h_prev @ W_h.T + b)},
        ),
    ]


def step_backward_mistakes(x_t, h_prev, p, dh):
    """Catalogue for rnn_step_backward: outputs {"dx", "dh_prev", "dW_x", "dW_h", "db"}."""
    W_x, W_h = p["W_x"], p["W_h"]
    a = x_t @ W_x + h_prev @ W_h + p["b"]
    h = np.tanh(a)
    da = dh * (1.0 - h * h)

    def everything(da):
        return {
            "db": da.sum(axis=0),
            "dW_x": x_t.T @ da,
            "dW_h": h_prev.T @ da,
            "dx": da @ W_x.T,
            "dh_prev": da @ W_h.T,
        }

    derivative = "every gradient is computed from da = dh * (1 - h^2), eq. (E1.3)"
    return [
        (f"tanh's derivative is missing: {derivative}", lambda: everything(dh)),
        (
            f"(1 - h) is not tanh's derivative, tanh'(a) = 1 - tanh(a)^2 = 1 - h^2: {derivative}",
            lambda: everything(dh * (1.0 - h)),
        ),
        (
            f"h (1 - h) is the sigmoid's derivative; tanh's is 1 - h^2: {derivative}",
            lambda: everything(dh * h * (1.0 - h)),
        ),
        (
            "tanh is applied twice: h = tanh(a) already, so tanh'(a) = 1 - h^2, not "
            f"1 - tanh(h)^2: {derivative}",
            lambda: everything(dh * (1.0 - np.tanh(h) ** 2)),
        ),
        (
            f"1 - a^2 is not tanh'(a); it is 1 - tanh(a)^2 = 1 - h^2: {derivative}",
            lambda: everything(dh * (1.0 - a * a)),
        ),
        (
            "db is the mean of da over the batch; it is the sum, eq. (E1.5)",
            lambda: {"db": da.mean(0)},
        ),
        (
            "dW_h uses the new state h, but W_h multiplies the previous one: dW_h = h_prev^T da, "
            "eq. (E1.5)",
            lambda: {"dW_h": h.T @ da},
        ),
        (
            "dh_prev skips tanh's derivative: dh_prev = da W_h^T with da = dh * (1 - h^2), "
            "eq. (E1.4)",
            lambda: {"dh_prev": dh @ W_h.T},
        ),
        ("dx skips tanh's derivative: dx = da W_x^T, eq. (E1.4)", lambda: {"dx": dh @ W_x.T}),
        (
            "dh_prev needs W_h transposed: dh_prev = da W_h^T, eq. (E1.4)",
            lambda: {"dh_prev": da @ W_h},
        ),
    ]


# ----- the sequence -----


def sequence_forward_mistakes(X, h0, p, H_ref):
    """Catalogue for rnn_forward: outputs {"H_all"}; H_ref is the right one."""
    T = len(X)

    def from_h0():
        return {"H_all": np.tanh(X @ p["W_x"] + h0 @ p["W_h"] + p["b"])}

    return [
        (
            "Every H_all[t] holds the last state: one array is stored at every step and then "
            "changed in place (h[:] = ..., h += ...); store a new array at each step",
            lambda: {"H_all": np.broadcast_to(H_ref[-1], H_ref.shape)} if T > 1 else None,
        ),
        (
            "Every step starts from h0: step t must read h_prev = H_all[t - 1], the state of "
            "the step before (h0 only for t = 0)",
            from_h0 if T > 1 else lambda: None,
        ),
        (
            "H_all[t] holds the state before step t; it must hold the state after it "
            "(H_all[0] is the first new state, not h0)",
            lambda: {"H_all": np.concatenate([h0[None], H_ref[:-1]])},
        ),
    ]


class Walks:
    """BPTT with the reference step functions, done right and with the usual mistakes."""

    def __init__(self, X, h0, p, dH_all, dh_T):
        self.X, self.h0, self.p, self.dH_all, self.dh_T = X, h0, p, dH_all, dh_T
        self.caches, h = [], h0
        for x_t in X:
            h, cache = ref.rnn_step_forward(x_t, h, p)
            self.caches.append(cache)

    def run(self, from_output=True, from_next=True, forwards=False, dh_T="given"):
        """{"dX", "dh0", "dW_x", "dW_h", "db"}, plus "steps": each step's own gradients."""
        T = len(self.X)
        dh_T = self.dh_T if dh_T == "given" else dh_T
        dh_next = np.zeros_like(self.h0) if dh_T is None else dh_T
        dX, steps, dA = np.zeros(self.X.shape), [None] * T, np.zeros(self.dH_all.shape)
        for t in range(T) if forwards else reversed(range(T)):
            dh = (self.dH_all[t] if from_output else 0.0) + (dh_next if from_next else 0.0)
            dh = dh + np.zeros_like(self.h0)  # an array even when both parts are left out
            dX[t], dh_next, steps[t] = ref.rnn_step_backward(dh, self.caches[t])
            dA[t] = dh * (1.0 - self.caches[t].h ** 2)
        total = {f"d{k}": sum(s[k] for s in steps) for k in self.p}
        return {"dX": dX, "dh0": dh_next, **total, "steps": steps, "dA": dA}

    def mistakes(self):
        """Catalogue for rnn_backward."""
        T = len(self.X)
        right = self.run()
        steps = right["steps"]
        found = [
            (
                "The gradient from step t+1 is not added: at each step dh = dH_all[t] + "
                "dh_next, where dh_next is the dh_prev returned by step t+1, eq. (E1.6)",
                lambda: _pick(self.run(from_next=False), "dX", "dh0") if T > 1 else None,
            ),
            (
                "The gradient from the output is not added: at each step dh = dH_all[t] + "
                "dh_next, eq. (E1.6); dH_all[t] is what the loss sends to h_t directly",
                lambda: _pick(self.run(from_output=False), "dX", "dh0"),
            ),
            (
                "The steps are visited forwards: BPTT walks t = T-1, ..., 0, because step t "
                "needs the gradient flowing back from step t+1 first",
                lambda: _pick(self.run(forwards=True), "dX", "dh0") if T > 1 else None,
            ),
        ]
        if self.dh_T is not None:
            found.append(
                (
                    "dh_T is ignored: the walk starts from dh_next = dh_T (zeros when dh_T is "
                    "None), the gradient on the final state from whatever comes later",
                    lambda: _pick(self.run(dh_T=None), "dX", "dh0"),
                )
            )
        H_all = np.stack([cache.h for cache in self.caches])  # (T, B, H)
        found.append(
            (
                "dW_h uses h_t, but step t multiplies the state it read: dW_h = sum over t of "
                "h_prev^T da_t, with h_prev = H_all[t - 1] (h0 at t = 0), eq. (E1.7)",
                lambda: {"dW_h": np.einsum("tbi,tbj->ij", H_all, right["dA"])},
            )
        )
        for k in self.p:
            key = f"d{k}"
            found += [
                (
                    f"{key} holds only the gradient of the last step t={T - 1}: the weights are "
                    "shared by all steps, so add up every step's gradient, eq. (E1.7)",
                    lambda k=k, key=key: {key: steps[-1][k]} if T > 1 else None,
                ),
                (
                    f"{key} holds only the gradient of step t=0, the last one the backward loop "
                    "visits: it was overwritten at each step instead of added up (+=), eq. (E1.7)",
                    lambda k=k, key=key: {key: steps[0][k]} if T > 1 else None,
                ),
                (
                    f"{key} is the mean of the steps' gradients; it is their sum, eq. (E1.7)",
                    lambda key=key: {key: right[key] / T} if T > 1 else None,
                ),
            ]
        return found


def _pick(result, *keys):
    return {k: result[k] for k in keys}
