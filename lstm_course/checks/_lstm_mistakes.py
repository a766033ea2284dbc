"""The usual LSTM mistakes, computed: what a student's outputs would be if they made one.

Each catalogue is a list of (message, thunk); thunk() returns the outputs the mistake
produces ({"h": ..., "c": ...} or a subset of the backward outputs), or None when it cannot be
told apart at these shapes. ``_recurrent.diagnose`` names the first one the student's outputs
match. The equation numbers are exercise 2's, (E2.1) to (E2.12).
"""

import numpy as np

from lstm_course.scratch import lstm as ref
from lstm_course.scratch.activations import sigmoid

# ----- one step forward -----


def step_forward_mistakes(x_t, h_prev, c_prev, p):
    """Catalogue for lstm_step_forward: outputs {"h", "c"}."""
    b = p["b"]
    a = x_t @ p["W_x"] + h_prev @ p["W_h"] + b  # (B, 4H), eq. (E2.1)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g

    def out(i, f, g, o, c=None, h=None):
        c = f * c_prev + i * g if c is None else c
        return {"c": c, "h": o * np.tanh(c) if h is None else h}

    def from_a(a):
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        return out(sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o))

    return [
        (
            "lstm_step_forward returns (c, h, cache); the order is (h, c, cache)",
            lambda: {"c": o * np.tanh(c), "h": c},
        ),
        (
            "The gate blocks are read in the order i, f, o, g (CS231n's); this course stacks "
            "them i, f, g, o as torch.nn does: columns 2H:3H are the candidate g, 3H:4H the "
            "output gate o, eq. (E2.1)",
            lambda: out(i, f, np.tanh(a_o), sigmoid(a_g)),
        ),
        (
            "The input gate i and the forget gate f are swapped: i is the first block of H "
            "columns (0:H), f the second (H:2H); then c = f * c_prev + i * g, eq. (E2.4)",
            lambda: out(f, i, g, o),
        ),
        (
            "The candidate g uses sigmoid; it uses tanh, eq. (E2.3), so that it can write "
            "negative values into the cell",
            lambda: out(i, f, sigmoid(a_g), o),
        ),
        (
            "The output gate o uses tanh; the gates i, f, o use sigmoid, eq. (E2.2)",
            lambda: out(i, f, g, np.tanh(a_o)),
        ),
        (
            "h = o * c: apply tanh to the cell, h = o * tanh(c), eq. (E2.5)",
            lambda: out(i, f, g, o, h=o * c),
        ),
        (
            "h = tanh(c) without the output gate: h = o * tanh(c), eq. (E2.5)",
            lambda: out(i, f, g, o, h=np.tanh(c)),
        ),
        (
            "h uses the previous cell: h = o * tanh(c) with the new c, eq. (E2.5)",
            lambda: out(i, f, g, o, h=o * np.tanh(c_prev)),
        ),
        (
            "The input gate is missing from the cell update: c = f * c_prev + i * g, eq. (E2.4)",
            lambda: out(i, f, g, o, c=f * c_prev + g),
        ),
        (
            "The forget gate is missing from the cell update: c = f * c_prev + i * g, eq. (E2.4)",
            lambda: out(i, f, g, o, c=c_prev + i * g),
        ),
        ("The bias b is missing: a = x_t W_x + h_prev W_h + b, eq. (E2.1)", lambda: from_a(a - b)),
        (
            "The recurrent term h_prev W_h is missing: a = x_t W_x + h_prev W_h + b, eq. (E2.1)",
            lambda: from_a(x_t @ p["W_x"] + b),
        ),
    ]


GATE_EQUATIONS = {
    "i": "i = sigmoid(a_i), a_i the columns 0:H of a, eqs. (E2.1)-(E2.2)",
    "f": "f = sigmoid(a_f), a_f the columns H:2H of a, eqs. (E2.1)-(E2.2)",
    "g": "g = tanh(a_g), a_g the columns 2H:3H of a, eqs. (E2.1), (E2.3)",
    "o": "o = sigmoid(a_o), a_o the columns 3H:4H of a, eqs. (E2.1)-(E2.2)",
}


def cache_gates(cache, shape):
    """{"i": ..., "f": ..., "g": ..., "o": ...} from a student's cache that holds them, else None.

    Read as attributes (a NamedTuple such as the notebook's LSTMStepCache) or dict keys.
    """
    found = {}
    for name in "ifgo":
        value = cache.get(name) if isinstance(cache, dict) else getattr(cache, name, None)
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if value.shape != tuple(shape):
            return None
        found[name] = value
    return found


# ----- one step backward -----


