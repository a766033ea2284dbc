# ruff: noqa: F821
# answer: rnn_step_forward
# fails: test_rnn_step_forward test_rnn_step_backward test_rnn_forward test_rnn_backward
# message: h looks like sigmoid\(a\), but the RNN's nonlinearity is tanh
class RNNStepCache(NamedTuple):
    x_t: np.ndarray
    h_prev: np.ndarray
    h: np.ndarray
    p: dict


def rnn_step_forward(x_t, h_prev, p):
    a = x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"]
    h = 1.0 / (1.0 + np.exp(-a))
    return h, RNNStepCache(x_t, h_prev, h, p)
