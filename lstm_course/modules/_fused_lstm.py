"""The LSTM's fast path: one layer and direction as a single autograd Function.

It computes the equations of ``lstm_cell`` (cells.py) looped by ``RecurrentBase._scan``
(_base.py), gates stacked i, f, g, o, with the same variable-length semantics (a padded step
keeps the state, its output is zero). The backward pass is the hand-written BPTT of
``lstm_course.scratch.lstm`` (``_cell_backward`` and ``lstm_backward``), in torch:

    forward, once:  A = X W_ih^T + b                          (T, B, 4H), b = b_ih + b_hh
    then t = 0..T-1 (T-1..0 reversed), a_t = A_t + h_{t-1} W_hh^T:
        i, f, g, o = sigma(a_i), sigma(a_f), tanh(a_g), sigma(a_o)
        c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)
    backward, the other way round, dh and dc flowing in from step t+1:
        dh = dL/dh_t (from the output) + dh_next
        dc = dc_next + dh * o * (1 - tanh(c_t)^2)
        da_t = [dc g i(1-i) | dc c_{t-1} f(1-f) | dc i (1-g^2) | dh tanh(c_t) o(1-o)]  (B, 4H)
        dc_next = dc * f,  dh_next = da_t W_hh
    then, once for the whole sequence (dA stacks every da_t):
        dW_hh = sum_t da_t^T h_{t-1},  dX = dA W_ih,  dW_ih = dA^T X,  db = sum_t,b da_t.

Why it exists: the eager loop asks autograd to record ~15 small ops per step and, in the
backward pass, to run each one's backward, including a (4H, H) weight-gradient matmul at
every step. Here the per-step work is a handful of raw ops writing into preallocated
(T, B, *) buffers, and every weight gradient is one large matmul, as in torch.nn.LSTM's own
kernel. Three details make it faster still (measured by ``make bench``):

- tanh(a_g) = 2 sigma(2 a_g) - 1. The g rows of W_ih, W_hh and b are doubled (exact in
  floating point), so one sigmoid call covers the whole (B, 4H) row of gates; g then takes one
  cheap op, where a copy of the g slice and a tanh took two slower ones.
- The input projection writes straight into the buffer that the loop updates in place:
  no copy of A per step.
- The backward pass computes the factors that multiply dc and dh (the brackets above, without
  dc and dh) a chunk of steps at a time, just before the loop needs them, while they fit in
  the cache; for the whole sequence at once they would travel to memory and back.

The eager path stays the reference that shows the equations step by step: ``LSTM(...,
fused=False)`` forces it, and peepholes or ``record_gates()`` use it too.
tests/test_modules_fused.py checks that both paths and torch.nn.LSTM agree on outputs, final
states and every gradient, and gradchecks this Function. No double backward.
"""

import torch
from torch.autograd.function import once_differentiable

# The backward pass prepares its per-step factors this many floats (1 MB in float32) at a time.
CHUNK_FLOATS = 1 << 18


def _g_doubled(W, H):
    """W (4H, *) or (4H,) with the g rows (2H:3H) times 2: sigma(2 a_g) from one sigmoid call."""
    W2 = W.clone()
    W2[2 * H : 3 * H].mul_(2)
    return W2