def step_backward(x_t, h_prev, c_prev, p, dh, dc, mistake=None):
    """Backward of one LSTM step, eqs. (E2.6)-(E2.10), optionally with one mistake.

    Returns:
        {"dx", "dh_prev", "dc_prev", "dW_x", "dW_h", "db"}.
    """
    _, _, cache = ref.lstm_step_forward(x_t, h_prev, c_prev, p)
    _, _, _, i, f, g, o, c, tanh_c, _ = cache
    do = dh * (c if mistake == "do_without_tanh" else tanh_c)  # (E2.6)
    dtanh = 1.0 - c * c if mistake == "one_minus_c_squared" else 1.0 - tanh_c * tanh_c
    from_h = 0.0 if mistake == "no_path_through_h" else dh * o * dtanh
    dc_total = (0.0 if mistake == "no_incoming_dc" else dc) + from_h  # (E2.7)
    df = dc_total * (c if mistake == "df_uses_c" else c_prev)  # (E2.8)
    di, dg = dc_total * g, dc_total * i
    dc_prev = {"dc_prev_without_f": dc_total, "dc_prev_from_incoming_dc": dc * f}.get(
        mistake, dc_total * f
    )
    dg_factor = g * (1.0 - g) if mistake == "g_sigmoid_derivative" else 1.0 - g * g
    blocks = [di * i * (1.0 - i), df * f * (1.0 - f), dg * dg_factor, do * o * (1.0 - o)]
    if mistake == "i_f_swapped":
        blocks = [blocks[1], blocks[0], blocks[2], blocks[3]]
    elif mistake == "order_ifog":
        blocks = [blocks[0], blocks[1], blocks[3], blocks[2]]
    da = np.concatenate(blocks, axis=1)  # (B, 4H), (E2.9)
    return {
        "dx": da @ p["W_x"].T,
        "dh_prev": da @ p["W_h"].T,
        "dc_prev": dc_prev,
        "dW_x": x_t.T @ da,
        "dW_h": h_prev.T @ da,
        "db": da.sum(axis=0),
    }


STEP_BACKWARD_MESSAGES = {
    "no_path_through_h": (
        "dc misses the path through h: h = o * tanh(c) depends on c too, so the total cell "
        "gradient is dc_total = dc + dh * o * (1 - tanh(c)^2), eq. (E2.7)"
    ),
    "no_incoming_dc": (
        "The incoming dc (the gradient from step t+1) is not used: dc_total = dc + dh * o * "
        "(1 - tanh(c)^2), eq. (E2.7)"
    ),
    "one_minus_c_squared": (
        "The derivative of tanh at c is 1 - tanh(c)^2, not 1 - c^2, eq. (E2.7)"
    ),
    "do_without_tanh": "do = dh * tanh(c), since h = o * tanh(c), eq. (E2.6)",
    "dc_prev_without_f": (
        "dc_prev is missing the forget gate: c = f * c_prev + i * g, so dc_prev = dc_total * f, "
        "eq. (E2.8)"
    ),
    "dc_prev_from_incoming_dc": (
        "dc_prev must use the total cell gradient, including the path through h: dc_prev = "
        "dc_total * f, eqs. (E2.7)-(E2.8)"
    ),
    "df_uses_c": "df = dc_total * c_prev: f multiplies the previous cell, eq. (E2.8)",
    "g_sigmoid_derivative": (
        "The candidate g is a tanh, so da_g = dg * (1 - g^2); g * (1 - g) is the sigmoid's "
        "derivative, eq. (E2.9)"
    ),
    "i_f_swapped": (
        "The gradient blocks of i and f are swapped: da = [da_i | da_f | da_g | da_o], in the "
        "order of the weights' columns, eq. (E2.9)"
    ),
    "order_ifog": (
        "The gradient blocks are stacked i, f, o, g; stack them i, f, g, o like the columns of "
        "W_x, W_h and b, eq. (E2.9)"
    ),
}


def step_backward_mistakes(x_t, h_prev, c_prev, p, dh, dc):
    """Catalogue for lstm_step_backward: outputs {"dx", "dh_prev", "dc_prev", "dW_x", ...}."""
    return [
        (message, lambda m=mistake: step_backward(x_t, h_prev, c_prev, p, dh, dc, m))
        for mistake, message in STEP_BACKWARD_MESSAGES.items()
    ]


GATE_GRADIENT_HINTS = {
    "input gate i": "da_i = dc_total * g * i (1 - i), eqs. (E2.8)-(E2.9)",
    "forget gate f": "da_f = dc_total * c_prev * f (1 - f), eqs. (E2.8)-(E2.9)",
    "candidate g": "da_g = dc_total * i * (1 - g^2), eqs. (E2.8)-(E2.9)",
    "output gate o": "da_o = dh * tanh(c) * o (1 - o), eqs. (E2.6), (E2.9)",
}


def gate_hint(wrong):
    """What to look at when the gradient blocks named in wrong (GATES names) are wrong."""
    if len(wrong) == 1:
        return GATE_GRADIENT_HINTS[wrong[0]]
    listed = ", ".join(wrong)
    if wrong == ["input gate i", "forget gate f", "candidate g"]:
        return (
            f"the blocks of {listed} are wrong and only o is right: these three share "
            "dc_total = dc + dh * o * (1 - tanh(c)^2), eq. (E2.7)"
        )
    return f"the blocks of {listed} are wrong: check da = [da_i | da_f | da_g | da_o], eq. (E2.9)"


