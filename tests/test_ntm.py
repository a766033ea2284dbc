"""The PyTorch NTM: addressing and memory against the NumPy reference, gradients, the heads,
the model's shapes and determinism, the copy task, training and checkpoints."""

import numpy as np
import pytest
import torch

from lstm_course import set_seed
from lstm_course.ntm import (
    NTM,
    NTMConfig,
    ReadHead,
    WriteHead,
    address,
    content_addressing,
    cosine_similarity,
    initial_memory,
    interpolate,
    read,
    sharpen,
    shift,
    write,
)
from lstm_course.ntm.copy_task import (
    CopyBatches,
    bit_errors,
    copy_batch,
    copy_loss,
    errors_at_length,
    errors_by_length,
)
from lstm_course.ntm.train import (
    CopyRecipe,
    ProgressLog,
    build_model,
    load_copy_model,
    load_shipped,
    n_weights,
    train_copy,
)
from lstm_course.scratch import ntm as ref

TINY = CopyRecipe(
    hidden_size=24, N=12, W=6, n_bits=4, max_len=3, batch_size=8, lr=1e-2, eval_every=20
)


def inputs(seed, B=3, N=7, W=4, S=3):
    """Random float64 inputs of one head, as NumPy arrays, in the ranges the heads produce."""
    rng = np.random.default_rng(seed)
    return {
        "k": rng.normal(size=(B, W)),
        "beta": rng.uniform(0.0, 5.0, size=(B, 1)),
        "g": rng.uniform(0.0, 1.0, size=(B, 1)),
        "s": rng.dirichlet(np.ones(S), size=B),
        "gamma": rng.uniform(1.0, 4.0, size=(B, 1)),
        "M": rng.normal(size=(B, N, W)),
        "w_prev": rng.dirichlet(np.ones(N), size=B),
        "e": rng.uniform(0.0, 1.0, size=(B, W)),
        "a": rng.normal(size=(B, W)),
    }


def torched(arrays, grad=False):
    return {name: torch.tensor(x, requires_grad=grad) for name, x in arrays.items()}


def close(ours, theirs):
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=0, atol=1e-8)


# ----- parity with lstm_course.scratch.ntm, float64 -----


@pytest.mark.parametrize("seed, S", [(0, 3), (1, 5), (2, 1)])
def test_every_stage_matches_the_numpy_reference(seed, S):
    a = inputs(seed, S=S)
    t = torched(a)
    close(cosine_similarity(t["k"], t["M"]), ref.cosine_similarity(a["k"], a["M"]))
    close(
        content_addressing(t["k"], t["beta"], t["M"]),
        ref.content_addressing(a["k"], a["beta"], a["M"]),
    )
    close(
        interpolate(t["w_prev"].flip(1), t["w_prev"], t["g"]),
        ref.interpolate(a["w_prev"][:, ::-1], a["w_prev"], a["g"]),
    )
    close(shift(t["w_prev"], t["s"]), ref.shift(a["w_prev"], a["s"]))
    close(sharpen(t["w_prev"], t["gamma"]), ref.sharpen(a["w_prev"], a["gamma"]))
    names = ("k", "beta", "g", "s", "gamma", "M", "w_prev")
    ours = address(*(t[n] for n in names))
    theirs = ref.address(*(a[n] for n in names))
    for stage, expected in zip(ours, theirs, strict=True):
        close(stage, expected)
    close(read(t["M"], t["w_prev"]), ref.read(a["M"], a["w_prev"]))
    close(
        write(t["M"], t["w_prev"], t["e"], t["a"]),
        ref.write(a["M"], a["w_prev"], a["e"], a["a"]),
    )


def test_numbers_and_1d_columns_are_accepted_like_the_reference():
    a = inputs(3)
    t = torched(a)
    close(content_addressing(t["k"], 2.0, t["M"]), ref.content_addressing(a["k"], 2.0, a["M"]))
    close(sharpen(t["w_prev"], t["gamma"][:, 0]), ref.sharpen(a["w_prev"], a["gamma"][:, 0]))
    close(interpolate(t["w_prev"], t["w_prev"], 0.3), a["w_prev"])


# ----- gradients -----


def test_address_read_and_write_pass_gradcheck():
    t = torched(inputs(4, B=2, N=5, W=3), grad=True)
    names = ("k", "beta", "g", "s", "gamma", "M", "w_prev")

    def head(*args):
        w = address(*args).w
        return read(args[5], w), write(args[5], w, t["e"], t["a"])

    assert torch.autograd.gradcheck(head, tuple(t[n] for n in names))
    assert torch.autograd.gradcheck(write, (t["M"], t["w_prev"], t["e"], t["a"]))


def test_sharpen_has_finite_gradients_at_exact_zeros():
    w_tilde = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor([[2.5]], dtype=torch.float64, requires_grad=True)
    w = sharpen(w_tilde, gamma)
    (w * torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)).sum().backward()
    assert torch.isfinite(w_tilde.grad).all() and torch.isfinite(gamma.grad).all()
    np.testing.assert_allclose(w.detach().numpy(), [[1.0, 0.0, 0.0]], atol=1e-30)


