"""The LSTM's fast path: one layer and direction as a single autograd Function.

It computes exactly the equations of ``lstm_cell`` (cells.py) looped by ``RecurrentBase._scan``
(_base.py), gates stacked i, f, g, o, with the same variable-length semantics (a padded step
keeps the state, its output is zero), and the backward pass is the hand-written BPTT of
``lstm_course.scratch.lstm`` (``_cell_backward`` and ``lstm_backward``) in torch:

    forward, t = 0..T-1 (T-1..0 reversed), a_t = Gx_t + h_{t-1} W_hh^T:
        i, f, g, o = sigma(a_i), sigma(a_f), tanh(a_g), sigma(a_o)
        c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)
    backward, the other way round, dh and dc flowing in from step t+1:
        dh = dL/dh_t (from the output) + dh_next
        dc = dc_next + dh * o * (1 - tanh(c_t)^2)
        da_t = [dc g i(1-i) | dc c_{t-1} f(1-f) | dc i (1-g^2) | dh tanh(c_t) o(1-o)]  (B, 4H)
        dc_next = dc * f,  dh_next = da_t W_hh
    then, once for the whole sequence:
        dW_hh = sum_t da_t^T h_{t-1}  (one (4H, T*B) @ (T*B, H) matmul),  dGx = dA.

Why it exists: the eager loop asks autograd to record ~15 small ops per step and, in the
backward pass, to run each one's backward, including a (4H, H) weight-gradient matmul at
every step. Here the per-step work is a handful of raw ops writing into preallocated
(T, B, *) buffers, the gate derivatives are computed for all steps at once, and dW_hh is one
large matmul, as in torch.nn.LSTM's own kernel. Gx = X W_ih^T + b stays outside, in autograd,
which then turns dGx into dX, dW_ih and the biases.

The eager path stays the reference that shows the equations step by step: ``LSTM(...,
fused=False)`` forces it, and peepholes or ``record_gates()`` use it too.
tests/test_modules_fused.py checks that both paths and torch.nn.LSTM agree on outputs, final
states and every gradient, and gradchecks this Function. No double backward.
"""

import torch
from torch.autograd.function import once_differentiable


def _shifted(reverse, T):
    """Slices pairing each step with the step before it in reading order, and the first step.

    Returns (later, earlier, t0): buffer[later][k] was computed right after buffer[earlier][k];
    t0 is the step read first, whose predecessor is the initial state.
    """
    if reverse:  # step t follows step t+1
        return slice(0, T - 1), slice(1, T), T - 1
    return slice(1, T), slice(0, T - 1), 0


