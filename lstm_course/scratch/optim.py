"""Gradient clipping and first-order optimizers for parameter dicts, matching torch.optim exactly.

Parameters are a dict p = {name: array} (the keys of rnn.py and friends) and gradients a dict
with the same keys and shapes. ``opt.step(p, grads)`` updates p's arrays in place, as
torch.optim updates its tensors; grads are never modified. Each optimizer keeps its state
(velocity, moments, accumulated squares) per key.

With g the gradient and lr the learning rate:

    SGD        p <- p - lr g
    Momentum   v <- mu v + g;                         p <- p - lr v
    Adagrad    G <- G + g^2;                          p <- p - lr g / (sqrt(G) + eps)
    Adam       m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
               p <- p - lr m_hat / (sqrt(v_hat) + eps)
               with m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)
"""

import numpy as np

from lstm_course.scratch._checks import check_float_array, check_shape


def _check_grads_dict(grads, where):
    if not isinstance(grads, dict):
        raise TypeError(f"{where}: grads must be a dict of arrays, got {type(grads).__name__}")
    for key, g in grads.items():
        check_float_array(f"grads[{key!r}]", g)


def _check_step(p, grads, where):
    """p and grads must have the same keys, and each gradient its parameter's shape."""
    if not isinstance(p, dict):
        raise TypeError(f"{where}: p must be a dict of parameters, got {type(p).__name__}")
    _check_grads_dict(grads, where)
    missing = sorted(k for k in p if k not in grads)
    extra = sorted(k for k in grads if k not in p)
    if missing or extra:
        raise ValueError(
            f"{where}: grads must have the same keys as p {sorted(p)}; "
            f"missing {missing}, unexpected {extra}"
        )
    for key, value in p.items():
        check_float_array(f"p[{key!r}]", value)
        check_shape(f"grads[{key!r}]", grads[key], value.shape)


def _check_positive(name, value):
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _check_unit_interval(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def zero_like(p):
    """{name: zeros shaped like p[name]}: a fresh gradient accumulator (e.g. over BPTT chunks)."""
    return {key: np.zeros_like(value) for key, value in p.items()}


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so that their global L2 norm is at most max_norm.

        total_norm = sqrt(sum over all arrays and entries of g^2)
        g <- g * min(1, max_norm / (total_norm + 1e-6))

    Exactly torch.nn.utils.clip_grad_norm_: one coefficient for all arrays keeps the update's
    direction and only shortens it, which tames exploding gradients in BPTT (lecture 2). The
    1e-6 guards against division by zero, so like torch a norm within 1e-6 below max_norm is
    also (very slightly) scaled.

    Args:
        grads: {name: array} gradients.
        max_norm: the largest allowed global norm, > 0.
    Returns:
        clipped: {name: new array}, grads itself is left unchanged; total_norm: float, the
        norm before clipping.
    """
    _check_grads_dict(grads, "clip_grad_norm")
    _check_positive("max_norm", max_norm)
    # the norm of the per-array norms, as torch computes it
    norms = [np.linalg.norm(g.ravel()) for g in grads.values()]
    total_norm = float(np.linalg.norm(norms)) if norms else 0.0
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    return {key: g * coef for key, g in grads.items()}, total_norm


class _Optimizer:
    """Shared step(): validate, then apply the subclass's _update to each key in place."""

    def __init__(self, lr):
        _check_positive("lr", lr)
        self.lr = lr
        self.state = {}  # {name: {"step": t, ...}} per parameter key

    def step(self, p, grads):
        """Update every array of p in place with its gradient in grads (same keys and shapes).

        Args:
            p: {name: array} parameters, modified in place.
            grads: {name: array} gradients, not modified.
        """
        where = f"{type(self).__name__}.step"
        _check_step(p, grads, where)
        for key, param in p.items():
            state = self.state.setdefault(key, {"step": 0})
            for name, buf in state.items():
                if isinstance(buf, np.ndarray) and buf.shape != param.shape:
                    raise ValueError(
                        f"{where}: p[{key!r}] has shape {param.shape} but the optimizer's "
                        f"state {name!r} for it has shape {buf.shape}; use a new optimizer"
                    )
            state["step"] += 1
            self._update(param, grads[key], state)

    def _update(self, param, g, state):
        raise NotImplementedError


class SGD(_Optimizer):
    """Plain stochastic gradient descent, p <- p - lr g (torch.optim.SGD without momentum)."""

    def __init__(self, lr):
        super().__init__(lr)

    def _update(self, param, g, state):
        param -= self.lr * g


class Momentum(_Optimizer):
    """SGD with (heavy-ball) momentum in torch's form, torch.optim.SGD(lr, momentum=mu):

        v <- mu v + g    (v = g at the first step),    p <- p - lr v

    Some texts write v <- mu v - lr g; p <- p + v instead. With a constant lr the two are the
    same; torch's form keeps lr out of v, so changing lr takes effect at once.
    """

    def __init__(self, lr, momentum=0.9):
        super().__init__(lr)
        _check_unit_interval("momentum", momentum)
        self.momentum = momentum

    def _update(self, param, g, state):
        if "v" not in state:
            state["v"] = g.copy()  # copy: v is updated in place later, grads must not be
        else:
            state["v"] *= self.momentum
            state["v"] += g
        param -= self.lr * state["v"]


class Adagrad(_Optimizer):
    """Adagrad as torch.optim.Adagrad (no lr decay, zero initial accumulator):

        G <- G + g^2,    p <- p - lr g / (sqrt(G) + eps)

    Each entry's step shrinks with the squared gradients it has seen. Karpathy's min-char-rnn
    writes p -= lr g / sqrt(G + 1e-8): eps inside the root. Both agree unless G is tiny; we put
    eps outside to match torch in the tests. torch's default lr is 1e-2, ours min-char-rnn's 1e-1.
    """

    def __init__(self, lr=1e-1, eps=1e-8):
        super().__init__(lr)
        _check_positive("eps", eps)
        self.eps = eps

    def _update(self, param, g, state):
        if "G" not in state:
            state["G"] = np.zeros_like(param)
        state["G"] += g * g
        param -= self.lr * g / (np.sqrt(state["G"]) + self.eps)


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2015) exactly as torch.optim.Adam (no weight decay, no amsgrad):

        m <- b1 m + (1 - b1) g,          v <- b2 v + (1 - b2) g^2
        p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    i.e. p <- p - lr m_hat / (sqrt(v_hat) + eps) with the bias-corrected moments
    m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t); t counts this key's steps from 1.
    The correction undoes the pull of m = v = 0 towards zero during the first steps.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(lr)
        beta1, beta2 = betas
        _check_unit_interval("betas[0]", beta1)
        _check_unit_interval("betas[1]", beta2)
        _check_positive("eps", eps)
        self.betas = (beta1, beta2)
        self.eps = eps

    def _update(self, param, g, state):
        beta1, beta2 = self.betas
        if "m" not in state:
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
        m, v, t = state["m"], state["v"], state["step"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        # grouped as torch groups it, so the two agree to the last few bits
        step_size = self.lr / (1 - beta1**t)
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + self.eps
        param -= step_size * m / denom
