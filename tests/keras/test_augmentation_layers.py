"""Tests for the image augmentation layers (RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomCrop, RandomContrast, RandomBrightness).

Parity: tests/fixtures/augmentation/make_fixtures.py (Keras 3.15.1 on JAX) saved, per case, a
transformation Keras drew and the images it produced from it; chainrule's ``transform_images``
replays the same transformation on the same images.
"""

import glob
import json
import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.keras import layers
from chainrule.keras.layers.preprocessing.augmentation import factor_range
from chainrule.keras.layers.preprocessing.geometric import rotation_matrix
from chainrule.tf.data import Dataset

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "augmentation")
CASES = sorted(glob.glob(os.path.join(FIXTURES, "*.npz")))
IMAGES = np.random.default_rng(0).random((4, 8, 10, 3)).astype("float32")


def geometric_layers(data_format="channels_last", seed=3):
    """One of each geometric layer, with arguments that change every image."""
    common = {"seed": seed, "data_format": data_format}
    return [
        layers.RandomFlip("horizontal", **common),
        layers.RandomRotation(0.2, **common),
        layers.RandomZoom(0.3, (-0.2, 0.2), **common),
        layers.RandomTranslation(0.2, 0.3, **common),
        layers.RandomShear(0.3, 0.2, **common),
        layers.RandomCrop(5, 6, **common),
    ]


def all_layers(data_format="channels_last", seed=3):
    """One of each random layer, with arguments that change every image."""
    common = {"seed": seed, "data_format": data_format, "value_range": (0, 1)}
    return geometric_layers(data_format, seed) + [
        layers.RandomContrast(0.5, **common),
        layers.RandomBrightness(0.3, **common),
        layers.RandomGrayscale(1.0, seed=seed, data_format=data_format),
        layers.RandomInvert((1.0, 1.0), **common),
        layers.Solarization(0.2, 0.5, **common),
        layers.RandomErasing((1.0, 1.0), fill_value=(0.1, 0.5, 0.9), **common),
    ]


def transformation_of(fixture):
    if "t_window" in fixture.files:
        return tuple(int(v) for v in fixture["t_window"])
    if "t_mask" in fixture.files:
        return fixture["t_mask"]
    return {key[2:]: fixture[key] for key in fixture.files if key.startswith("t_")}


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p)[:-4] for p in CASES])
def test_transform_images_matches_keras(path):
    fixture = np.load(path)
    config = json.loads(str(fixture["kwargs"]))
    name = os.path.basename(path)
    layer_name = {
        "flip": "RandomFlip",
        "rotation": "RandomRotation",
        "zoom": "RandomZoom",
        "translation": "RandomTranslation",
        "contrast": "RandomContrast",
        "brightness": "RandomBrightness",
        "crop": "RandomCrop",
        "shear": "RandomShear",
        "grayscale": "RandomGrayscale",
        "invert": "RandomInvert",
        "solarization": "Solarization",
        "autocontrast": "AutoContrast",
        "erasing": "RandomErasing",
    }[name.split("_")[0].split(".")[0]]
    layer = getattr(layers, layer_name)(**config)
    images = fixture["images"]
    single = images.ndim == 3
    batch = images[None] if single else images
    out = layer.transform_images(batch, transformation_of(fixture), training=True).numpy()
    np.testing.assert_allclose(out[0] if single else out, fixture["outputs"], atol=1e-5)


