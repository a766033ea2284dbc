"""The truncated-BPTT check of exercise 4 (``clipping.check_truncated_bptt`` re-exports it).

The student's truncated_bptt(forward, backward, X, state0, p, k, loss_grad) runs on a seeded
problem through one of the course's NumPy layers. The forward and loss_grad it is given record
how they were called, so the feedback can say which window started from the wrong state, which
window is missing, or that the gradient was not stopped at the window boundaries.
"""

import numpy as np

from lstm_course.checks._common import CheckError, as_array, call, compare, passed, rng, unpack
from lstm_course.checks._inplace import check_unchanged, snapshot
from lstm_course.scratch import gru, lstm, rnn, tbptt

CELLS = {
    "rnn": (rnn.rnn_forward, rnn.rnn_backward, rnn.rnn_param_shapes),
    "gru": (gru.gru_forward, gru.gru_backward, gru.gru_param_shapes),
    "lstm": (lstm.lstm_forward, lstm.lstm_backward, lstm.lstm_param_shapes),
}


class _Recorder:
    """The forward and loss_grad handed to the student, recording how they were called."""

    def __init__(self, forward, R):
        self._forward = forward
        self._R = R  # (T, B, H): the loss is sum_t <R_t, h_t>, so dL/dh_t = R_t
        self.states_in = []  # the state each forward call started from
        self.windows = []  # (start, steps) of each loss_grad call

    def forward(self, X_chunk, state, p):
        self.states_in.append(snapshot(state))
        return self._forward(X_chunk, state, p)

    def loss_grad(self, H_chunk, start):
        steps = int(np.shape(H_chunk)[0])
        self.windows.append((int(start), steps))
        R_chunk = self._R[start : start + steps]
        if np.shape(H_chunk) != R_chunk.shape:
            raise CheckError(
                f"loss_grad(H_chunk, start) was called with H_chunk of shape "
                f"{np.shape(H_chunk)} at start = {start}; expected the window's hidden states, "
                f"H_all[start:start + k], of shape {R_chunk.shape}"
            )
        return float(np.sum(H_chunk * R_chunk)), R_chunk.copy()


def _window_text(start, steps):
    return f"t = {start}..{start + steps - 1}" if steps > 1 else f"t = {start}"


def _tbptt_problem(cell, T, B, D, H, seed):
    forward, backward, shapes = CELLS[cell]
    gen = rng(seed)
    X = gen.normal(size=(T, B, D))
    # Weights large enough that the gradient through a window boundary is far from zero:
    # then full BPTT and truncated BPTT differ, and the check can tell them apart.
    p = {key: gen.normal(scale=0.8, size=shape) for key, (shape, _) in shapes(D, H).items()}
    h0 = np.tanh(gen.normal(size=(B, H)))
    state0 = (h0, gen.normal(size=(B, H))) if cell == "lstm" else h0
    R = gen.normal(size=(T, B, H))
    return forward, backward, X, p, state0, R


def _compare_state(name, actual, expected, hint=""):
    """A state is h (B, H) or, for the LSTM, the tuple (h, c)."""
    if isinstance(expected, tuple):
        if not isinstance(actual, (tuple, list)) or len(actual) != 2:
            raise CheckError(f"{name} must be the LSTM state (h, c), got {type(actual).__name__}")
        compare(f"h of {name}", actual[0], expected[0], axes=("b", "j"), hint=hint)
        compare(f"c of {name}", actual[1], expected[1], axes=("b", "j"), hint=hint)
    else:
        compare(name, actual, expected, axes=("b", "j"), hint=hint)


def _is_zero_state(state):
    if state is None:
        return True
    parts = state if isinstance(state, (tuple, list)) else (state,)
    return all(np.all(np.asarray(s) == 0) for s in parts)


def _check_windows(recorder, T, k, expected_windows):
    """loss_grad must be called once per window, (start, steps) = (0, k), (k, k), ..."""
    got = recorder.windows
    if got == expected_windows:
        return
    text = ", ".join(f"({s}, {n})" for s, n in got) or "never"
    message = (
        f"loss_grad was called with (start, steps) = {text}; expected one call per window of "
        f"k = {k} steps: {', '.join(f'({s}, {n})' for s, n in expected_windows)}"
    )
    last_start, last_steps = expected_windows[-1]
    if got == expected_windows[:-1] and last_steps < k:
        message += (
            f". The last window ({_window_text(last_start, last_steps)}) is missing: T = {T} is "
            f"not a multiple of k = {k}, so the last window is shorter, {last_steps} step"
            + ("s" if last_steps > 1 else "")
        )
    elif len(got) == 1 and got[0] == (0, T) and T > k:
        message += ". You ran the whole sequence as one window: cut X into windows of k steps"
    raise CheckError(message)


def _check_states_carried(recorder, state0, expected_states, expected_windows):
    """Window j must start from the state window j - 1 ended in (window 0 from state0)."""
    # strict=False: a student who never calls forward has already failed _check_windows
    calls = zip(expected_windows, recorder.states_in, strict=False)
    for j, ((start, steps), state) in enumerate(calls):
        where = f"window {j + 1} ({_window_text(start, steps)})"
        if j == 0:
            _compare_state(
                f"the state passed to forward for {where}",
                state,
                state0,
                hint="The first window starts from state0",
            )
            continue
        if _is_zero_state(state):
            raise CheckError(
                f"{where} started from {'None' if state is None else 'zeros'}, not from the "
                f"state window {j} ended in: carry the state across windows; only the gradient "
                "is cut at the boundary, the forward pass is exact"
            )
        _compare_state(
            f"the state passed to forward for {where}",
            state,
            expected_states[j - 1],
            hint=f"It must be the state window {j} ended in, the state that "
            "forward returned for that window",
        )


