"""History: aligned series, last/best, eval names kept apart, a plain-data round trip."""

import json
import math

import pytest

from lstm_course.train import History


def _history():
    history = History(clip_norm=1.0)
    history.record_step(3.0, 10.0, 0.1, {})
    history.record_step(2.0, 5.0, 0.2, {"acc": 0.5})  # a metric that starts late
    history.record_step(2.5, 4.0, 0.3, {"acc": 0.7})
    history.record_eval(2, {"val_loss": 2.2})
    history.record_eval(3, {"val_loss": 2.4, "val_acc": 0.6})
    return history


def test_series_stay_aligned_with_their_steps():
    history = _history()
    assert history.steps == 3 and history.wall_time == 0.3
    steps, acc = history.series("acc")
    assert steps == [1, 2, 3] and math.isnan(acc[0]) and acc[1:] == [0.5, 0.7]
    assert history.series("val_loss") == ([2, 3], [2.2, 2.4])
    steps, val_acc = history.series("val_acc")
    assert steps == [2, 3] and math.isnan(val_acc[0]) and val_acc[1] == 0.6
    with pytest.raises(KeyError, match="no series named 'val_los'"):
        history.series("val_los")


def test_last_and_best():
    history = _history()
    assert history.last("loss") == 2.5 and history.last("val_loss") == 2.4
    assert history.best("loss") == (2, 2.0)
    assert history.best("val_loss") == (2, 2.2)
    assert history.best("acc", mode="max") == (3, 0.7)  # NaN at step 1 is skipped
    with pytest.raises(ValueError, match="mode"):
        history.best("acc", mode="lowest")
    empty = History()
    with pytest.raises(ValueError, match="no value yet"):
        empty.last("loss")


def test_eval_names_must_differ_from_per_step_names():
    history = _history()
    with pytest.raises(ValueError, match="val_loss"):
        history.record_eval(3, {"loss": 1.0})
    with pytest.raises(ValueError, match="val_acc"):
        history.record_eval(3, {"acc": 1.0})
    with pytest.raises(ValueError, match="reserved"):
        history.record_step(1.0, 1.0, 0.4, {"grad_norm": 3.0})


def test_to_dict_is_plain_data_and_round_trips():
    history = _history()
    data = history.to_dict()
    json.loads(json.dumps(data))  # plain lists, floats, ints and strings only
    again = History.from_dict(data)
    assert again.series("acc")[1][1:] == history.series("acc")[1][1:]
    assert again.eval_steps == history.eval_steps and again.clip_norm == 1.0
    again.loss.append(9.0)
    assert history.loss == [3.0, 2.0, 2.5]  # no list is shared with the source
