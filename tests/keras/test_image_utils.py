"""keras.utils image functions: load_img / save_img / img_to_array / array_to_img and
image_dataset_from_directory, on small generated images; oversized images are refused before
their pixels are decoded."""

import io
import os

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.keras.utils import images

Image = pytest.importorskip("PIL.Image")


def gradient_image(height, width, channels=3, offset=0):
    """An image whose pixel (i, j, c) is (offset + 10 i + j + 50 c) mod 256."""
    i, j, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(channels), indexing="ij")
    return ((offset + 10 * i + j + 50 * c) % 256).astype(np.uint8)


@pytest.fixture
def image_dir(tmp_path):
    """Two classes: cats (3 images, 8x6) and dogs (2 images, 4x12); a stray .txt is ignored."""
    for name, count, shape in (("cats", 3, (8, 6)), ("dogs", 2, (4, 12))):
        (tmp_path / name).mkdir()
        for k in range(count):
            array = gradient_image(*shape, offset=k)
            Image.fromarray(array).save(tmp_path / name / f"{k}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    return tmp_path


def test_array_image_round_trip(tmp_path):
    array = gradient_image(5, 7)
    image = keras.utils.array_to_img(array, scale=False)
    assert image.mode == "RGB" and image.size == (7, 5)
    back = keras.utils.img_to_array(image)
    assert back.dtype == np.float32 and back.shape == (5, 7, 3)
    np.testing.assert_array_equal(back, array)
    first = keras.utils.img_to_array(image, data_format="channels_first", dtype="uint8")
    assert first.shape == (3, 5, 7) and first.dtype == np.uint8
    path = tmp_path / "x.png"
    keras.utils.save_img(path, array, scale=False)
    np.testing.assert_array_equal(keras.utils.img_to_array(keras.utils.load_img(path)), array)


def test_array_to_img_scales_and_picks_the_mode():
    scaled = keras.utils.img_to_array(keras.utils.array_to_img(np.array([[[0.0], [0.5], [1.0]]])))
    np.testing.assert_array_equal(scaled[:, :, 0], [[0, 127, 255]])
    assert keras.utils.array_to_img(np.zeros((2, 2, 4))).mode == "RGBA"
    assert keras.utils.array_to_img(np.full((2, 2, 1), 300.0), scale=False).mode == "I"
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel number 2"):
        keras.utils.array_to_img(np.zeros((2, 2, 2)))


def test_load_img_modes_and_resizing(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(gradient_image(8, 6)).save(path)
    assert keras.utils.load_img(path, color_mode="grayscale").mode == "L"
    assert keras.utils.load_img(str(path), color_mode="rgba").mode == "RGBA"
    assert keras.utils.load_img(io.BytesIO(path.read_bytes())).size == (6, 8)
    assert keras.utils.load_img(path, target_size=(4, 3)).size == (3, 4)
    # keep_aspect_ratio crops the centre 6x6 before resizing to 3x3
    kept = keras.utils.load_img(path, target_size=(3, 3), keep_aspect_ratio=True)
    expected = Image.fromarray(gradient_image(8, 6)).crop((0, 1, 6, 7)).resize((3, 3), 0)
    np.testing.assert_array_equal(np.asarray(kept), np.asarray(expected))
    with pytest.raises(ValueError, match="interpolation"):
        keras.utils.load_img(path, target_size=(2, 2), interpolation="area")
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(path, color_mode="cmyk")


def test_save_img_jpeg_drops_alpha(tmp_path):
    with pytest.warns(UserWarning, match="RGBA"):
        keras.utils.save_img(tmp_path / "a.jpg", np.ones((4, 4, 4)) * 255, scale=False)
    assert Image.open(tmp_path / "a.jpg").mode == "RGB"


def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(gradient_image(20, 20)).save(path)
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 399)
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))
    with pytest.raises(ValueError, match="20x20 = 400 pixels, over the limit of 399"):
        keras.utils.load_img(path)
    assert not decoded


def test_a_path_that_is_not_a_regular_file_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "waits.png"
    os.mkfifo(fifo)  # opening it for reading would block until someone writes
    with pytest.raises(ValueError, match="waits.png is not a regular file"):
        keras.utils.load_img(fifo)


