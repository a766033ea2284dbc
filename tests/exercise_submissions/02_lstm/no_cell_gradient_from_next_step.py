# ruff: noqa: F821
# answer: lstm_backward
# fails: test_lstm_backward
# message: The cell gradient does not flow back
def lstm_backward(dH_all, cache, dstate_T=None):
    T, B, H = dH_all.shape
    p = cache[0].p
    dX = np.empty((T, B, p["W_x"].shape[0]))
    grads = {key: np.zeros_like(value) for key, value in p.items()}
    dh_next, dc_next = (np.zeros((B, H)), np.zeros((B, H))) if dstate_T is None else dstate_T
    for t in reversed(range(T)):
        # dc of step t should be the dc_prev of step t + 1, not zeros
        dX[t], dh_next, dc_next, step_grads = lstm_step_backward(
            dH_all[t] + dh_next, np.zeros((B, H)), cache[t]
        )
        for key in grads:
            grads[key] += step_grads[key]
    return dX, (dh_next, dc_next), grads
