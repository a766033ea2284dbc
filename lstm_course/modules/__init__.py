"""PyTorch implementations that spell out the lecture equations and replace torch.nn's.

``RNN``, ``LSTM``, ``GRU`` and their cells take torch.nn's arguments and state_dict keys, so
``ours.load_state_dict(theirs.state_dict())`` works both ways; attention modules follow
Bahdanau et al. (2015) and Luong et al. (2015). Importing this package imports torch.
"""

from lstm_course.modules.attention import AdditiveAttention, LuongAttention
from lstm_course.modules.cells import GRUCell, LSTMCell, RNNCell
from lstm_course.modules.recurrent import GRU, LSTM, RNN

__all__ = [
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "AdditiveAttention",
    "LuongAttention",
]