class LSTMLayerFunction(torch.autograd.Function):
    """forward(X, W_ih, b, h0, c0, W_hh, mask, reverse) -> output (T, B, H), h_n, c_n (B, H).

    X (T, B, D); W_ih (4H, D); b (4H,) = b_ih + b_hh, or None; h0, c0 (B, H); W_hh (4H, H);
    mask (T, B, 1) bool (True at real steps) or None; reverse: run t = T-1..0.
    """

    @staticmethod
    def forward(ctx, X, W_ih, b, h0, c0, W_hh, mask, reverse):
        T, B, D = X.shape
        G = W_ih.shape[0]
        H = G // 4
        new = {"dtype": X.dtype, "device": X.device}
        # acts holds a_t (g rows doubled) and then, in place, i, f, g, o for every step.
        X2 = X.reshape(T * B, D)
        W_ih2T = _g_doubled(W_ih, H).t()
        acts = torch.mm(X2, W_ih2T) if b is None else torch.addmm(_g_doubled(b, H), X2, W_ih2T)
        acts = acts.view(T, B, G)
        W_hh2T = _g_doubled(W_hh, H).t()
        Hs = torch.empty((T, B, H), **new)  # the state h_t (kept as it was at padded steps)
        Cs = torch.empty((T, B, H), **new)  # the cell c_t (likewise)
        TC = torch.empty((T, B, H), **new)  # tanh(c_t)
        minus_one = torch.tensor(-1.0, **new)
        # Per-step views, made once (unbind is one call; indexing at every step costs more).
        A, H_t, C_t, TC_t = acts.unbind(0), Hs.unbind(0), Cs.unbind(0), TC.unbind(0)
        i, f, g, o = (x.unbind(0) for x in acts.split(H, dim=2))
        M = None if mask is None else mask.unbind(0)
        h, c = h0, c0
        for t in range(T - 1, -1, -1) if reverse else range(T):
            A[t].addmm_(h, W_hh2T)  # a_t = A_t + h_{t-1} W_hh^T
            A[t].sigmoid_()  # i, f, o, and sigma(2 a_g) in the g slot
            torch.add(minus_one, g[t], alpha=2, out=g[t])  # g = 2 sigma(2 a_g) - 1 = tanh(a_g)
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
        ctx.reverse, ctx.has_bias = reverse, b is not None
        ctx.save_for_backward(X, W_ih, acts, Hs, Cs, TC, h0, c0, W_hh, mask)
        return output, h.clone(), c.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, dY, dh_n, dc_n):
        X, W_ih, acts, Hs, Cs, TC, h0, c0, W_hh, mask = ctx.saved_tensors
        T, B, G = acts.shape
        H = G // 4
        reverse = ctx.reverse
        padded = None if mask is None else ~mask
        # dL/dh_t from the outputs, in a buffer of our own: at real steps each da_t W_hh is
        # added to it in place (addmm_), with no per-step copy.
        if dY is None:
            dH = None
        elif padded is None:
            dH = dY.clone()
        else:
            dH = dY.masked_fill(padded, 0.0)  # outputs at padded steps are constants
        # dA first holds, step by step, the bracket of da_t without dc and dh (_factors),
        # then da_t itself; Q the factor of dh's path into c_t, o (1 - tanh(c_t)^2).
        dA, Q = torch.empty_like(acts), torch.empty_like(Hs)
        A, A3 = dA.unbind(0), dA.view(T, B, 4, H)[:, :, :3].unbind(0)  # A3: i, f, g at once
        A_o, F, Q_t = dA[:, :, 3 * H :].unbind(0), acts[:, :, H : 2 * H].unbind(0), Q.unbind(0)
        dH_t = None if dH is None else dH.unbind(0)
        dC = torch.empty_like(Hs)  # dL/dc_t, each step's own buffer (no allocation in the loop)
        dC_t, dC3 = dC.unbind(0), dC.unsqueeze(2).unbind(0)  # (B, H) and (B, 1, H) views
        steps = list(range(T) if reverse else range(T - 1, -1, -1))
        dh = torch.zeros_like(h0) if dh_n is None else dh_n
        if dH_t is not None:
            dh = dh + dH_t[steps[0]]  # dL/dh_t: the output's and the future's
        dc = torch.zeros_like(c0) if dc_n is None else dc_n
        chunk = max(1, CHUNK_FLOATS // (B * G))
        for start in range(0, T, chunk):
            ts = steps[start : start + chunk]  # consecutive times, in backward order
            _factors(acts, Hs, Cs, TC, c0, dA, Q, min(ts), max(ts) + 1, reverse)
            for n, t in enumerate(ts, start):
                dc_t = torch.addcmul(dc, dh, Q_t[t], out=dC_t[t])  # h_t = o tanh(c_t): 2nd path
                A3[t].mul_(dC3[t])  # i, f, g: times dc_t
                A_o[t].mul_(dh)
                if padded is None:
                    dc = dc_t.mul_(F[t])  # the conveyor belt: scaled only by the forget gate
                else:  # a padded step passes the gradient through unchanged, and has da_t = 0
                    A[t].masked_fill_(padded[t], 0.0)
                    dc = torch.where(mask[t], dc_t.mul_(F[t]), dc)
                # dh_{t-1} = da_t W_hh + dL/dh_{t-1} from the output
                dY_prev = None if dH_t is None or n + 1 == T else dH_t[steps[n + 1]]
                if padded is None:
                    dh = A[t] @ W_hh if dY_prev is None else dY_prev.addmm_(A[t], W_hh)
                else:
                    dh = torch.where(mask[t], A[t] @ W_hh, dh)
                    if dY_prev is not None:
                        dh.add_(dY_prev)
        need = ctx.needs_input_grad
        dX = dW_ih = db = dW_hh = None
        if need[5]:  # sum_t da_t^T h_{t-1}, one matmul for the sequence
            later, earlier, t0 = _shifted(reverse, T)
            dW_hh = dA[t0].t() @ h0
            dW_hh.addmm_(dA[later].reshape(-1, G).t(), Hs[earlier].reshape(-1, H))
        dA2 = dA.view(T * B, G)
        if need[0]:
            dX = (dA2 @ W_ih).view(X.shape)
        if need[1]:
            dW_ih = dA2.t() @ X.reshape(T * B, -1)
        if ctx.has_bias and need[2]:
            db = dA2.sum(0)
        return dX, dW_ih, db, dh, dc, dW_hh, None, None


def _shifted(reverse, T):
    """Slices pairing each step with the step before it in reading order, and the first step.

    Returns (later, earlier, t0): buffer[later][k] was computed right after buffer[earlier][k];
    t0 is the step read first, whose predecessor is the initial state.
    """
    if reverse:  # step t follows step t+1
        return slice(0, T - 1), slice(1, T), T - 1
    return slice(1, T), slice(0, T - 1), 0


def _factors(acts, Hs, Cs, TC, c0, dA, Q, lo, hi, reverse):
    """For times lo..hi-1: dA = [g i(1-i) | c_{t-1} f(1-f) | i (1-g^2) | tanh(c_t) o(1-o)],
    the bracket of da_t without dc (i, f, g) and dh (o), and Q = o (1 - tanh(c_t)^2).

    Written with h_t = o tanh(c_t) (true at real steps; padded ones are zeroed in the loop),
    in place, with no temporary.
    """
    H = Hs.shape[2]
    i, f, g, o = acts[lo:hi].split(H, dim=2)
    dA_i, dA_f, dA_g, dA_o = dA[lo:hi].split(H, dim=2)
    h, tc = Hs[lo:hi], TC[lo:hi]
    torch.mul(i, g, out=dA_i)
    torch.addcmul(i, dA_i, g, value=-1.0, out=dA_g)  # i - i g g
    dA_i.addcmul_(dA_i, i, value=-1.0)  # i g - i g i
    # c_{t-1}: the cell one step earlier in reading order; c0 before the first step read.
    later, earlier, t0 = _shifted(reverse, Cs.shape[0])
    first = t0 - lo if lo <= t0 < hi else None  # where in the chunk c0 belongs, if at all
    if first is not None:
        torch.mul(f[first], c0, out=dA_f[first])
    rest = slice(1, None) if first == 0 else slice(0, hi - lo - (first is not None))
    n = len(range(hi - lo)[rest])
    if n:
        a = lo + rest.start  # the first time in the chunk whose c_{t-1} is a stored cell
        prev = slice(a + 1, a + 1 + n) if reverse else slice(a - 1, a - 1 + n)
        torch.mul(f[rest], Cs[prev], out=dA_f[rest])
    dA_f.addcmul_(dA_f, f, value=-1.0)  # f c_{t-1} - f c_{t-1} f
    torch.addcmul(h, h, o, value=-1.0, out=dA_o)  # o tanh(c) - o tanh(c) o
    torch.addcmul(o, h, tc, value=-1.0, out=Q[lo:hi])  # o - o tanh(c) tanh(c)


def lstm_layer(X, W_ih, b, h0, c0, W_hh, mask=None, reverse=False):
    """One LSTM layer and direction: output (T, B, H), h_n (B, H), c_n (B, H).

    Args:
        X: (T, B, D). W_ih: (4H, D). b: (4H,) b_ih + b_hh, or None. h0, c0: (B, H).
        W_hh: (4H, H). mask: (T, B, 1) bool, True at real steps, or None.
        reverse: read t = T-1..0.
    """
    return LSTMLayerFunction.apply(X, W_ih, b, h0, c0, W_hh, mask, reverse)