# ----- semantics, by hand -----


def test_shift_by_plus_one_moves_a_one_hot_weighting_one_location_on_and_wraps():
    w = torch.eye(4, dtype=torch.float64)  # (B=4, N=4): batch b is one-hot at b
    plus_one = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64).expand(4, 3)
    assert torch.equal(shift(w, plus_one), w.roll(1, dims=1))  # b -> b + 1, 3 -> 0


def test_write_replaces_one_row_and_read_gets_it_back():
    M = initial_memory(2, 5, 3, dtype=torch.float64)
    before = M.clone()
    w = torch.zeros(2, 5, dtype=torch.float64)
    w[:, 2] = 1.0
    a = torch.tensor([[1.0, -1.0, 0.5], [0.0, 2.0, 3.0]], dtype=torch.float64)
    M_new = write(M, w, torch.ones(2, 3, dtype=torch.float64), a)
    assert torch.equal(M, before)  # the old memory is untouched: autograd needs it
    assert torch.equal(M_new[:, 2], a)
    assert torch.equal(M_new[:, [0, 1, 3, 4]], M[:, [0, 1, 3, 4]])
    assert torch.equal(read(M_new, w), a)
    kept = write(M_new, w, torch.zeros(2, 3, dtype=torch.float64), a)  # e = 0: add only
    assert torch.allclose(kept[:, 2], 2 * a)


def test_heads_emit_values_in_their_ranges():
    set_seed(0)
    h = 10 * torch.randn(6, 16)
    params = WriteHead(16, W=4, S=5).emit(h)
    assert params.k.shape == (6, 4) and params.s.shape == (6, 5)
    assert (params.beta >= 0).all() and (params.gamma >= 1).all()
    assert ((params.g > 0) & (params.g < 1)).all() and ((params.e >= 0) & (params.e <= 1)).all()
    assert torch.allclose(params.s.sum(1), torch.ones(6)) and (params.a.abs() <= 1).all()
    assert ReadHead(16, W=4).emit(h).e is None


# ----- errors name the argument and the shapes -----


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda t: cosine_similarity(t["k"][:, :3], t["M"]),
            ValueError,
            "k must have shape (B, W)",
        ),
        (lambda t: read(t["M"], t["w_prev"][:2]), ValueError, "w must have shape (B, N) = (3, 7)"),
        (lambda t: write(t["M"], t["w_prev"], t["e"].T, t["a"]), ValueError, "e must have shape"),
        (lambda t: interpolate(t["w_prev"], t["w_prev"], t["g"][:2]), ValueError, "g must have"),
        (lambda t: shift(t["w_prev"], t["s"][:, :2]), ValueError, "odd number S >= 1"),
        (lambda t: shift(t["w_prev"], t["s"][:1]), ValueError, "s must have shape (B, S)"),
        (lambda t: sharpen(t["w_prev"].numpy(), 2.0), TypeError, "w_tilde must be a torch.Tensor"),
        (lambda t: read(t["M"][0], t["w_prev"]), ValueError, "M must have 3 dimensions"),
        (lambda t: content_addressing(t["k"], "2", t["M"]), TypeError, "beta must be a tensor"),
    ],
)
def test_bad_inputs_raise_with_clear_messages(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(torched(inputs(5)))


def test_bad_configs_and_inputs_of_the_model_are_refused():
    with pytest.raises(ValueError, match="NTMConfig.S must be odd"):
        NTMConfig(S=4)
    with pytest.raises(ValueError, match="NTMConfig.N must be a positive int"):
        NTMConfig(N=0)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, D\) with D = 10"):
        NTM()(torch.zeros(3, 2, 9))
    with pytest.raises(ValueError, match="model must be one of"):
        CopyRecipe(model="gru")


# ----- the model -----


def test_ntm_shapes_state_and_trace():
    set_seed(0)
    cfg = NTMConfig(input_size=6, output_size=4, hidden_size=16, N=9, W=5)
    model = NTM(cfg, device="cpu")
    x = torch.randn(7, 3, 6)
    y, state, trace = model(x, trace=True)
    assert y.shape == (7, 3, 4) and state.M.shape == (3, 9, 5) and state.r.shape == (3, 5)
    assert trace.write.w.shape == (7, 3, 9) and trace.read.w_c.shape == (7, 3, 9)
    assert trace.M.shape == (7, 3, 9, 5) and trace.write_params.e.shape == (7, 3, 5)
    assert trace.read_params.e is None
    assert torch.allclose(trace.write.w.sum(-1), torch.ones(7, 3))
    assert torch.equal(trace.M[-1], state.M) and not trace.M.requires_grad
    y_again, _ = model(x)
    assert torch.equal(y, y_again)
    y_cont, _ = model(x[4:], state=model(x[:4])[1])  # carrying the state = one long run
    assert torch.allclose(y_cont, y[4:], atol=1e-6)


