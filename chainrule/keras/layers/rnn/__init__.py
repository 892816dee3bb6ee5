"""Recurrent layers: the generic RNN over a cell, SimpleRNN, LSTM, GRU and their cells, and the
Bidirectional and TimeDistributed wrappers."""

from .cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .rnn import GRU, LSTM, RNN, SimpleRNN
from .wrappers import Bidirectional, TimeDistributed
