"""Attention layers, EinsumDense and Dot: Keras 3's weights (names, shapes, order), configs,
masks, values equal to real Keras's on fixed weights, and gradients against finite differences;
and the keras-io text-classification transformer block trained end to end.

The expected values were recorded with Keras 3.15.1 on JAX (KERAS_BACKEND=jax), with the same
helpers as below (``fill`` sets every weight, in ``layer.weights`` order, to
0.5 * default_rng(seed).standard_normal(shape); ``data`` draws the inputs) and stored as a
fingerprint of each output: (shape, sum, sum of y.ravel() * cos(arange(size)), first 4 values).
The script (a fragment per case)::

    q, v = data(1, 2, 3, 4), data(2, 2, 4, 5)
    vmask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    m = L.MultiHeadAttention(num_heads=2, key_dim=3); m(q, v); fill(m, 3)
    rec("mha_value_mask", m(q, v, value_mask=vmask))
    y, s = m(q, v, value_mask=vmask, use_causal_mask=True, return_attention_scores=True)
    rec("mha_causal_out", y); rec("mha_causal_scores", s)
    m2 = L.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3, output_shape=6,
                              use_bias=False)
    m2(q, v, data(4, 2, 4, 3), return_attention_scores=True); fill(m2, 5)
    rec("mha_key_outshape", m2(q, v, data(4, 2, 4, 3), return_attention_scores=True)[0])
    g = L.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    g(q, v); fill(g, 6); rec("gqa", g(q, v))
    rec("gqa_scores", g(q, v, return_attention_scores=True)[1])
    m3 = L.MultiHeadAttention(num_heads=2, key_dim=2, use_gate=True, sliding_window=2)
    m3(q, q); fill(m3, 12); rec("mha_gate_window", m3(q, q))
    x4 = data(13, 2, 2, 3, 4)
    m4 = L.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(1, 2))
    m4(x4, x4); fill(m4, 14); rec("mha_axes12", m4(x4, x4))
    qa, va = data(7, 2, 3, 4), data(8, 2, 4, 4)
    qmask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    a = L.Attention(use_scale=True); a([qa, va]); fill(a, 9)
    rec("att_dot", a([qa, va], mask=[qmask, vmask], use_causal_mask=True))
    a2 = L.Attention(score_mode="concat", use_scale=True); a2([qa, va]); fill(a2, 10)
    y, s = a2([qa, va, va * 2], return_attention_scores=True)
    rec("att_concat", y); rec("att_concat_scores", s)
    ad = L.AdditiveAttention(); ad([qa, va]); fill(ad, 11)
    rec("additive", ad([qa, va], mask=[None, vmask]))
    e = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    e(q); fill(e, 20); rec("einsum_abc", e(q))
    e2 = L.EinsumDense("...b,bc->...c", output_shape=3, bias_axes="c", activation="relu")
    e2(q); fill(e2, 21); rec("einsum_left", e2(q))
    e3 = L.EinsumDense("ab...,bc->ac...", output_shape=(3,), bias_axes="c")
    e3(q); fill(e3, 22); rec("einsum_right", e3(q))
    x1, x2 = data(40, 2, 3, 4), data(41, 2, 4, 3)
    rec("dot_12", L.Dot(axes=(1, 2))([x1, x2]))
    rec("dot_norm", L.Dot(axes=-1, normalize=True)([x1, data(42, 2, 5, 4)]))
    rec("dot_vec", L.Dot(axes=1)([data(43, 2, 4), data(44, 2, 4)]))
"""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.saving.serialization import deserialize_keras_object, layer_config

