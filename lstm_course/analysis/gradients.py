"""Gradient flow through time (lecture 3): Jacobian products, their bound, sensitivity maps.

The slides' recurrence, in the course's row-vector form (h_t is a row, W_h is (H, H)):

    h_t = phi(h_{t-1}) W_h + x_t W_x                                          (3.1)

Backpropagation multiplies one Jacobian per step (entry (j, k) is d h_{i,j} / d h_{i-1,k}):

    dh_t/dh_k = prod_{i=k+1}^t dh_i/dh_{i-1},  dh_i/dh_{i-1} = W_h^T diag(phi'(h_{i-1}))  (3.3)

Each factor has norm at most gamma_theta * gamma_phi (3.4), with gamma_theta = ||W_h||_2 (the
largest singular value) and gamma_phi = sup |phi'| (1 for tanh, ReLU and the identity, 1/4
for the sigmoid), so

    ||dh_t/dh_k|| <= (gamma_theta gamma_phi)^(t - k).                          (3.5)

``jacobian_products`` measures the left side exactly in NumPy (float64) for (3.1);
``state_jacobian_norms`` and ``input_sensitivity`` measure the same flow through any recurrent
module of ``lstm_course.modules`` (RNN, LSTM, GRU) with forward-mode autodiff: one forward pass
carries H tangent directions at once, so the whole Jacobian at every t costs one pass.
"""

import copy
from typing import NamedTuple

import numpy as np

GAMMA_PHI = {"tanh": 1.0, "relu": 1.0, "linear": 1.0, "sigmoid": 0.25}  # sup_a |phi'(a)|
NONLINEARITIES = tuple(GAMMA_PHI)


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in GAMMA_PHI:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


def phi(a, nonlinearity):
    """The nonlinearity of (3.1), elementwise: tanh, relu, linear (identity) or sigmoid."""
    _check_nonlinearity(nonlinearity)
    if nonlinearity == "tanh":
        return np.tanh(a)
    if nonlinearity == "relu":
        return np.maximum(a, 0.0)
    if nonlinearity == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + exp(-a)), without overflow
    return np.asarray(a, dtype=float)


def dphi(a, nonlinearity):
    """phi'(a) elementwise; its supremum over a is GAMMA_PHI[nonlinearity]."""
    _check_nonlinearity(nonlinearity)
    if nonlinearity == "tanh":
        return 1.0 - np.tanh(a) ** 2
    if nonlinearity == "relu":
        return (np.asarray(a) > 0).astype(float)
    if nonlinearity == "sigmoid":
        s = phi(a, "sigmoid")
        return s * (1.0 - s)
    return np.ones_like(a, dtype=float)


def gamma_theta(W_h):
    """gamma_theta = ||W_h||_2, the largest singular value of the recurrent matrix."""
    return float(np.linalg.norm(np.asarray(W_h, dtype=float), 2))