def _check_loss(loss, expected):
    try:
        value = float(np.asarray(loss, dtype=np.float64))
    except (TypeError, ValueError):
        raise CheckError(f"loss must be a number, got {type(loss).__name__}") from None
    if not np.isclose(value, expected, atol=1e-6, rtol=1e-5):
        raise CheckError(
            f"loss is wrong: expected {expected:.6g}, got {value:.6g}. It is the sum of the "
            "windows' losses, each returned by loss_grad"
        )


def _full_bptt(forward, backward, X, state0, p, R):
    """dX and grads of untruncated BPTT, to recognise a gradient that was not stopped."""
    _, _, cache = forward(X, state0, p)
    dX, _, grads = backward(R, cache)
    return dX, grads


def _allclose(a, b):
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and np.allclose(a, b, atol=1e-8, rtol=1e-6)


def check_truncated_bptt(truncated_bptt, *, cell="rnn", T=10, B=2, D=3, H=4, k=3, seed=0):
    """Check truncated_bptt(forward, backward, X, state0, p, k, loss_grad) on one problem.

    The problem: a seeded random sequence through the course's NumPy ``cell`` ("rnn", "gru"
    or "lstm") with the loss sum_t <R_t, h_t>. The weights are large enough that full and
    truncated BPTT differ, and T need not be a multiple of k (a short last window).

    Args:
        truncated_bptt: the student's function, returning (loss, grads, dX, H_all, state_T).
        cell: which recurrent layer forward/backward to pass in.
        T, B, D, H: sequence length, batch, input and hidden size. k: window length.
        seed: for the random inputs.
    """
    name = "truncated_bptt"
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    forward, backward, X, p, state0, R = _tbptt_problem(cell, T, B, D, H, seed)
    expected = tbptt.truncated_bptt(
        forward, backward, X, state0, p, k, _Recorder(forward, R).loss_grad
    )
    windows = [(s, min(k, T - s)) for s in range(0, T, k)]
    # The state each window ends in: the forward pass is exact, so these are H_all's rows.
    ends = [s + n - 1 for s, n in windows]
    if cell == "lstm":
        _, _, cache = forward(X, state0, p)
        window_states = [(expected.H_all[t], cache.C_all[t]) for t in ends]
    else:
        window_states = [expected.H_all[t] for t in ends]

    recorder = _Recorder(forward, R)
    inputs = {"X": X, "p": p, "state0": state0}
    before = snapshot(inputs)
    result = call(
        truncated_bptt, name, recorder.forward, backward, X, state0, p, k, recorder.loss_grad
    )
    loss, grads, dX, H_all, state_T = unpack(
        result, name, 5, "TBPTTResult(loss, grads, dX, H_all, state_T)"
    )
    _check_windows(recorder, T, k, windows)
    _check_states_carried(recorder, state0, window_states, windows)
    _check_loss(loss, expected.loss)

    H_arr = as_array("H_all", H_all, expected.H_all, ("T", "B", "H"))
    for t in range(T):
        j = t // k
        compare(
            f"H_all[{t}] (in window {j + 1}, {_window_text(*windows[j])})",
            H_arr[t],
            expected.H_all[t],
            axes=("b", "j"),
            hint="H_all is every window's hidden states, in order",
        )
    _compare_state(
        "state_T", state_T, expected.state_T, hint="state_T is the state the last window ended in"
    )

    full_dX, full_grads = _full_bptt(forward, backward, X, state0, p, R)
    not_stopped = len(windows) > 1 and _allclose(dX, full_dX)
    stop_hint = (
        "Your dX equals full BPTT's: the gradient must stop at the window boundaries. Drop "
        "the gradient that backward returns for a window's initial state (in PyTorch: "
        "state.detach())"
    )
    dX_arr = as_array("dX", dX, expected.dX, ("T", "B", "D"))
    for t in reversed(range(T)):  # backward order: the last window is checked first
        j = t // k
        hint = stop_hint if not_stopped else "dX of a window comes from that window's backward"
        if j < len(windows) - 1 and not not_stopped:
            hint += f"; the windows after window {j + 1} are right"
        compare(
            f"dX[{t}] (in window {j + 1}, {_window_text(*windows[j])})",
            dX_arr[t],
            expected.dX[t],
            axes=("b", "d"),
            hint=hint,
        )
    if not isinstance(grads, dict) or set(grads) != set(expected.grads):
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise CheckError(f"grads must be a dict with the keys {sorted(expected.grads)}, got {got}")
    full_grads_match = len(windows) > 1 and all(
        _allclose(grads[key], full_grads[key]) for key in full_grads
    )
    for key in expected.grads:
        hint = (
            stop_hint.replace("dX", "grads")
            if full_grads_match
            else "The parameters are shared by all windows: add up the windows' gradients"
        )
        compare(f"grads[{key!r}]", grads[key], expected.grads[key], hint=hint)
    check_unchanged(name, inputs, before)
    passed(
        f"truncated_bptt matches the reference with the {cell} at T={T}, k={k}, "
        f"B={B}, D={D}, H={H} (seed {seed})"
    )
