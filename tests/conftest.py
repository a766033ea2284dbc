"""Shared test settings: float64 everywhere, and hypothesis runs that are the same every time."""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# derandomize: the same examples on every run, so CI never turns red by chance.
settings.register_profile(
    "course",
    derandomize=True,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("course")


@pytest.fixture
def rng():
    """A fresh, seeded NumPy generator for each test.

    Hypothesis tests cannot use function-scoped fixtures: draw a ``seed`` strategy there and
    build ``np.random.default_rng(seed)`` in the test instead.
    """
    return np.random.default_rng(1234)