class LSTMLayerFunction(torch.autograd.Function):
    """forward(Gx, h0, c0, W_hh, mask, reverse) -> output (T, B, H), h_n (B, H), c_n (B, H).

    Gx (T, B, 4H) = X W_ih^T + b_ih + b_hh; h0, c0 (B, H); W_hh (4H, H); mask (T, B, 1) bool
    (True at real steps) or None; reverse: run t = T-1..0.
    """

    @staticmethod
    def forward(ctx, Gx, h0, c0, W_hh, mask, reverse):
        T, B, G = Gx.shape
        H = G // 4
        new = {"dtype": Gx.dtype, "device": Gx.device}
        acts = torch.empty((T, B, G), **new)  # a_t, then i, f, o in place (the g slot is unused)
        Gs = torch.empty((T, B, H), **new)  # g_t apart: tanh is about 2x faster contiguous
        Hs = torch.empty((T, B, H), **new)  # the state h_t (kept as it was at padded steps)
        Cs = torch.empty((T, B, H), **new)  # the cell c_t (likewise)
        TC = torch.empty((T, B, H), **new)  # tanh(c_t)
        W_hhT = W_hh.t()
        # Per-step views, made once (unbind is one call; indexing at every step costs more).
        A, Gx_t = acts.unbind(0), Gx.unbind(0)
        H_t, C_t, TC_t, g = Hs.unbind(0), Cs.unbind(0), TC.unbind(0), Gs.unbind(0)
        i, f, a_g, o = (x.unbind(0) for x in acts.split(H, dim=2))
        M = None if mask is None else mask.unbind(0)
        h, c = h0, c0
        for t in range(T - 1, -1, -1) if reverse else range(T):
            torch.addmm(Gx_t[t], h, W_hhT, out=A[t])  # a_t = Gx_t + h_{t-1} W_hh^T
            g[t].copy_(a_g[t])
            A[t].sigmoid_()  # i, f, o: one call for the row beats three for the slices
            g[t].tanh_()
            torch.mul(f[t], c, out=C_t[t])
            C_t[t].addcmul_(i[t], g[t])  # c_t = f * c_{t-1} + i * g
            torch.tanh(C_t[t], out=TC_t[t])
            torch.mul(o[t], TC_t[t], out=H_t[t])  # h_t = o * tanh(c_t)
            if M is not None:  # a padded step keeps the state
                torch.where(M[t], C_t[t], c, out=C_t[t])
                torch.where(M[t], H_t[t], h, out=H_t[t])
            h, c = H_t[t], C_t[t]
        output = Hs if mask is None else torch.where(mask, Hs, 0.0)
        ctx.set_materialize_grads(False)
        ctx.reverse = reverse
        ctx.save_for_backward(acts, Gs, Hs, Cs, TC, h0, c0, W_hh, mask)
        return output, h.clone(), c.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, dY, dh_n, dc_n):
        acts, g, Hs, Cs, TC, h0, c0, W_hh, mask = ctx.saved_tensors
        T, B, G = acts.shape
        H = G // 4
        later, earlier, t0 = _shifted(ctx.reverse, T)
        i, f, _, o = acts.split(H, dim=2)
        # dA starts as what da_t is once dc (i, f, g) or dh (o) multiplies it, for all steps
        # at once: [g i(1-i) | c_{t-1} f(1-f) | i (1-g^2) | tanh(c_t) o(1-o)]; and Q the
        # factor of dh's path into c_t, o (1 - tanh(c_t)^2). Written with h_t = o tanh(c_t)
        # (at real steps; padded ones are zeroed below) so that no temporary is needed.
        dA = torch.empty_like(acts)
        dA_i, dA_f, dA_g, dA_o = dA.split(H, dim=2)
        torch.mul(i, g, out=dA_i)
        torch.addcmul(i, dA_i, g, value=-1.0, out=dA_g)  # i - i g g
        dA_i.addcmul_(dA_i, i, value=-1.0)  # i g - i g i
        torch.mul(f[later], Cs[earlier], out=dA_f[later])
        torch.mul(f[t0], c0, out=dA_f[t0])
        dA_f.addcmul_(dA_f, f, value=-1.0)  # f c_{t-1} - f c_{t-1} f
        torch.addcmul(Hs, Hs, o, value=-1.0, out=dA_o)  # o tanh(c) - o tanh(c) o
        Q = torch.addcmul(o, Hs, TC, value=-1.0)  # o - o tanh(c) tanh(c)
        padded = None if mask is None else ~mask
        # dL/dh_t from the outputs, in a buffer of our own: at real steps each da_t W_hh is
        # added to it in place (addmm_, the same product as addmm's), with no per-step copy.
        if dY is None:
            dH = None
        elif padded is None:
            dH = dY.clone()
        else:
            dH = dY.masked_fill(padded, 0.0)  # outputs at padded steps are constants
        A, A3, A_o = dA.unbind(0), dA.view(T, B, 4, H)[:, :, :3].unbind(0), dA_o.unbind(0)
        F, Q = f.unbind(0), Q.unbind(0)
        dH_t = None if dH is None else dH.unbind(0)
        steps = list(range(T) if ctx.reverse else range(T - 1, -1, -1))
        dh = torch.zeros_like(h0) if dh_n is None else dh_n
        if dH_t is not None:
            dh = dh + dH_t[steps[0]]  # dL/dh_t: the output's and the future's
        dc = torch.zeros_like(c0) if dc_n is None else dc_n
        dC = torch.empty_like(Hs)  # dL/dc_t, each step's own buffer (no allocation in the loop)
        dC_t, dC3 = dC.unbind(0), dC.unsqueeze(2).unbind(0)  # (B, H) and (B, 1, H) views
        for n, t in enumerate(steps):
            dc_t = torch.addcmul(dc, dh, Q[t], out=dC_t[t])  # h_t = o tanh(c_t): a 2nd path
            A3[t].mul_(dC3[t])  # i, f, g: times dc_t
            A_o[t].mul_(dh)
            if padded is None:
                dc = dc_t.mul_(F[t])  # the conveyor belt: scaled only by the forget gate
            else:  # a padded step passes the gradient through unchanged, and has da_t = 0
                A[t].masked_fill_(padded[t], 0.0)
                dc = torch.where(mask[t], dc_t.mul_(F[t]), dc)
            # dh_{t-1} = da_t W_hh + dL/dh_{t-1} from the output (the same rounding as before:
            # it decides the lectures' trained numbers)
            dY_prev = None if dH_t is None or n + 1 == T else dH_t[steps[n + 1]]
            if padded is None:
                dh = A[t] @ W_hh if dY_prev is None else dY_prev.addmm_(A[t], W_hh)
            else:
                dh = torch.where(mask[t], A[t] @ W_hh, dh)
                if dY_prev is not None:
                    dh.add_(dY_prev)
        dW_hh = None
        if ctx.needs_input_grad[3]:  # sum_t da_t^T h_{t-1}, one matmul for the sequence
            dW_hh = dA[t0].t() @ h0
            dW_hh.addmm_(dA[later].reshape(-1, G).t(), Hs[earlier].reshape(-1, H))
        return dA if ctx.needs_input_grad[0] else None, dh, dc, dW_hh, None, None


def lstm_layer(Gx, h0, c0, W_hh, mask=None, reverse=False):
    """One LSTM layer and direction: output (T, B, H), h_n (B, H), c_n (B, H).

    Args:
        Gx: (T, B, 4H) X W_ih^T + b_ih + b_hh. h0, c0: (B, H). W_hh: (4H, H).
        mask: (T, B, 1) bool, True at real steps, or None. reverse: read t = T-1..0.
    """
    return LSTMLayerFunction.apply(Gx, h0, c0, W_hh, mask, reverse)
