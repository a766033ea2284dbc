"""Lecture 11's carry analysis, on the hand-wired adder whose carry unit is known (unit 2)."""

import numpy as np
import pytest
import torch

from lstm_course.analysis import carry as ca
from lstm_course.data import BinaryAddition
from lstm_course.experiments import binary_addition as ba
from lstm_course.models import SequenceModel


@pytest.fixture(scope="module")
def wired():
    model = ba.wired_adder()
    x = BinaryAddition(300, 12, seed=5).x.transpose(0, 1)  # (13, 300, 2)
    states, p = ca.hidden_states(model, x)
    return model, x, states, p


def test_carries_follow_the_ripple_rule_by_hand():
    # a = 3 (11), b = 1 (01), LSB first, one extra step: 3 + 1 = 4 = 100
    x = torch.tensor([[[1, 1]], [[1, 0]], [[0, 0]]])
    s, c = ca.carries(x)
    assert s[:, 0].tolist() == [0, 0, 1] and c[:, 0].tolist() == [1, 1, 0]


def test_carries_decode_to_the_sum():
    data = BinaryAddition(50, 10, seed=2)
    s, c = ca.carries(data.x.transpose(0, 1))
    assert np.array_equal(s, data.y.T.numpy().astype(np.int64))
    assert c[-1].sum() == 0  # the extra step never carries out
    assert s.shape == c.shape == (11, 50)


def test_wired_adder_adds_exactly_at_any_length():
    model = ba.wired_adder()
    assert ba.length_generalisation(model, (4, 30, 62), n=200) == {4: 1.0, 30: 1.0, 62: 1.0}
    sums, p = ba.add(model, [5, 2**40 + 3], [7, 2**40 - 1])
    assert sums.tolist() == [12, 2**41 + 2] and p.shape == (42, 2)


def test_the_carry_unit_of_the_wired_adder_is_unit_two(wired):
    _, x, states, p = wired
    s, c = ca.carries(x)
    assert states.shape == (13, 300, 3) and p.shape == (13, 300)
    assert np.array_equal(p > 0.5, s == 1)
    r = ca.carry_correlations(states, c)
    assert int(np.argmax(np.abs(r))) == 1 and r[1] > 0.999
    assert np.abs(r[[0, 2]]).max() < 0.6  # the others also fire with a carry, but not only then


def test_carry_direction_separates_the_carries(wired):
    _, x, states, _ = wired
    _, c = ca.carries(x)
    direction = ca.carry_direction(states, c)
    assert direction.accuracy == 1.0 and direction.separation > 5
    assert direction.w[1] == pytest.approx(2.0, abs=1e-3)  # h_2 goes from -1 to +1
    shuffled = np.random.default_rng(0).permutation(c.reshape(-1)).reshape(c.shape)
    chance = ca.carry_direction(states, shuffled)
    assert chance.accuracy < 0.8 and chance.separation < 1  # a random label has no direction


def test_flipping_the_carry_direction_moves_the_answer_by_the_carry(wired):
    model, x, states, _ = wired
    direction = ca.carry_direction(states, ca.carries(x)[1])
    for t in (0, 5, 10):
        assert ca.flip_success(model, x, t, direction) == 1.0
    # a push along another unit does not flip carries
    other = direction._replace(w=np.array([0.0, 0.0, 2.0]))
    assert ca.flip_success(model, x, 5, other) < 0.2
    p = ca.patch_carry(model, x, 5, np.zeros(3))  # no shift: the run is unchanged
    np.testing.assert_allclose(p, wired[3], atol=1e-12)


def test_principal_components_are_ordered_and_centred(wired):
    _, _, states, _ = wired
    projected, components, explained = ca.principal_components(states, k=2)
    assert projected.shape == (13 * 300, 2) and components.shape == (2, 3)
    assert explained[0] >= explained[1] > 0 and explained.sum() <= 1 + 1e-12
    np.testing.assert_allclose(projected.mean(0), 0, atol=1e-9)


def test_bad_arguments_raise_clear_errors(wired):
    model, x, states, _ = wired
    _, c = ca.carries(x)
    with pytest.raises(ValueError, match="x must be"):
        ca.carries(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="0s and 1s"):
        ca.carries(torch.full((3, 1, 2), 2))
    with pytest.raises(ValueError, match="states must be"):
        ca.carry_correlations(states, c[:-1])
    with pytest.raises(ValueError, match="both carries"):
        ca.carry_direction(states, np.zeros_like(c))
    with pytest.raises(ValueError, match="k must"):
        ca.principal_components(states, k=4)
    with pytest.raises(ValueError, match="t must"):
        ca.patch_carry(model, x, 12, np.zeros(3))
    with pytest.raises(ValueError, match="LSTM"):
        ca.patch_carry(SequenceModel("LSTM", 2, 4, 1, readout="all"), x, 2, np.zeros(4))
    with pytest.raises(ValueError, match="one forward recurrent layer"):
        ca.hidden_states(torch.nn.Linear(2, 1), x)
