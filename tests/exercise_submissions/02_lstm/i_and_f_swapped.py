# ruff: noqa: F821
# answer: lstm_step_forward
# fails: test_lstm_step_forward test_lstm_step_backward test_lstm_forward test_lstm_backward
# message: The input gate i and the forget gate f are swapped
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
    a = x_t @ p["W_x"] + h_prev @ p["W_h"] + p["b"]
    a_f, a_i, a_g, a_o = np.split(a, 4, axis=1)  # f and i read from each other's columns
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)
    g = np.tanh(a_g)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    return o * tanh_c, c, LSTMStepCache(x_t, h_prev, c_prev, i, f, g, o, tanh_c, p)
