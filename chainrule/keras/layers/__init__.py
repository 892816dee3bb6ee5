"""Keras layers: ``from chainrule.keras.layers import Dense``."""

from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .base import Layer
from .conv import Conv1D, Conv2D
from .core import Activation, Dense, Input, InputLayer, Lambda
from .embedding import Embedding
from .masking import Masking
from .merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from .regularization import ActivityRegularization, Dropout, GaussianNoise
from .reshaping import UpSampling2D, ZeroPadding2D
from .reshaping_core import Flatten, Reshape
from .rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
)
from .separable_conv import DepthwiseConv2D, SeparableConv2D
