# ruff: noqa: F821
# answer: rnn_backward
# fails: test_rnn_backward
# message: rnn_backward changed its input dH_all in place
def rnn_backward(dH_all, cache, dh_T=None):
    T, B, H = dH_all.shape
    p = cache[0].p
    dX = np.empty((T, B, p["W_x"].shape[0]))
    grads = {key: np.zeros_like(value) for key, value in p.items()}
    dh_next = np.zeros((B, H)) if dh_T is None else dh_T
    for t in reversed(range(T)):
        dh = dH_all[t]  # a view into dH_all ...
        dh += dh_next  # ... so this writes into the caller's array
        dX[t], dh_next, step_grads = rnn_step_backward(dh, cache[t])
        for key in grads:
            grads[key] += step_grads[key]
    return dX, dh_next, grads
