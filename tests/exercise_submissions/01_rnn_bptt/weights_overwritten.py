# ruff: noqa: F821
# answer: rnn_backward
# fails: test_rnn_backward
# message: dW_x holds only the gradient of step t=0, the last one the backward loop visits
def rnn_backward(dH_all, cache, dh_T=None):
    T, B, H = dH_all.shape
    p = cache[0].p
    dX = np.empty((T, B, p["W_x"].shape[0]))
    dh_next = np.zeros((B, H)) if dh_T is None else dh_T
    for t in reversed(range(T)):
        dX[t], dh_next, grads = rnn_step_backward(dH_all[t] + dh_next, cache[t])  # overwritten
    return dX, dh_next, grads