def test_image_dataset_reads_labels_and_resizes(image_dir):
    dataset = keras.utils.image_dataset_from_directory(
        image_dir, image_size=(4, 4), batch_size=8, shuffle=False, interpolation="nearest"
    )
    assert dataset.class_names == ["cats", "dogs"]
    (x, y), *rest = list(dataset.as_numpy_iterator())
    assert not rest and x.shape == (5, 4, 4, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])
    assert y.dtype == np.int32
    # nearest sampling at pixel centres: rows 1, 3, 5, 7 and columns 0, 2, 3, 5 of an 8x6 image
    expected = gradient_image(8, 6)[1::2][:, [0, 2, 3, 5]].astype(np.float32)
    np.testing.assert_array_equal(x[0], expected)


def test_image_dataset_options(image_dir, capsys):
    dataset = keras.utils.image_dataset_from_directory(
        image_dir,
        label_mode="categorical",
        color_mode="grayscale",
        image_size=6,
        batch_size=None,
        seed=3,
        crop_to_aspect_ratio=True,
        data_format="channels_first",
    )
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    elements = list(dataset.as_numpy_iterator())
    assert len(elements) == 5
    x, y = elements[0]
    assert x.shape == (1, 6, 6) and y.shape == (2,) and y.dtype == np.float32
    padded = keras.utils.image_dataset_from_directory(
        image_dir / "dogs",
        labels=None,
        image_size=(12, 12),
        shuffle=False,
        pad_to_aspect_ratio=True,
        verbose=False,
    )
    (x,) = list(padded.as_numpy_iterator())
    assert x.shape == (2, 12, 12, 3)
    assert np.all(x[:, :4] == 0) and np.all(x[:, 8:] == 0)  # 4x12 padded to 12x12
    np.testing.assert_array_equal(x[0, 4:8], gradient_image(4, 12))


def test_image_dataset_subsets(image_dir):
    kwargs = dict(image_size=(2, 2), validation_split=0.4, seed=1, verbose=False)
    training, validation = keras.utils.image_dataset_from_directory(
        image_dir, subset="both", **kwargs
    )
    assert training.cardinality() == 1 and validation.cardinality() == 1
    sizes = [len(next(iter(d.as_numpy_iterator()))[1]) for d in (training, validation)]
    assert sizes == [3, 2]
    alone = keras.utils.image_dataset_from_directory(image_dir, subset="validation", **kwargs)
    np.testing.assert_array_equal(
        next(iter(alone.as_numpy_iterator()))[1], next(iter(validation.as_numpy_iterator()))[1]
    )
    binary = keras.utils.image_dataset_from_directory(
        image_dir, label_mode="binary", image_size=(2, 2), shuffle=False, verbose=False
    )
    assert next(iter(binary.as_numpy_iterator()))[1].shape == (5, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"color_mode": "cmyk"}, "color_mode"),
        ({"image_size": (1, 2, 3)}, "image_size"),
        ({"interpolation": "area"}, "interpolation"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "only one"),
        ({"format": "grain"}, "format"),
        ({"validation_split": 0.2, "subset": "training"}, "seed"),
        ({"labels": [0, 1]}, "2 labels for 5 files"),
        ({"class_names": ["birds"]}, "birds"),
    ],
)
def test_image_dataset_errors(image_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.image_dataset_from_directory(image_dir, verbose=False, **kwargs)


def test_image_dataset_class_names_follow_the_labels(image_dir, capsys):
    (image_dir / ".thumbnails").mkdir()  # hidden folders are not classes
    Image.fromarray(gradient_image(4, 4)).save(image_dir / ".thumbnails" / "t.png")
    inferred = keras.utils.image_dataset_from_directory(image_dir, image_size=2, seed=0)
    assert inferred.class_names == ["cats", "dogs"]
    unlabelled = keras.utils.image_dataset_from_directory(
        image_dir / "dogs", labels=None, image_size=2, seed=0
    )
    assert unlabelled.class_names is None
    listed = keras.utils.image_dataset_from_directory(
        image_dir / "cats", labels=[1, 0, 1], image_size=2, shuffle=False
    )
    assert listed.class_names == ["0", "1"]
    np.testing.assert_array_equal(next(iter(listed.as_numpy_iterator()))[1], [1, 0, 1])
    assert capsys.readouterr().out.splitlines() == [
        "Found 5 files belonging to 2 classes.",
        "Found 2 files.",
        "Found 3 files belonging to 2 classes.",
    ]
    with pytest.raises(ValueError, match="class_names"):
        keras.utils.image_dataset_from_directory(image_dir, labels=None, class_names=["cats"])