KERAS = {
    "mha_value_mask": ((2, 3, 4), 28.8858, -2.7107, [-0.50821, 1.25998, 1.30398, 3.07798]),
    "mha_causal_out": ((2, 3, 4), 29.1796, -3.791, [-1.23155, 3.4825, 0.51712, 4.87688]),
    "mha_causal_scores": ((2, 2, 3, 4), 12.0, -0.111, [1.0, 0.0, 0.0, 0.0]),
    "mha_key_outshape": ((2, 3, 6), 2.4111, -4.0603, [-0.0216, -0.30349, 0.04902, 0.4194]),
    "gqa": ((2, 3, 4), 10.7891, -0.0482, [1.02285, 0.93964, 0.37543, 0.14037]),
    "gqa_scores": ((2, 4, 3, 4), 24.0, 0.4598, [0.21171, 0.08455, 0.28979, 0.41394]),
    "mha_gate_window": ((2, 3, 4), 3.2572, 0.662, [-0.00341, 0.99326, -0.23538, -0.34058]),
    "mha_axes12": ((2, 2, 3, 4), -6.742, -0.204, [0.11733, -0.94972, -0.54886, -0.21864]),
    "att_dot": ((2, 3, 4), -8.6576, -0.5747, [-1.73827, -1.33664, -1.36111, -0.35162]),
    "att_concat": ((2, 3, 4), 2.2772, 0.0269, [0.29449, 1.03452, -0.10938, 0.29094]),
    "att_concat_scores": ((2, 3, 4), 6.0, -0.1187, [0.06569, 0.13801, 0.44516, 0.35113]),
    "additive": ((2, 3, 4), 4.2838, 0.1724, [0.1832, 0.87589, 0.28884, 0.06333]),
    "einsum_abc": ((2, 3, 2, 3), -13.0106, -2.2242, [0.8227, -1.4613, -0.14084, -0.86624]),
    "einsum_left": ((2, 3, 3), 4.7028, -0.6038, [0.0, 0.0, 0.0, 0.1493]),
    "einsum_right": ((2, 3, 4), 8.0743, -2.7192, [-0.70177, -0.92477, -0.40079, 0.6373]),
    "dot_12": ((2, 4, 4), -4.5008, 2.302, [1.13578, -0.21206, 2.35428, 1.14931]),
    "dot_norm": ((2, 3, 5), 1.9779, 2.0343, [0.29853, 0.72827, 0.31299, -0.80839]),
    "dot_vec": ((2, 1), -2.0966, -1.5012, [-0.80147, -1.29516]),
}


def fill(layer, seed):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [(rng.standard_normal(w.shape) * 0.5).astype("float32") for w in layer.weights]
    )


def data(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def check(name, y):
    """y against the fingerprint of Keras's output ``name``."""
    shape, total, weighted, first = KERAS[name]
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y, dtype=np.float64)
    assert y.shape == shape
    flat = y.ravel()
    assert flat.sum() == pytest.approx(total, abs=2e-3)
    assert (flat * np.cos(np.arange(flat.size))).sum() == pytest.approx(weighted, abs=2e-3)
    np.testing.assert_allclose(flat[: len(first)], first, atol=2e-5)


Q, V = data(1, 2, 3, 4), data(2, 2, 4, 5)
VMASK = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)


def test_multi_head_attention_weights_and_config_as_keras():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    assert layer(Q, V).shape == (2, 3, 4)
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("kernel", (4, 2, 3)),
        ("bias", (2, 3)),
        ("kernel", (5, 2, 3)),
        ("bias", (2, 3)),
        ("kernel", (5, 2, 3)),
        ("bias", (2, 3)),
        ("kernel", (2, 3, 4)),
        ("bias", (4,)),
    ]
    assert [sub.name for sub in (layer.query_dense, layer.key_dense, layer.value_dense)] == [
        "query",
        "key",
        "value",
    ]
    assert layer.output_dense.name == "attention_output"
    config = layer.get_config()
    for key, value in {
        "num_heads": 2,
        "key_dim": 3,
        "value_dim": 3,
        "dropout": 0.0,
        "use_bias": True,
        "use_gate": False,
        "output_shape": None,
        "attention_axes": (1,),
        "sliding_window": None,
        "seed": None,
    }.items():
        assert config[key] == value, key
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    clone = layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    saved = deserialize_keras_object(layer_config(layer))
    assert isinstance(saved, layers.MultiHeadAttention) and saved.key_dim == 3
    # unseeded projections draw different kernels, as in Keras
    kernels = [w.numpy() for w in layer.weights[2:5:2]]
    assert not np.allclose(kernels[0], kernels[1])


