"""Automatic names that depend on what other layers and models made before: the attention
layers' inner Dropout and a Sequential model's build take names as in Keras 3, so the layers
and models made after them are named as there.

Expected names are real Keras 3.15.1's (JAX backend), each from the same steps in a fresh
process (here after ``keras.backend.clear_session()``).
"""

import numpy as np

import chainrule.keras as keras
from chainrule.keras import layers


def test_multi_head_attention_makes_its_dropout_at_build_whatever_the_rate():
    # Keras: MultiHeadAttention(num_heads=2, key_dim=4) names nothing until built; built, it
    # has made a Dropout (rate 0): the next ones are dropout_1, then dropout_2
    keras.backend.clear_session()
    attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    assert layers.Dropout(0.1).name == "dropout"
    query = keras.Input((3, 4))
    attention(query, query)
    assert layers.Dropout(0.1).name == "dropout_2"
    keras.backend.clear_session()
    layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.2)(query, query)
    assert layers.Dropout(0.1).name == "dropout_1"


def test_grouped_query_attention_makes_its_dropout_at_build():
    # Keras: GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1) built
    # on (3, 4) inputs, then Dropout(0.1) is dropout_1
    keras.backend.clear_session()
    query = keras.Input((3, 4))
    layers.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)(query, query)
    assert layers.Dropout(0.1).name == "dropout_1"


def test_attention_layers_have_no_dropout_layer_and_still_drop_in_training():
    # Keras: Attention(dropout=0.2) and AdditiveAttention(dropout=0.2), called, then
    # Dropout(0.1) is dropout (they draw their dropout without a Dropout layer)
    keras.backend.clear_session()
    query = keras.Input((3, 4))
    layers.Attention(dropout=0.2)([query, query])
    layers.AdditiveAttention(dropout=0.2)([query, query])
    assert layers.Dropout(0.1).name == "dropout"
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    runs = [layers.Attention(dropout=0.5, seed=7)([x, x], training=True).numpy() for _ in "ab"]
    np.testing.assert_array_equal(runs[0], runs[1])  # the seed fixes the dropped weights
    inference = layers.Attention(dropout=0.5, seed=7)([x, x]).numpy()
    assert not np.allclose(runs[0], inference)


def test_building_a_sequential_model_takes_a_functional_name():
    # Keras: Sequential([Dense(2)]) is "sequential"; a functional model made after it is
    # "functional_1" once the Sequential model was built (by an Input, build, or a call on
    # data or on a symbolic input), and each build takes another name
    keras.backend.clear_session()
    stack = keras.Sequential([layers.Dense(2)])
    i = keras.Input((3,))
    assert keras.Model(i, i).name == "functional"
    output = stack(i)
    assert stack.name == "sequential"
    assert keras.Model(i, output).name == "functional_2"
    stack.build((None, 3))
    assert keras.Model(i, i).name == "functional_4"
    keras.Sequential([layers.Dense(2)])(np.ones((1, 3), "float32"))
    assert keras.Model(i, i).name == "functional_6"
    empty = keras.Sequential()
    empty.add(keras.Input((3,)))  # no layers yet: nothing built, no name taken
    assert keras.Model(i, i).name == "functional_7"
    empty.add(layers.Dense(2))
    assert keras.Model(i, i).name == "functional_9"