def test_rotation_matrix_matches_the_one_keras_drew():
    for path in CASES:
        fixture = np.load(path)
        if "t_rotation_matrix" in fixture.files:
            height, width = int(fixture["t_image_height"]), int(fixture["t_image_width"])
            expected = fixture["t_rotation_matrix"].reshape(-1, 8)
            ours = rotation_matrix(fixture["t_angle"], height, width)
            np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_batches_and_single_images_in_both_layouts(data_format):
    images = IMAGES if data_format == "channels_last" else IMAGES.transpose(0, 3, 1, 2)
    for layer in all_layers(data_format):
        expected = layer.compute_output_shape(images.shape)
        out = layer(images)
        assert out.shape == expected, type(layer).__name__
        if out.shape == images.shape:
            assert not np.allclose(out.numpy(), images), type(layer).__name__
        single = layer(images[0])
        assert single.shape == expected[1:]
        # the same draw on the same image: one image is the batch of one
        replay = layer.get_random_transformation(images[:1], seed=11)
        batch_of_one = layer.transform_images(images[:1], replay).numpy()[0]
        alone = layers.deserialize(layers.serialize(layer))
        alone_single = alone.transform_images(images[:1], replay).numpy()[0]
        np.testing.assert_allclose(batch_of_one, alone_single)


def test_inference_passes_images_through():
    for layer in all_layers():
        if isinstance(layer, layers.RandomCrop):
            continue
        np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES)
        np.testing.assert_array_equal(layer(IMAGES[0], training=False).numpy(), IMAGES[0])