def test_multi_head_attention_values_equal_keras():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    layer(Q, V)
    fill(layer, 3)
    check("mha_value_mask", layer(Q, V, value_mask=VMASK))
    y, scores = layer(Q, V, value_mask=VMASK, use_causal_mask=True, return_attention_scores=True)
    check("mha_causal_out", y)
    check("mha_causal_scores", scores)
    key = data(4, 2, 4, 3)
    other = layers.MultiHeadAttention(
        num_heads=2, key_dim=2, value_dim=3, output_shape=6, use_bias=False
    )
    other(Q, V, key)
    assert [w.shape for w in other.weights] == [(4, 2, 2), (3, 2, 2), (5, 2, 3), (2, 3, 6)]
    fill(other, 5)
    check("mha_key_outshape", other(Q, V, key))
    gated = layers.MultiHeadAttention(num_heads=2, key_dim=2, use_gate=True, sliding_window=2)
    gated(Q, Q)
    fill(gated, 12)
    check("mha_gate_window", gated(Q, Q))
    x4 = data(13, 2, 2, 3, 4)
    grid = layers.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(1, 2))
    grid(x4, x4)
    fill(grid, 14)
    check("mha_axes12", grid(x4, x4))


def test_grouped_query_attention_equals_keras():
    layer = layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    layer(Q, V)
    assert [w.shape for w in layer.weights] == [
        (4, 4, 2),
        (4, 2),
        (5, 2, 2),
        (2, 2),
        (5, 2, 2),
        (2, 2),
        (4, 2, 4),
        (4,),
    ]
    fill(layer, 6)
    check("gqa", layer(Q, V))
    check("gqa_scores", layer(Q, V, return_attention_scores=True)[1])
    config = layer.get_config()
    assert (config["head_dim"], config["num_query_heads"], config["num_key_value_heads"]) == (
        2,
        4,
        2,
    )
    assert "num_heads" not in config
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupQueryAttention(head_dim=2, num_query_heads=3, num_key_value_heads=2)


def test_multi_head_attention_masks_follow_their_definitions():
    layer = layers.MultiHeadAttention(num_heads=1, key_dim=2, dropout=0.5)
    _, scores = layer(Q, V, value_mask=VMASK, return_attention_scores=True)
    scores = scores.numpy()
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-6)
    assert np.all(scores[0, :, :, 3] == 0) and np.all(scores[1, :, :, 2:] == 0)
    attention_mask = np.ones((2, 3, 4), bool)
    attention_mask[:, 1] = False  # query 1 sees nothing: its weights are all 0 (Keras's Softmax)
    _, scores = layer(Q, V, attention_mask=attention_mask, return_attention_scores=True)
    assert np.all(scores.numpy()[:, :, 1] == 0)
    query_mask = np.array([[1, 0, 1], [1, 1, 1]], bool)
    _, scores = layer(Q, V, query_mask=query_mask, return_attention_scores=True)
    assert np.all(scores.numpy()[0, :, 1] == 0)
    # dropout acts in training only, on the weights
    y1 = layer(Q, V, training=True).numpy()
    assert not np.allclose(y1, layer(Q, V).numpy())


def test_multi_head_attention_gradients_match_finite_differences():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, dtype="float64")
    q, v = Q.astype(np.float64), V.astype(np.float64)
    layer(q, v)
    dense = [layer.query_dense, layer.key_dense, layer.value_dense, layer.output_dense]
    weights = [w.numpy() for w in layer.weights]

    def fn(q, v, *weights):
        for i, sub in enumerate(dense):
            sub.kernel, sub.bias = weights[2 * i], weights[2 * i + 1]
        return layer(q, v, value_mask=VMASK, use_causal_mask=True)

    assert cr.gradcheck(fn, q, v, *weights, atol=1e-6, rtol=1e-5) < 1e-4


