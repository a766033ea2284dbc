"""From-scratch NumPy implementations: explicit forward, hand-written backward.

Time-major shapes (X is (T, B, D)), row-vector maths (x_t @ W_x), gates stacked in torch.nn's
order (LSTM i, f, g, o; GRU r, z, n). Every backward is checked against numeric gradients and
against torch autograd in tests/.
"""