def test_models_are_deterministic_given_the_seed():
    first, second = build_model(TINY), build_model(TINY)  # different weights...
    set_seed(3)
    a = build_model(TINY)
    set_seed(3)
    b = build_model(TINY)
    x = copy_batch(2, 3, n_bits=4, seed=0).x
    assert torch.equal(a(x)[0], b(x)[0]) and not torch.equal(first(x)[0], second(x)[0])
    lstm = build_model(CopyRecipe(model="lstm", hidden_size=8, n_bits=4))
    assert lstm(x)[0].shape == (8, 2, 4) and n_weights(lstm) == 4 * 8 * (6 + 8 + 2) + 9 * 4


# ----- the copy task -----


def test_copy_batches_are_time_major_seeded_and_unpadded():
    batches = CopyBatches(5, batch_size=3, min_len=2, max_len=4, n_bits=4, seed=1)
    b = batches[2]
    L = int(batches.lengths[2])
    assert b.x.shape == (2 * L + 2, 3, 6) and b.y.shape == (2 * L + 2, 3, 4)
    assert b.mask.sum().item() == 3 * L and torch.equal(b.y[L + 2 :], b.x[1 : L + 1, :, :4])
    again = CopyBatches(5, batch_size=3, min_len=2, max_len=4, n_bits=4, seed=1)
    assert all(torch.equal(p.x, q.x) for p, q in zip(batches, again, strict=True))
    assert len(list(batches)) == 5 and set(batches.lengths) <= {2, 3, 4}
    with pytest.raises(ValueError, match="min_len must be <= max_len"):
        CopyBatches(2, min_len=5, max_len=4)


def test_bit_errors_counts_wrong_bits_on_the_copy_steps_only():
    b = copy_batch(2, 3, n_bits=4, seed=0)
    perfect = 20 * (2 * b.y - 1)  # logits of the right sign everywhere
    assert bit_errors(perfect, b.y, b.mask).tolist() == [0.0, 0.0]
    wrong = perfect.clone()
    wrong[5, 0, :2] *= -1  # two bits of a copy step of sequence 0
    wrong[0, 1, :] *= -1  # a step outside the copy: not counted
    assert bit_errors(wrong, b.y, b.mask).tolist() == [2.0, 0.0]
    with pytest.raises(ValueError, match=r"mask \(T, B\)"):
        bit_errors(perfect, b.y, b.mask[:, :1])


# ----- training and checkpoints -----


def test_a_short_run_lowers_the_loss_and_is_reproducible(tmp_path):
    recipe = TINY.with_steps(60)
    model, history = train_copy(recipe, device="cpu", progress=False, out=tmp_path / "m.pt")
    assert np.mean(history.loss[-10:]) < np.mean(history.loss[:10]) - 0.02
    assert history.eval_steps == [20, 40, 60] and "bit_errors" in history.metrics
    _, again = train_copy(recipe, device="cpu", progress=False)
    assert again.loss == history.loss
    loaded, loaded_recipe, loaded_history = load_copy_model(tmp_path / "m.pt", device="cpu")
    assert loaded_recipe == recipe and loaded_history.loss == history.loss
    x = copy_batch(2, 3, n_bits=4, seed=9).x
    assert torch.equal(loaded(x)[0], model.eval()(x)[0])
    errors = errors_by_length(loaded, [1, 3], n_sequences=4, n_bits=4)
    assert set(errors) == {1, 3} and all(0 <= e <= 4 * L for L, e in errors.items())


def test_progress_log_writes_a_line_per_window(tmp_path):
    log = ProgressLog(tmp_path / "run.log", every=10, echo=False, header=["# a header"])
    train_copy(TINY.with_steps(20), device="cpu", progress=False, log=log)
    lines = (tmp_path / "run.log").read_text().splitlines()
    assert lines[0] == "# a header" and lines[1].startswith("step     10  loss ")
    assert "held-out" in lines[2] and lines[-1] == "20 steps done; 20 steps"


def test_copy_loss_returns_the_metric_fit_records():
    set_seed(0)
    model = build_model(TINY)
    loss, metrics = copy_loss(model, copy_batch(4, 2, n_bits=4, seed=0))
    assert loss.dim() == 0 and 0 <= metrics["bit_errors"].item() <= 8


# ----- the checkpoints shipped with the course -----


@pytest.mark.parametrize("name", ["ntm_copy", "lstm_copy"])
def test_shipped_checkpoints_load_and_copy_the_training_lengths(name):
    model, recipe, history = load_shipped(name, device="cpu")
    assert history.steps == recipe.steps and recipe.max_len >= 8
    assert errors_at_length(model, 5, n_sequences=32, seed=123) < 0.5
    with pytest.raises(FileNotFoundError, match="shipped"):
        load_shipped("gru_copy")
