# ruff: noqa: F821
# answer: rnn_backward
# fails: test_rnn_backward
# message: The gradient from step t\+1 is not added
def rnn_backward(dH_all, cache, dh_T=None):
    T, B, H = dH_all.shape
    p = cache[0].p
    dX = np.empty((T, B, p["W_x"].shape[0]))
    grads = {key: np.zeros_like(value) for key, value in p.items()}
    dh_prev = np.zeros((B, H))
    for t in reversed(range(T)):
        dX[t], dh_prev, step_grads = rnn_step_backward(dH_all[t], cache[t])  # forgot dh_prev
        for key in grads:
            grads[key] += step_grads[key]
    return dX, dh_prev, grads
