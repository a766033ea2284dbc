"""Helpers for the scratch tests: random parameters, and torch.nn run on the same weights."""

import torch

from lstm_course.scratch.torch_params import params_from_torch


def random_params(rng, shapes, scale=0.5):
    """A parameter dict with normal entries for {key: (shape, letters)}."""
    return {key: rng.normal(scale=scale, size=shape) for key, (shape, _) in shapes.items()}


def torch_module(kind, D, H, seed=0, **kwargs):
    """torch.nn.RNN/LSTM/GRU in float64 with seeded weights."""
    torch.manual_seed(seed)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    return cls(D, H, **kwargs).double()


def torch_forward_backward(module, X, state0, dH_all, dstate_T):
    """Run module forward on X and backpropagate sum(H * dH_all) + sum(state_T * dstate_T).

    Args:
        module: a one-layer, one-direction torch.nn.RNN/LSTM/GRU.
        X: (T, B, D) array; state0: h0 or (h0, c0), (B, H) arrays; dH_all: (T, B, H);
        dstate_T: like state0.
    Returns:
        dict with H_all, state_T, dX, dstate0 (NumPy) and grads in our layout (keys of p).
    """
    X_t = torch.tensor(X, requires_grad=True)
    lstm = isinstance(state0, tuple)
    s0 = tuple(state0) if lstm else (state0,)
    s0_t = [torch.tensor(s[None], requires_grad=True) for s in s0]  # torch wants (layers, B, H)
    module.zero_grad()
    H_t, sT_t = module(X_t, tuple(s0_t) if lstm else s0_t[0])
    sT_t = sT_t if lstm else (sT_t,)
    dT = dstate_T if lstm else (dstate_T,)
    loss = (H_t * torch.tensor(dH_all)).sum()
    loss = loss + sum((s[0] * torch.tensor(d)).sum() for s, d in zip(sT_t, dT, strict=True))
    loss.backward()
    grads = {name: param.grad for name, param in module.named_parameters()}
    # Gradients in our layout: transpose the matrices; the single bias b gets b_ih's gradient
    # (b = b_ih + b_hh, so dL/db = dL/db_ih).
    ours = {"W_x": grads["weight_ih_l0"].numpy().T, "W_h": grads["weight_hh_l0"].numpy().T}
    if module.mode == "GRU":
        ours.update(b_x=grads["bias_ih_l0"].numpy(), b_h=grads["bias_hh_l0"].numpy())
    else:
        ours["b"] = grads["bias_ih_l0"].numpy()
    state_T = tuple(s[0].detach().numpy() for s in sT_t)
    dstate0 = tuple(s.grad[0].numpy() for s in s0_t)
    return {
        "H_all": H_t.detach().numpy(),
        "state_T": state_T if lstm else state_T[0],
        "dX": X_t.grad.numpy(),
        "dstate0": dstate0 if lstm else dstate0[0],
        "grads": ours,
        "p": params_from_torch(module),
    }
