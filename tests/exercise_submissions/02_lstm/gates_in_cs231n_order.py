# ruff: noqa: F821
# answer: lstm_step_forward
# fails: test_lstm_step_forward test_lstm_step_backward test_lstm_forward test_lstm_backward
# message: The gate blocks are read in the order i, f, o, g
class LSTMStepCache(NamedTuple):
    x_t: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    tanh_c: np.ndarray
    p: dict


def lstm_step_forward(x_t, h_prev, c_prev, p):
    H = h_prev.shape[1]
    a = x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"]
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    o = sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    return o * tanh_c, c, LSTMStepCache(x_t, h_prev, c_prev, i, f, g, o, tanh_c, p)
