"""gradcheck.py: the checker itself, on functions whose gradients we know in closed form."""

import numpy as np
import pytest

from lstm_course.scratch.gradcheck import (
    max_abs_error,
    numeric_gradient,
    numeric_gradient_sparse,
    rel_error,
)


def test_numeric_gradient_of_sum_of_cubes(rng):
    x = rng.normal(size=(3, 4))
    grad = numeric_gradient(lambda: np.sum(x**3), x)
    assert grad.shape == x.shape
    assert rel_error(grad, 3 * x**2) < 1e-9


def test_numeric_gradient_of_matrix_product_with_upstream_gradient(rng):
    # f(x) = x A, L = sum(f * df): dL/dx = df A^T and dL/dA = x^T df
    x, A = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    df = rng.normal(size=(4, 5))
    assert rel_error(numeric_gradient(lambda: x @ A, x, df), df @ A.T) < 1e-9
    assert rel_error(numeric_gradient(lambda: x @ A, A, df), x.T @ df) < 1e-9


def test_numeric_gradient_restores_x_exactly(rng):
    x = rng.normal(size=(2, 3, 2))
    before = x.copy()
    numeric_gradient(lambda: np.sum(np.sin(x)), x)
    np.testing.assert_array_equal(x, before)


def test_numeric_gradient_rejects_integer_x():
    with pytest.raises(TypeError, match="x must be a floating-point array, got dtype int64"):
        numeric_gradient(lambda: 0.0, np.zeros(3, dtype=np.int64))


def test_rel_error_zero_for_equal_arrays_and_symmetric(rng):
    x, y = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    assert rel_error(x, x.copy()) == 0.0
    assert rel_error(np.zeros(4), np.zeros(4)) == 0.0  # no 0 / 0
    assert rel_error(x, y) == rel_error(y, x)
    assert rel_error(x, -x) == 1.0  # the largest it can be
    assert rel_error(x, x * (1 + 1e-6)) == pytest.approx(0.5e-6, rel=1e-6)


def test_rel_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"x has shape \(3,\) but y has shape \(3, 1\)"):
        rel_error(np.zeros(3), np.zeros((3, 1)))  # would broadcast to (3, 3)


def test_numeric_gradient_sparse_detects_a_wrong_gradient(rng):
    x = rng.normal(size=(20, 20))
    f = lambda: np.sum(x**3)  # noqa: E731
    right = 3 * x**2
    err, rows = numeric_gradient_sparse(f, x, right, num_checks=10)
    assert err < 1e-8
    assert len(rows) == 10
    for index, numeric, analytic in rows:
        assert analytic == right[index]
        assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-9)
    wrong = 2 * x**2  # a classic slip: the wrong power-rule factor
    err_wrong, _ = numeric_gradient_sparse(f, x, wrong, num_checks=10)
    assert err_wrong > 0.1


def test_numeric_gradient_sparse_restores_x_and_checks_shapes(rng):
    x = rng.normal(size=(5, 4))
    before = x.copy()
    numeric_gradient_sparse(lambda: np.sum(x**2), x, 2 * x, num_checks=5)
    np.testing.assert_array_equal(x, before)
    with pytest.raises(ValueError, match=r"analytic must have x's shape \(5, 4\), got \(4, 5\)"):
        numeric_gradient_sparse(lambda: np.sum(x**2), x, np.zeros((4, 5)))


def test_max_abs_error_finds_a_planted_error(rng):
    x = rng.normal(size=(4, 5, 3))
    y = x + rng.uniform(-1e-9, 1e-9, size=x.shape)
    y[2, 4, 1] += 0.25
    err, index = max_abs_error(x, y)
    assert index == (2, 4, 1)
    assert err == pytest.approx(0.25, abs=1e-8)
    assert max_abs_error(x, x) == (0.0, (0, 0, 0))


def test_numeric_gradient_rejects_a_df_of_the_wrong_shape():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"df must have f's output shape \(2, 3\), got \(3,\)"):
        numeric_gradient(lambda: x * 2.0, x, df=np.ones(3))


def test_numeric_gradient_sparse_checks_distinct_entries_and_floats():
    x = np.arange(3.0)
    _, rows = numeric_gradient_sparse(lambda: np.sum(x**2), x, 2 * x, num_checks=10)
    assert sorted(index for index, _, _ in rows) == [(0,), (1,), (2,)]
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        numeric_gradient_sparse(lambda: 0.0, np.arange(3), np.zeros(3))


def test_max_abs_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="max_abs_error: x has shape"):
        max_abs_error(np.zeros(3), np.zeros((3, 1)))
