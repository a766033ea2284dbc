# ruff: noqa: F821
# answer: lstm_forward
# fails: test_lstm_forward test_lstm_backward
# message: the final state is the tuple \(h_T, c_T\), in that order
def lstm_forward(X, state0, p):
    T, B, _ = X.shape
    H = p["W_h"].shape[0]
    h, c = (np.zeros((B, H)), np.zeros((B, H))) if state0 is None else state0
    H_all = np.empty((T, B, H))
    cache = []
    for t in range(T):
        h, c, step_cache = lstm_step_forward(X[t], h, c, p)
        H_all[t] = h
        cache.append(step_cache)
    return H_all, (c, h), cache