def test_model_predict_does_not_augment_and_fit_trains():
    model = keras.Sequential(
        [keras.Input((8, 10, 3))]
        + [layer for layer in all_layers() if not isinstance(layer, layers.RandomCrop)]
        + [layers.AutoContrast(value_range=(0, 1))]
        + [layers.Flatten(), layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(IMAGES, np.ones((4, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    stretch = layers.AutoContrast(value_range=(0, 1))
    plain = keras.Sequential([keras.Input((8, 10, 3)), stretch, layers.Flatten(), model.layers[-1]])
    np.testing.assert_allclose(model.predict(IMAGES, verbose=0), plain.predict(IMAGES, verbose=0))


def test_random_crop_at_inference_resizes_the_central_window_of_the_aspect_ratio():
    crop = layers.RandomCrop(4, 10, seed=0)
    expected = keras.ops.image.resize(IMAGES, (4, 10), crop_to_aspect_ratio=True).numpy()
    np.testing.assert_array_equal(crop(IMAGES, training=False).numpy(), expected)
    assert crop(IMAGES[0], training=False).shape == (4, 10, 3)


def test_random_crop_in_a_model_gives_the_window_in_training():
    crop = layers.RandomCrop(5, 6, seed=0)
    model = keras.Sequential([keras.Input((8, 10, 3)), crop, layers.Flatten(), layers.Dense(2)])
    assert model.output_shape == (None, 2)
    model.compile(optimizer="sgd", loss="mse")
    assert np.isfinite(model.fit(IMAGES, np.ones((4, 2)), verbose=0).history["loss"]).all()
    assert model.predict(IMAGES, verbose=0).shape == (4, 2)


def test_gradient_is_the_transpose_of_the_warp():
    """The geometric layers are linear in the images for a fixed draw, y = T x, so the
    gradient of <w, y> is Tᵀ w: checked through <Tᵀ w, v> = <w, T v> for random v."""
    rng = np.random.default_rng(1)
    for layer in geometric_layers():
        transformation = layer.get_random_transformation(IMAGES, seed=2)
        x = cr.Tensor(IMAGES.copy(), requires_grad=True)
        y = layer.transform_images(x, transformation)
        w = rng.standard_normal(y.shape).astype("float32")
        (y * w).sum().backward()
        v = rng.random(IMAGES.shape).astype("float32")
        t_v = layer.transform_images(v, transformation).numpy()
        np.testing.assert_allclose(
            (x.grad * v).sum(), (w * t_v).sum(), rtol=1e-4, err_msg=type(layer).__name__
        )


def test_dataset_map_augments_each_batch():
    flip = layers.RandomFlip("horizontal", seed=0)
    dataset = Dataset.from_tensor_slices((IMAGES, np.arange(4))).batch(2)
    augmented = dataset.map(lambda x, y: (flip(x), y))
    batches = list(augmented.as_numpy_iterator())
    assert [b[0].shape for b in batches] == [(2, 8, 10, 3)] * 2
    for (x, _), original in zip(batches, (IMAGES[:2], IMAGES[2:])):
        for image, source in zip(x, original):
            assert np.array_equal(image, source) or np.array_equal(image, source[:, ::-1])


def test_seeded_layers_repeat_their_draws():
    first = [layer(IMAGES).numpy() for layer in all_layers(seed=5)]
    second = [layer(IMAGES).numpy() for layer in all_layers(seed=5)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_unseeded_layers_follow_set_random_seed():
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        runs.append([layer(IMAGES).numpy() for layer in all_layers(seed=None)])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][1], all_layers(seed=None)[1](IMAGES).numpy())


def test_configs_match_keras_and_round_trip(tmp_path):
    configs = {
        "RandomFlip": {"seed": None, "mode": "horizontal_and_vertical"},
        "RandomRotation": {
            "factor": (-0.1, 0.1),
            "fill_mode": "reflect",
            "fill_value": 0.0,
            "interpolation": "bilinear",
            "seed": None,
        },
        "RandomZoom": {
            "height_factor": 0.1,
            "width_factor": None,
            "fill_mode": "reflect",
            "interpolation": "bilinear",
            "seed": None,
            "fill_value": 0.0,
        },
        "RandomContrast": {"factor": (0, 0.1), "value_range": (0, 255), "seed": None},
        "RandomBrightness": {"factor": (-0.1, 0.1), "value_range": [0, 255], "seed": None},
        "RandomShear": {"x_factor": (-0.1, 0.1), "y_factor": (-0.0, 0.0), "fill_mode": "reflect"},
        "Solarization": {
            "value_range": [0, 255],
            "addition_factor": (0, 0.1),
            "threshold_factor": (0, 0.0),
        },
        "RandomInvert": {"factor": (0, 1.0), "value_range": (0, 255)},
        "RandomGrayscale": {"factor": 0.5},
        "AutoContrast": {"value_range": [0, 255]},
        "RandomErasing": {
            "factor": (0, 0.1),
            "scale": (0.02, 0.33),
            "fill_value": None,
            "value_range": (0, 255),
        },
    }  # printed by Keras 3.15.1: keras.layers.RandomX(0.1).get_config() (RandomInvert(),
    # RandomGrayscale(), AutoContrast())
    made = {
        "RandomFlip": layers.RandomFlip(),
        "RandomRotation": layers.RandomRotation(0.1),
        "RandomZoom": layers.RandomZoom(0.1),
        "RandomContrast": layers.RandomContrast(0.1),
        "RandomBrightness": layers.RandomBrightness(0.1),
        "RandomShear": layers.RandomShear(0.1),
        "Solarization": layers.Solarization(0.1),
        "RandomInvert": layers.RandomInvert(),
        "RandomGrayscale": layers.RandomGrayscale(),
        "AutoContrast": layers.AutoContrast(),
        "RandomErasing": layers.RandomErasing(0.1),
    }
    for name, layer in made.items():
        config = layer.get_config()
        assert config["data_format"] == "channels_last"
        for key, value in configs[name].items():
            assert config[key] == value, (name, key)
    crop = layers.RandomCrop(4, 5).get_config()
    assert isinstance(crop["seed"], int) and (crop["height"], crop["width"]) == (4, 5)

    model = keras.Sequential([keras.Input((8, 10, 3))] + all_layers())
    model.save(tmp_path / "augment.keras")
    loaded = keras.models.load_model(tmp_path / "augment.keras")
    for ours, theirs in zip(model.layers, loaded.layers):
        assert type(ours) is type(theirs)
        assert json.dumps(ours.get_config()) == json.dumps(theirs.get_config())
    np.testing.assert_array_equal(
        model.predict(IMAGES, verbose=0), loaded.predict(IMAGES, verbose=0)
    )


def test_factor_forms_and_bounds():
    assert factor_range("L", "factor", 0.2, (-1, 1)) == (-0.2, 0.2)
    assert factor_range("L", "factor", (0.3, -0.1), (-1, 1)) == (-0.1, 0.3)
    assert factor_range("L", "factor", 0.2, (0, 1)) == (0, 0.2)
    with pytest.raises(ValueError, match="RandomRotation.*factor.*1.5"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match=r"RandomZoom.*height_factor.*\(-1, 1\]"):
        layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="RandomTranslation.*width_factor"):
        layers.RandomTranslation(0.1, (0.1, 1.5))
    with pytest.raises(ValueError, match="RandomContrast.*factor"):
        layers.RandomContrast("a")
    with pytest.raises(ValueError, match="RandomBrightness.*value_range"):
        layers.RandomBrightness(0.1, value_range=255)
    with pytest.raises(ValueError, match=r"Solarization.*the lowest first.*\(5, 5\)"):
        layers.Solarization(value_range=(5, 5))
    with pytest.raises(ValueError, match="RandomCrop: `width` must be a positive integer"):
        layers.RandomCrop(3, 0)
    with pytest.raises(ValueError, match="RandomRotation.*fill_mode.*'mirror'"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="RandomErasing.*fill_value.*three"):
        layers.RandomErasing(fill_value=(1, 2))
    with pytest.raises(ValueError, match="RandomFlip.*mode.*'diagonal'"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="RandomFlip.*rank 3.*4"):
        layers.RandomFlip()(np.zeros((2, 3)))


def test_auto_contrast_stretches_each_channel_in_training_and_inference():
    images = IMAGES * 0.5 + 0.2
    images[1, ..., 0] = 0.7  # a constant channel stays as it is
    layer = layers.AutoContrast(value_range=(0, 1))
    for out in (layer(images).numpy(), layer(images, training=False).numpy()):
        np.testing.assert_allclose(out.min(axis=(1, 2))[[0, 2, 3]], 0, atol=1e-6)
        np.testing.assert_allclose(out.max(axis=(1, 2))[[0, 2, 3]], 1, atol=1e-6)
        np.testing.assert_array_equal(out[1, ..., 0], images[1, ..., 0])


def test_the_keras_io_augmentation_recipe_runs_in_map_and_in_a_model():
    """keras.io's "image classification from scratch": the same augmentation layers mapped
    over the training set and placed at the head of the model, as a Sequential and as a
    Pipeline."""
    labels = np.array([0, 1, 0, 1])
    for augment in (
        keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)]),
        layers.Pipeline([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)]),
    ):
        dataset = Dataset.from_tensor_slices((IMAGES * 255, labels)).batch(2)
        mapped = dataset.map(lambda x, y: (augment(x, training=True), y))
        inputs = keras.Input((8, 10, 3))
        x = layers.Rescaling(1.0 / 255)(augment(inputs))
        outputs = layers.Dense(1, activation="sigmoid")(layers.Flatten()(x))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(mapped, epochs=2, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        plain = keras.Sequential([keras.Input((8, 10, 3)), layers.Rescaling(1.0 / 255)])
        plain.add(layers.Flatten())
        plain.add(model.layers[-1])
        np.testing.assert_allclose(
            model.predict(IMAGES * 255, verbose=0),
            plain.predict(IMAGES * 255, verbose=0),
            rtol=1e-6,
        )


def test_pipeline_chains_its_layers_and_round_trips():
    pipeline = layers.Pipeline(
        [layers.RandomFlip("horizontal", seed=0), layers.RandomCrop(5, 6, seed=0)], name="aug"
    )
    assert pipeline(IMAGES).shape == (4, 5, 6, 3)
    assert pipeline.compute_output_shape((None, 8, 10, 3)) == (None, 5, 6, 3)
    copy = layers.Pipeline.from_config(pipeline.get_config())
    assert copy.name == "aug" and [type(layer) for layer in copy.layers] == [
        layers.RandomFlip,
        layers.RandomCrop,
    ]
    np.testing.assert_array_equal(copy(IMAGES, training=False), pipeline(IMAGES, training=False))
    with pytest.raises(ValueError, match="Pipeline.*layers"):
        layers.Pipeline.from_config({"name": "p"})