def test_attention_and_additive_attention_equal_keras():
    qa, va = data(7, 2, 3, 4), data(8, 2, 4, 4)
    qmask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    layer = layers.Attention(use_scale=True)
    layer([qa, va])
    assert [(w.name, w.shape) for w in layer.weights] == [("scale", ())]
    fill(layer, 9)
    y = layer([qa, va], mask=[qmask, VMASK], use_causal_mask=True)
    check("att_dot", y)
    assert np.all(y.numpy()[0, 2] == 0)  # a masked query gives zeros
    concat = layers.Attention(score_mode="concat", use_scale=True)
    concat([qa, va])
    assert [w.name for w in concat.weights] == ["scale", "concat_score_weight"]
    fill(concat, 10)
    y, scores = concat([qa, va, va * 2], return_attention_scores=True)
    check("att_concat", y)
    check("att_concat_scores", scores)
    additive = layers.AdditiveAttention()
    additive([qa, va])
    assert [(w.name, w.shape) for w in additive.weights] == [("scale", (4,))]
    fill(additive, 11)
    check("additive", additive([qa, va], mask=[None, VMASK]))
    assert layers.Attention().get_config() | {"name": None} == {
        "name": None,
        "trainable": True,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": "float32"},
            "registered_name": None,
        },
        "use_scale": False,
        "score_mode": "dot",
        "dropout": 0.0,
        "seed": None,
    }
    assert "score_mode" not in additive.get_config()
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(qa)
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="cosine")


@pytest.mark.parametrize("score_mode", ["dot", "concat"])
def test_attention_gradients_match_finite_differences(score_mode):
    layer = layers.Attention(use_scale=True, score_mode=score_mode, dtype="float64")
    q, v = data(7, 2, 3, 4).astype(np.float64), data(8, 2, 4, 4).astype(np.float64)
    layer([q, v])
    weights = [w.numpy() + 0.3 for w in layer.weights]

    def fn(q, v, *weights):
        layer.scale = weights[0]
        if score_mode == "concat":
            layer.concat_score_weight = weights[1]
        return layer([q, v], mask=[None, VMASK], use_causal_mask=True)

    assert cr.gradcheck(fn, q, v, *weights, atol=1e-6, rtol=1e-5) < 1e-4

    additive = layers.AdditiveAttention(dtype="float64")
    additive([q, v])

    def additive_fn(q, v, scale):
        additive.scale = scale
        return additive([q, v, v * 0.5], mask=[None, VMASK])

    assert cr.gradcheck(additive_fn, q, v, additive.scale.numpy()) < 1e-4


def test_einsum_dense_equals_keras():
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    layer(Q)
    assert [(w.name, w.shape) for w in layer.weights] == [("kernel", (4, 2, 3)), ("bias", (2, 3))]
    fill(layer, 20)
    check("einsum_abc", layer(Q))
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 2, 3)
    left = layers.EinsumDense("...b,bc->...c", output_shape=3, bias_axes="c", activation="relu")
    left(Q)
    fill(left, 21)
    check("einsum_left", left(Q))
    right = layers.EinsumDense("ab...,bc->ac...", output_shape=(3,), bias_axes="c")
    right(Q)
    assert [w.shape for w in right.weights] == [(3, 3), (3, 1)]
    fill(right, 22)
    check("einsum_right", right(Q))
    config = layer.get_config()
    assert (config["equation"], config["output_shape"], config["bias_axes"]) == (
        "abc,cde->abde",
        (None, 2, 3),
        "de",
    )
    assert config["activation"] == "linear"
    with pytest.raises(ValueError, match="invalid einsum equation"):
        layers.EinsumDense("ab,bc", output_shape=3).build((None, 4))
    with pytest.raises(ValueError, match="Bias dimension|bias dimension"):
        layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="x").build((None, 4))


def test_einsum_dense_kernel_fans_use_the_equation_axes():
    # Keras sets the initializer's input_axes/output_axes: fan_in = C, fan_out = N H (not the
    # receptive-field rule), so glorot_uniform's limit is sqrt(6 / (C + N H)).
    layer = layers.EinsumDense("abc,cnh->abnh", output_shape=(None, 50, 40))
    layer.build((None, 3, 10))
    limit = np.sqrt(6.0 / (10 + 50 * 40))
    kernel = layer.kernel.numpy()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit


def test_einsum_dense_gradients_match_finite_differences():
    layer = layers.EinsumDense(
        "abc,cde->abde",
        output_shape=(None, 2, 3),
        bias_axes="e",
        activation="tanh",
        dtype="float64",
    )
    x = data(23, 2, 3, 4).astype(np.float64)
    layer(x)

    def fn(x, kernel, bias):
        layer.kernel, layer.bias = kernel, bias
        return layer(x)

    assert cr.gradcheck(fn, x, layer.kernel.numpy(), layer.bias.numpy() + 0.1) < 1e-4