# ----- backpropagation through time -----


class Walks:
    """BPTT with the reference step functions, done right and with the usual mistakes.

    Args:
        X: (T, B, D). h0, c0: (B, H). p: the parameters. dH_all: (T, B, H).
        dstate_T: (dh_T, dc_T) or None.
    """

    def __init__(self, X, h0, c0, p, dH_all, dstate_T):
        self.X, self.p, self.dH_all, self.dstate_T = X, p, dH_all, dstate_T
        self.zeros = np.zeros_like(h0)
        self.caches, h, c = [], h0, c0
        for x_t in X:
            h, c, cache = ref.lstm_step_forward(x_t, h, c, p)
            self.caches.append(cache)

    def run(
        self,
        dh_from_output=True,
        dh_from_next=True,
        dc_from_next=True,
        forwards=False,
        start="given",
    ):
        """{"dX", "dh0", "dc0", "dW_x", "dW_h", "db"}, plus "steps": each step's gradients.

        start: "given" (dstate_T as passed), "zeros" (dstate_T ignored) or "no_dc_T".
        """
        T = len(self.X)
        dh_next, dc_next = self.zeros, self.zeros
        if self.dstate_T is not None and start != "zeros":
            dh_next = self.dstate_T[0]
            dc_next = self.zeros if start == "no_dc_T" else self.dstate_T[1]
        dX, steps = np.zeros(self.X.shape), [None] * T
        for t in range(T) if forwards else reversed(range(T)):
            dh = (self.dH_all[t] if dh_from_output else 0.0) + (dh_next if dh_from_next else 0.0)
            dc = dc_next if dc_from_next else self.zeros
            dh = dh + self.zeros  # an array even when both parts are left out
            dX[t], dh_next, dc_next, steps[t] = ref.lstm_step_backward(dh, dc, self.caches[t])
        total = {f"d{k}": sum(s[k] for s in steps) for k in self.p}
        return {"dX": dX, "dh0": dh_next, "dc0": dc_next, **total, "steps": steps}

    def mistakes(self):
        """Catalogue for lstm_backward."""
        T = len(self.X)
        right = self.run()
        steps = right["steps"]
        many = T > 1

        def walk(**options):
            return lambda: _pick(self.run(**options), "dX", "dh0", "dc0") if many else None

        found = [
            (
                "The hidden-state gradient from step t+1 is not added: at each step dh = "
                "dH_all[t] + dh_next, where dh_next is the dh_prev returned by step t+1, "
                "eq. (E2.11)",
                walk(dh_from_next=False),
            ),
            (
                "The cell gradient does not flow back: step t must get dc = the dc_prev "
                "returned by step t+1 (zeros at the last step), eq. (E2.11); this is the "
                "path that carries gradients far back",
                walk(dc_from_next=False),
            ),
            (
                "The gradient from the output is not added: at each step dh = dH_all[t] + "
                "dh_next, eq. (E2.11)",
                lambda: _pick(self.run(dh_from_output=False), "dX", "dh0", "dc0"),
            ),
            (
                "The steps are visited forwards: BPTT walks t = T-1, ..., 0, because step t "
                "needs the gradients flowing back from step t+1 first",
                walk(forwards=True),
            ),
        ]
        if self.dstate_T is not None:
            found += [
                (
                    "dstate_T is ignored: the walk starts from (dh_next, dc_next) = dstate_T "
                    "(zeros when dstate_T is None)",
                    lambda: _pick(self.run(start="zeros"), "dX", "dh0", "dc0"),
                ),
                (
                    "dc_T is ignored: the walk starts from dc_next = dc_T, the second item "
                    "of dstate_T",
                    lambda: _pick(self.run(start="no_dc_T"), "dX", "dh0", "dc0"),
                ),
            ]
        for k in self.p:
            key = f"d{k}"
            found += [
                (
                    f"{key} holds only the gradient of the last step t={T - 1}: the weights are "
                    "shared by all steps, so add up every step's gradient, eq. (E2.12)",
                    lambda k=k, key=key: {key: steps[-1][k]} if many else None,
                ),
                (
                    f"{key} holds only the gradient of step t=0, the last one the backward loop "
                    "visits: it was overwritten at each step instead of added up (+=), "
                    "eq. (E2.12)",
                    lambda k=k, key=key: {key: steps[0][k]} if many else None,
                ),
                (
                    f"{key} is the mean of the steps' gradients; it is their sum, eq. (E2.12)",
                    lambda key=key: {key: right[key] / T} if many else None,
                ),
            ]
        return found


def _pick(result, *keys):
    return {k: result[k] for k in keys}
