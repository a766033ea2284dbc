# ruff: noqa: F821
# answer: rnn_step_backward
# fails: test_rnn_step_backward test_rnn_backward
# message: tanh's derivative is missing
def rnn_step_backward(dh, cache):
    x_t, h_prev, h, p = cache
    da = dh  # should be dh * (1 - h**2)
    grads = {"W_x": x_t.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ p["W_x"].T, da @ p["W_h"].T, grads