def test_dot_equals_keras_and_has_gradients():
    x1, x2 = data(40, 2, 3, 4), data(41, 2, 4, 3)
    check("dot_12", layers.Dot(axes=(1, 2))([x1, x2]))
    check("dot_norm", layers.Dot(axes=-1, normalize=True)([x1, data(42, 2, 5, 4)]))
    check("dot_vec", layers.dot([data(43, 2, 4), data(44, 2, 4)], axes=1))
    layer = layers.Dot(axes=(1, 2), normalize=True, dtype="float64")
    assert layer.compute_output_shape([(None, 3, 4), (None, 4, 3)]) == (None, 4, 4)
    assert layer.get_config()["axes"] == (1, 2) and layer.get_config()["normalize"] is True
    with pytest.raises(ValueError, match="Incompatible|incompatible"):
        layers.Dot(axes=1)([x1, x2])
    assert cr.gradcheck(lambda a, b: layer([a, b]), x1.astype(float), x2.astype(float)) < 1e-4


class TransformerBlock(layers.Layer):
    """The keras-io text-classification transformer block
    (examples/nlp/text_classification_with_transformer.py), unchanged but for the imports."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


def test_transformer_text_classifier_trains():
    keras.utils.set_random_seed(0)
    # The token-and-position embedding is stood in for by a Dense on one-hot tokens plus a
    # learned position table (a Dense on a fixed one-hot of the positions).
    maxlen, vocab, embed_dim = 8, 12, 16
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab, size=(128, maxlen))
    labels = (tokens == 3).any(axis=1).astype("int32")  # does the text contain token 3?
    onehot = np.eye(vocab, dtype="float32")[tokens]
    inputs = layers.Input(shape=(maxlen, vocab))
    x = layers.Dense(embed_dim, use_bias=False)(inputs)
    x = TransformerBlock(embed_dim, num_heads=2, ff_dim=32)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    before = model.evaluate(onehot, labels, verbose=0)[0]
    history = model.fit(onehot, labels, batch_size=32, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.5 * before
    assert history.history["accuracy"][-1] > 0.9


def test_multi_head_attention_in_a_functional_model_reads_both_inputs():
    query = layers.Input(shape=(3, 4))
    value = layers.Input(shape=(5, 6))
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    y = layer(query, value)
    assert y.shape == (None, 3, 4)
    model = keras.Model([query, value], y)
    q, v = data(50, 2, 3, 4), data(51, 2, 5, 6)
    np.testing.assert_allclose(model([q, v]).numpy(), layer(q, v).numpy(), rtol=1e-6)


def test_multi_input_layers_round_trip_through_their_keras_descriptions():
    # (a Functional model cannot be written to a .keras file yet; each layer's description is
    # what such a file holds)
    examples = [
        layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, dropout=0.1, seed=4),
        layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2),
        layers.Attention(use_scale=True, score_mode="concat"),
        layers.AdditiveAttention(use_scale=False, dropout=0.2),
        layers.Dot(axes=(2, 2), normalize=True),
        layers.Add(),
        layers.Concatenate(axis=1),
    ]
    for layer in examples:
        description = json.loads(json.dumps(layer_config(layer)))
        rebuilt = deserialize_keras_object(description)
        assert type(rebuilt) is type(layer)
        assert rebuilt.get_config() == layer.get_config()


def test_bad_calls_get_clear_errors():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match="needs a query and a value"):
        layer(Q)
    layer(Q, V)
    with pytest.raises(ValueError, match=r"the query was built with 4 features"):
        layer(data(0, 2, 3, 5), V)
    with pytest.raises(ValueError, match=r"key and value must have the same shape"):
        layer(Q, V, data(0, 2, 6, 5))
    with pytest.raises(ValueError, match=r"must broadcast to .* = \(2, 3, 4\).*attention_mask"):
        layer(Q, V, attention_mask=np.ones((2, 3, 5), bool))
    with pytest.raises(ValueError, match="`num_heads` must be a positive integer"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="query and key must have the same last axis"):
        layers.Attention()([Q, data(0, 2, 4, 3)])
