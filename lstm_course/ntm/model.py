"""A Neural Turing Machine: an LSTM controller, one write head, one read head and a memory
(Graves et al. 2014; lecture 10, eqs. 10.9-10.11).

One time step, with the previous read vector fed back into the controller:

    h_t, c_t = LSTMCell([x_t ; r_{t-1}], (h_{t-1}, c_{t-1}))          (10.9)
    head outputs from h_t, squashed                                   (10.10)
    w^w_t = address(write head, M_{t-1}, w^w_{t-1});  M_t = write(M_{t-1}, w^w_t, e_t, a_t)
    w^r_t = address(read head, M_t, w^r_{t-1});       r_t = read(M_t, w^r_t)
    y_t = [h_t ; r_t] W_y + b_y                                       (10.11)

y_t are logits (the loss applies the sigmoid). Both heads start focused on location 0, and the
memory starts as a small constant. Time-major: x (T, B, D), y (T, B, O).
"""

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn

from lstm_course.modules import LSTMCell
from lstm_course.ntm.addressing import Addressing
from lstm_course.ntm.heads import HeadParams, ReadHead, WriteHead
from lstm_course.ntm.memory import INIT_VALUE, initial_memory, read, write


@dataclass(frozen=True)
class NTMConfig:
    """Sizes of an NTM. D: input size, O: output size, H: controller LSTM size, N x W: memory
    (N locations of width W), S: shift offsets (odd), init: the constant of M_0."""

    input_size: int = 10
    output_size: int = 8
    hidden_size: int = 100
    N: int = 128
    W: int = 20
    S: int = 3
    init: float = INIT_VALUE

    def __post_init__(self):
        for name in ("input_size", "output_size", "hidden_size", "N", "W", "S"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"NTMConfig.{name} must be a positive int, got {value!r}")
        if self.S % 2 == 0:
            raise ValueError(f"NTMConfig.S must be odd (offsets -S//2..S//2), got {self.S}")


class NTMState(NamedTuple):
    """Everything an NTM carries from one step to the next."""

    h: torch.Tensor  # (B, H) controller output
    c: torch.Tensor  # (B, H) controller cell
    M: torch.Tensor  # (B, N, W) memory
    w_write: torch.Tensor  # (B, N) write weighting
    w_read: torch.Tensor  # (B, N) read weighting
    r: torch.Tensor  # (B, W) read vector


class NTMTrace(NamedTuple):
    """What happened at every step of ``NTM.forward(..., trace=True)``, detached, time first."""

    write: Addressing  # each stage (T, B, N); write.w is the write weighting w^w_t
    read: Addressing  # each stage (T, B, N); read.w is the read weighting w^r_t
    write_params: HeadParams  # each field (T, B, ...)
    read_params: HeadParams  # each field (T, B, ...); e and a are None
    M: torch.Tensor  # (T, B, N, W) the memory after step t's write
    r: torch.Tensor  # (T, B, W) read vectors


def _stack(steps, kind):
    """A list of T NamedTuples of (B, ...) tensors -> one NamedTuple of (T, B, ...) tensors."""
    fields = zip(*steps, strict=True)
    return kind(*(None if f[0] is None else torch.stack([t.detach() for t in f]) for f in fields))


class NTM(nn.Module):
    """Neural Turing Machine with an LSTM controller (``lstm_course.modules.LSTMCell``).

    Args:
        config: an ``NTMConfig`` (or a dict of its fields, as stored in a checkpoint).
        device, dtype: where the parameters live.
    Shapes:
        forward(x (T, B, D), state=None) -> (y (T, B, O), NTMState).
    """

    def __init__(self, config=None, device=None, dtype=None):
        super().__init__()
        if isinstance(config, dict):
            config = NTMConfig(**config)
        self.config = config = config or NTMConfig()
        factory = {"device": device, "dtype": dtype}
        H, W = config.hidden_size, config.W
        self.controller = LSTMCell(config.input_size + W, H, **factory)
        self.write_head = WriteHead(H, W, config.S, **factory)
        self.read_head = ReadHead(H, W, config.S, **factory)
        self.out = nn.Linear(H + W, config.output_size, **factory)

    def config_dict(self):
        """The config as plain values, for ``save_checkpoint``."""
        return {"model": "ntm", **asdict(self.config)}

    def initial_state(self, B):
        """Zero controller state, M_0 constant, both heads on location 0, r_0 = read(M_0, w_0)."""
        cfg, weight = self.config, self.out.weight
        factory = {"device": weight.device, "dtype": weight.dtype}
        h = torch.zeros(B, cfg.hidden_size, **factory)
        M = initial_memory(B, cfg.N, cfg.W, cfg.init, **factory)
        w = torch.zeros(B, cfg.N, **factory)
        w[:, 0] = 1.0  # one-hot: location-based addressing has somewhere to start from
        return NTMState(h, h.clone(), M, w, w.clone(), read(M, w))

    def step(self, x_t, state):
        """One step (10.9)-(10.11). x_t (B, D) -> (y_t (B, O), NTMState, (write, read) info)."""
        h, c = self.controller(torch.cat([x_t, state.r], dim=1), (state.h, state.c))  # (10.9)
        write_stages, write_params = self.write_head(h, state.M, state.w_write)
        M = write(state.M, write_stages.w, write_params.e, write_params.a)
        read_stages, read_params = self.read_head(h, M, state.w_read)
        r = read(M, read_stages.w)  # (B, W)
        y_t = self.out(torch.cat([h, r], dim=1))  # (10.11)
        state = NTMState(h, c, M, write_stages.w, read_stages.w, r)
        return y_t, state, (write_stages, write_params, read_stages, read_params)

    def forward(self, x, state=None, trace=False):
        """Run the NTM over a sequence.

        Args:
            x: (T, B, D) inputs. state: an ``NTMState`` to continue from, or None (fresh).
            trace: also return an ``NTMTrace`` of every step (for the plots).
        Returns:
            (y (T, B, O) logits, final NTMState), plus the NTMTrace when ``trace``.
        """
        D = self.config.input_size
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != D:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"NTM: x must have shape (T, B, D) with D = {D}, got {shape}")
        state = self.initial_state(x.shape[1]) if state is None else state
        outputs, steps = [], []
        for x_t in x.unbind(0):  # unbind, not x[t]: cheaper in backward (TOOLING-NOTES)
            y_t, state, info = self.step(x_t, state)
            outputs.append(y_t)
            if trace:
                steps.append((info, state.M.detach(), state.r.detach()))
        y = torch.stack(outputs)  # (T, B, O)
        if not trace:
            return y, state
        infos, Ms, rs = zip(*steps, strict=True)
        trace = NTMTrace(
            write=_stack([i[0] for i in infos], Addressing),
            read=_stack([i[2] for i in infos], Addressing),
            write_params=_stack([i[1] for i in infos], HeadParams),
            read_params=_stack([i[3] for i in infos], HeadParams),
            M=torch.stack(Ms),
            r=torch.stack(rs),
        )
        return y, state, trace
