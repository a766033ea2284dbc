# ruff: noqa: F821
# answer: lstm_step_backward
# fails: test_lstm_step_backward test_lstm_backward
# message: dc_prev is missing the forget gate
def lstm_step_backward(dh, dc, cache):
    x_t, h_prev, c_prev, i, f, g, o, tanh_c, p = cache
    do = dh * tanh_c
    dc_total = dc + dh * o * (1.0 - tanh_c**2)
    di, df, dg = dc_total * g, dc_total * c_prev, dc_total * i
    dc_prev = dc_total  # should be dc_total * f
    da = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )
    grads = {"W_x": x_t.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ p["W_x"].T, da @ p["W_h"].T, dc_prev, grads