def spectral_radius(W_h):
    """rho(W_h) = max |eigenvalue|; always <= gamma_theta, equal for a symmetric W_h."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W_h, dtype=float)))))


def recurrent_matrix(H, gamma, kind="orthogonal", seed=0):
    """A random (H, H) recurrent matrix whose largest singular value is exactly ``gamma``.

    Args:
        H: hidden size. gamma: the wanted gamma_theta = ||W_h||_2 (> 0).
        kind: "orthogonal" (every singular value equals gamma: the product of steps neither
            rotates energy away nor concentrates it) or "gaussian" (i.i.d. N(0, 1) entries,
            then rescaled: singular values spread between 0 and gamma).
        seed: seeds NumPy's ``default_rng``.
    Returns:
        W_h: (H, H) float64.
    """
    if kind not in ("orthogonal", "gaussian"):
        raise ValueError(f"kind must be 'orthogonal' or 'gaussian', got {kind!r}")
    if not gamma > 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}")
    A = np.random.default_rng(seed).standard_normal((H, H))
    if kind == "orthogonal":
        Q, R = np.linalg.qr(A)
        A = Q * np.sign(np.diag(R))  # the sign fix makes Q uniformly distributed
    return gamma * A / gamma_theta(A)


def slides_rnn_forward(X, W_h, W_x, nonlinearity="tanh", h0=None):
    """Run eq. (3.1), h_t = phi(h_{t-1}) W_h + x_t W_x, over a sequence.

    This h_t is the pre-activation a_t of lecture 1's RNN, h_t = phi(a_t): substituting gives
    a_t = phi(a_{t-1}) W_h + x_t W_x + b, the same network written one half-step later.

    Args:
        X: (T, B, D) inputs. W_h: (H, H). W_x: (D, H). h0: (B, H), or None for zeros.
    Returns:
        H_all: (T + 1, B, H) float64, h_0 first, then h_1 .. h_T.
    """
    X = np.asarray(X, dtype=float)
    T, B, _ = X.shape
    H = W_h.shape[0]
    H_all = np.empty((T + 1, B, H))
    H_all[0] = 0.0 if h0 is None else h0
    for t in range(1, T + 1):
        H_all[t] = phi(H_all[t - 1], nonlinearity) @ W_h + X[t - 1] @ W_x
    return H_all


def step_jacobians(H_prev, W_h, nonlinearity="tanh"):
    """Eq. (3.3): dh_i/dh_{i-1} = W_h^T diag(phi'(h_{i-1})) for a batch of h_{i-1}.

    Args:
        H_prev: (..., H) the states h_{i-1}. W_h: (H, H).
    Returns:
        J: (..., H, H) with J[..., j, k] = d h_{i,j} / d h_{i-1,k}.
    """
    return W_h.T * dphi(H_prev, nonlinearity)[..., None, :]  # scales column k by phi'(h_{i-1,k})


class JacobianTrace(NamedTuple):
    """The measured ||dh_t/dh_0|| of eq. (3.1) and the bound (3.5), for t = 1..T."""

    norms: np.ndarray  # (T, B) ||dh_t/dh_0||_2 for each sequence, exact
    step_norms: np.ndarray  # (T, B) ||dh_t/dh_{t-1}||_2, each <= gamma_theta * gamma_phi
    bound: np.ndarray  # (T,) (gamma_theta * gamma_phi)^t
    gamma_theta: float
    gamma_phi: float


def jacobian_products(X, W_h, W_x, nonlinearity="tanh", h0=None):
    """Measure ||dh_t/dh_0||_2 = ||prod_{i=1}^t dh_i/dh_{i-1}||_2 exactly (eqs. 3.3, 3.5).

    The running product is renormalised each step and its log-norm accumulated, so it neither
    overflows nor underflows however long the sequence.

    Args:
        X: (T, B, D) inputs. W_h: (H, H). W_x: (D, H). nonlinearity: tanh, relu, linear,
            sigmoid. h0: (B, H) initial state, or None for zeros.
    Returns:
        JacobianTrace; norms[t - 1] belongs to step t.
    """
    _check_nonlinearity(nonlinearity)
    W_h = np.asarray(W_h, dtype=float)
    H_all = slides_rnn_forward(X, W_h, np.asarray(W_x, dtype=float), nonlinearity, h0)
    T, B, H = H_all.shape[0] - 1, H_all.shape[1], H_all.shape[2]
    P = np.broadcast_to(np.eye(H), (B, H, H))  # dh_0/dh_0
    log_scale = np.zeros(B)
    norms, step_norms = np.empty((T, B)), np.empty((T, B))
    for t in range(1, T + 1):
        J = step_jacobians(H_all[t - 1], W_h, nonlinearity)  # (B, H, H)
        step_norms[t - 1] = np.linalg.norm(J, ord=2, axis=(-2, -1))
        P = J @ P  # dh_t/dh_0 = J_t dh_{t-1}/dh_0
        size = np.linalg.norm(P, ord=2, axis=(-2, -1))
        with np.errstate(divide="ignore"):
            log_scale = log_scale + np.log(size)
        norms[t - 1] = np.exp(log_scale)
        P = P / np.where(size > 0, size, 1.0)[:, None, None]
    g_theta, g_phi = gamma_theta(W_h), GAMMA_PHI[nonlinearity]
    bound = (g_theta * g_phi) ** np.arange(1, T + 1)
    return JacobianTrace(norms, step_norms, bound, g_theta, g_phi)


# ----- the same measurements on torch modules (lstm_course.modules.RNN / LSTM / GRU) -----


def _forward_ad_ready(rnn):
    """The module itself, or a copy on its step-by-step path if it runs a fused Function.

    A fused custom autograd.Function defines a backward but no forward-mode rule; the
    reference loop computes the same equations with ordinary differentiable torch ops.
    """
    if getattr(rnn, "fused", False):
        rnn = copy.deepcopy(rnn)
        rnn.fused = False
    return rnn


def _zero_state(rnn, B, like):
    """The zero initial state (L * num_directions, B, H): a tensor, or (h_0, c_0)."""
    import torch

    shape = (rnn.num_layers * (2 if rnn.bidirectional else 1), B, rnn.hidden_size)
    h0 = torch.zeros(shape, dtype=like.dtype, device=like.device)
    return h0, (h0.clone() if getattr(rnn, "gates", 1) == 4 else None)


def state_jacobian_norms(rnn, X):
    """||dh_t/dh_0||_2 for t = 1..T through a torch recurrent module, at zero initial state.

    The sequences are repeated H times along the batch and h_0 gets the tangent I (row k
    moves h_{0,k}), so one forward-mode pass returns the full (H, H) Jacobian at every t.
    For the LSTM, h_0 moves and c_0 stays at zero; the path through c is still included.

    Args:
        rnn: an lstm_course.modules RNN, LSTM or GRU, one layer, one direction.
        X: (T, B, D) tensor of inputs.
    Returns:
        norms: (T, B) float64 NumPy array, the spectral norm of dh_t/dh_0 for each sequence.
    """
    import torch
    from torch.autograd import forward_ad

    if rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError("state_jacobian_norms takes a one-layer, one-direction module")
    rnn = _forward_ad_ready(rnn)
    T, B, D = X.shape
    H = rnn.hidden_size
    X_rep = X.repeat_interleave(H, dim=1)  # (T, B*H, D): H copies of each sequence
    h0, c0 = _zero_state(rnn, B * H, X)
    tangent = torch.eye(H, dtype=X.dtype, device=X.device).repeat(B, 1)[None]  # (1, B*H, H)
    with torch.no_grad(), forward_ad.dual_level():
        h0 = forward_ad.make_dual(h0, tangent)
        H_all, _ = rnn(X_rep, h0 if c0 is None else (h0, c0))
        dH = forward_ad.unpack_dual(
            H_all
        ).tangent  # (T, B*H, H): [t, b*H + k, j] = dh_{t,j}/dh_{0,k}
    J = dH.reshape(T, B, H, H).double().cpu().numpy()
    return np.linalg.norm(J, ord=2, axis=(-2, -1))


def input_sensitivity(rnn, X, step=0):
    """Graves's sensitivity map: how much each unit of h_t depends on the input at ``step``.

        S[t, b, j] = || d h_{t,j} / d x_step ||_2   (norm over the D input features)

    Zero before ``step`` (causality). One forward-mode pass with D tangent directions.

    Args:
        rnn: an lstm_course.modules RNN, LSTM or GRU (its last layer's h_t is measured).
        X: (T, B, D) tensor. step: the input index, 0-based (0 is the slides' x_1).
    Returns:
        S: (T, B, H) float64 NumPy array.
    """
    import torch
    from torch.autograd import forward_ad

    rnn = _forward_ad_ready(rnn)
    T, B, D = X.shape
    if not 0 <= step < T:
        raise ValueError(f"step must be in [0, {T}), got {step}")
    X_rep = X.repeat_interleave(D, dim=1)  # (T, B*D, D)
    tangent = torch.zeros_like(X_rep)
    tangent[step] = torch.eye(D, dtype=X.dtype, device=X.device).repeat(B, 1)  # copy d moves x_d
    with torch.no_grad(), forward_ad.dual_level():
        H_all, _ = rnn(forward_ad.make_dual(X_rep, tangent))
        dH = forward_ad.unpack_dual(H_all).tangent  # (T, B*D, H')
    dH = dH.reshape(T, B, D, -1).double().cpu().numpy()
    return np.sqrt((dH**2).sum(axis=2))


def readout_sensitivity(model, X, step=0):
    """d y_hat / d x_step for a many-to-one model (``SequenceModel(readout="last")``).

    Each answer y_hat_b depends on its own sequence only, so one backward pass of
    sum_b y_hat_{b,o} gives every sequence's gradient at once (one pass per output o).

    Args:
        model: maps X (T, B, D) to (y_hat (B, O), state). X: (T, B, D). step: 0-based index.
    Returns:
        (B, O, D) float64 NumPy array; [b, o, d] = d y_hat_{b,o} / d x_{step, b, d}.
    """
    import torch

    X = X.detach().clone().requires_grad_(True)
    y_hat, _ = model(X)  # (B, O)
    rows = []
    for o in range(y_hat.shape[1]):
        (dX,) = torch.autograd.grad(y_hat[:, o].sum(), X, retain_graph=True)
        rows.append(dX[step])  # (B, D)
    return torch.stack(rows, dim=1).double().cpu().numpy()
