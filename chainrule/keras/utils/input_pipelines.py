"""Datasets built from arrays and folders: windows over a time series
(``timeseries_dataset_from_array``) and files sorted into class folders
(``text_dataset_from_directory``, ``image_dataset_from_directory``), which share one listing of
the folders (``index_directory``)."""

import os
import random as python_random

import numpy as np

from ...tf.data import Dataset
from .. import config
from ..ops import image as image_ops
from ..ops.image import RESIZE_INTERPOLATIONS
from ..progress import print_msg
from . import images
from .arrays import to_categorical


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Sliding windows over a timeseries, as a ``chainrule.data.Dataset`` that ``fit`` takes.

    With s = start_index (default 0), e = end_index (default len(data)), n = e - s -
    (sequence_length - 1) * sampling_rate (at most len(targets)), and start positions
    p = 0, sequence_stride, ... below n (shuffled with ``np.random.RandomState(seed)`` when
    ``shuffle``), window k is ``data[s + p_k + sampling_rate * j]`` for j < sequence_length, shape
    (sequence_length, *data.shape[1:]), and its target is ``targets[s + p_k]``.

    Args:
        data: an array of shape (time, ...).
        targets: an array of shape (time, ...) or None (the dataset then yields windows only).
        sequence_length, sequence_stride, sampling_rate: the window geometry, as above.
        batch_size: windows per batch (None: one window per element).
        shuffle, seed: shuffle the windows (and, batched, again through a buffer of
            8 * batch_size, as Keras does).
        start_index, end_index: the part of ``data`` to draw windows from.

    Raises:
        ValueError: an index, stride or rate out of range, named with its value.

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(100), None, sequence_length=10,
        ...                                    batch_size=None)
        >>> next(ds.as_numpy_iterator())   # [0, 1, ..., 9]
    """
    data = np.asarray(data)
    length = len(data)
    checks = [
        (not sequence_length or sequence_length < 1, "sequence_length", sequence_length,
         "must be 1 or greater"),
        (start_index is not None and start_index < 0, "start_index", start_index,
         "must be 0 or greater"),
        (start_index is not None and start_index >= length, "start_index", start_index,
         f"must be lower than the length of the data ({length})"),
        (end_index is not None and start_index and end_index <= start_index, "end_index",
         end_index, f"must be higher than start_index={start_index}"),
        (end_index is not None and end_index >= length, "end_index", end_index,
         f"must be lower than the length of the data ({length})"),
        (end_index is not None and end_index <= 0, "end_index", end_index, "must be higher than 0"),
        (sampling_rate <= 0 or sampling_rate >= length, "sampling_rate", sampling_rate,
         f"must be in [1, {length}) (the length of the data)"),
        (sequence_stride <= 0 or sequence_stride >= length, "sequence_stride", sequence_stride,
         f"must be in [1, {length}) (the length of the data)"),
    ]  # fmt: skip
    for failed, name, value, rule in checks:
        if failed:
            raise ValueError(
                f"timeseries_dataset_from_array: `{name}` {rule}. Received: {name}={value}"
            )
    start = start_index or 0
    end = length if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    positions = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(positions)
    offsets = start + sampling_rate * np.arange(sequence_length)

    def windows(at, *picked):  # gathered as each element is read, not all of them up front
        gathered = data[np.asarray(at)[..., None] + offsets]
        return (gathered, *picked) if picked else gathered

    if targets is None:
        dataset = Dataset.from_tensor_slices(positions)
    else:
        picked = np.asarray(targets)[start:end][positions]
        dataset = Dataset.from_tensor_slices((positions, picked))
    if shuffle:
        dataset = dataset.shuffle(1024 if batch_size is None else batch_size * 8, seed=seed)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset.map(windows)


def index_directory(
    directory,
    labels,
    extensions,
    class_names=None,
    shuffle=True,
    seed=None,
    follow_links=False,
    verbose=True,
    caller="index_directory",
):
    """The files of ``directory`` with one of ``extensions``, their labels and the class names,
    as Keras lists them for its ``*_dataset_from_directory`` functions.

    With ``labels="inferred"`` the classes are the sub-folders in alphanumeric order (hidden ones
    skipped), or ``class_names``, and each file is labelled by the folder it is under; otherwise
    every file under ``directory`` is listed, labelled by ``labels`` (one per file in sorted path
    order; the class names are then the sorted labels as strings) or not at all (no class
    names). Files are listed in sorted order, then shuffled by ``np.random.RandomState(seed)``
    when ``shuffle``.

    Returns:
        (paths, labels, class_names): lists; ``labels`` is empty and ``class_names`` None when
        there are none.

    Raises:
        ValueError: ``class_names`` naming a missing folder or given without inferred labels, a
            label count that is not the file count, or no matching file at all.
    """
    if labels != "inferred" and class_names is not None:
        raise ValueError(
            f'{caller}: `class_names` goes with labels="inferred" only; with a list of labels '
            f"the class names are the sorted labels, and with labels=None there are none."
        )
    folders = sorted(
        entry.name
        for entry in os.scandir(directory)
        if entry.is_dir(follow_symlinks=True) and not entry.name.startswith(".")
    )
    if class_names is not None:
        missing = sorted(set(class_names) - set(folders))
        if missing:
            raise ValueError(
                f"{caller}: class_names {missing} have no folder in {directory}; its folders "
                f"are {folders}."
            )
        folders = list(class_names)

    def files_under(folder):
        return [
            os.path.join(root, name)
            for root, _, files in sorted(os.walk(folder, followlinks=follow_links))
            for name in sorted(files)
            if name.lower().endswith(extensions)
        ]

    paths, found = [], []
    if labels == "inferred":
        for index, folder in enumerate(folders):
            inside = files_under(os.path.join(directory, folder))
            paths += inside
            found += [index] * len(inside)
    else:
        paths = files_under(directory)
        if isinstance(labels, (list, tuple)):
            if len(labels) != len(paths):
                raise ValueError(
                    f"{caller}: {len(labels)} labels for {len(paths)} files in {directory}; "
                    f"give one label per file, in sorted path order."
                )
            found = list(labels)
            folders = [str(label) for label in sorted(set(labels))]
        else:
            folders = None
    if not paths:
        raise ValueError(
            f"{caller}: no files ending in {', '.join(extensions)} found in {directory}."
        )
    if verbose and folders is None:
        print_msg(f"Found {len(paths)} files.")
    elif verbose:
        print_msg(f"Found {len(paths)} files belonging to {len(folders)} classes.")
    order = np.arange(len(paths))
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(order)
    return [paths[i] for i in order], [found[i] for i in order] if found else [], folders


def _check_directory_arguments(caller, labels, label_mode, validation_split, subset, shuffle, seed):
    """Keras's checks of the arguments the ``*_dataset_from_directory`` functions share."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            f'{caller}: `labels` must be "inferred", None or a list of integers. Received: '
            f"labels={labels!r}"
        )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'{caller}: `label_mode` must be "int", "categorical", "binary" or None. Received: '
            f"label_mode={label_mode!r}"
        )
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(
            f'{caller}: `subset` must be "training", "validation", "both" or None. Received: '
            f"subset={subset!r}"
        )
    if (validation_split is None) != (subset is None):
        raise ValueError(
            f"{caller}: `validation_split` and `subset` go together: set both or neither."
        )
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(
            f"{caller}: `validation_split` must be in (0, 1). Received: {validation_split}"
        )
    if validation_split is not None and shuffle and seed is None:
        raise ValueError(
            f"{caller}: with `validation_split` and shuffling, give a `seed`, so that the "
            f"training and validation subsets do not overlap."
        )


def _label_array(found, label_mode, num_classes):
    """Labels as Keras hands them out: int32 ("int"), one-hot float32 ("categorical") or a
    float32 column (n, 1) ("binary")."""
    values = np.array(found, dtype=np.int64)
    if label_mode == "int":
        return values.astype(np.int32)
    if label_mode == "categorical":
        return to_categorical(values, num_classes).astype(np.float32)
    return values.astype(np.float32).reshape(-1, 1)


def _subsets(caller, count, validation_split, subset, verbose, make):
    """``make(indices)`` for the subset asked for: all files, the first part ("training"), the
    last ``validation_split`` of them ("validation"), or both as a pair."""
    everything = list(range(count))
    if validation_split is None:
        return make(everything)
    held_out = int(validation_split * count)
    training, validation = everything[: count - held_out], everything[count - held_out :]
    if subset in ("training", "both"):
        if verbose:
            print_msg(f"Using {len(training)} files for training.")
        if not training:
            raise ValueError(f"{caller}: no files are left for training.")
    if subset in ("validation", "both"):
        if verbose:
            print_msg(f"Using {len(validation)} files for validation.")
        if not validation:
            raise ValueError(f"{caller}: no files are left for validation.")
    if subset == "training":
        return make(training)
    if subset == "validation":
        return make(validation)
    return make(training), make(validation)


def _check_binary(caller, label_mode, class_names):
    """Keras's rule: ``label_mode="binary"`` needs exactly two classes."""
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            f'{caller}: with label_mode="binary" there must be exactly 2 class names. Received: '
            f"class_names={list(class_names)}"
        )


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Read ``.txt`` files from class folders (``directory/<class>/*.txt``) into batches of
    ``(texts, labels)``, as Keras does.

    Classes are the sub-folders in alphanumeric order (or ``class_names``); files are listed in
    sorted order, shuffled with ``np.random.RandomState(seed)`` when ``shuffle``, and split by
    ``validation_split`` (the last fraction is the validation subset).

    Args:
        directory: the folder.
        labels: "inferred" (from the folders), None (texts only), or a list of integer labels,
            one per file in sorted path order.
        label_mode: "int" (int32), "categorical" (float32 one-hot), "binary" (float32 (n, 1),
            two classes) or None.
        class_names: the class folders to use, in label order.
        batch_size: texts per batch (None: one text per element).
        max_length: truncate each text to this many characters.
        shuffle, seed: shuffle the files (with `validation_split`, a `seed` is required so that
            the two subsets never overlap).
        validation_split, subset: the fraction held out, and "training", "validation" or
            "both" (then a pair of datasets).
        follow_links: follow symbolic links to folders.
        verbose: print how many files and classes were found.

    Returns:
        A ``tf.data`` dataset whose elements are ``(texts, labels)`` Tensors (the texts a
        string Tensor); ``texts`` alone when there are no labels. It has ``class_names``.

    Raises:
        ValueError: bad arguments, or a folder with no text files.
    """
    caller = "text_dataset_from_directory"
    _check_directory_arguments(caller, labels, label_mode, validation_split, subset, shuffle, seed)
    if labels is None:
        label_mode = None
    paths, found, folders = index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose, caller
    )
    _check_binary(caller, label_mode, folders)

    def make(selected):
        texts = []
        for i in selected:
            with open(paths[i], encoding="utf-8", errors="replace") as file:
                text = file.read()
            texts.append(text[:max_length] if max_length is not None else text)
        texts = np.array(texts, dtype=object)
        if label_mode is None:
            dataset = Dataset.from_tensor_slices(texts)
        else:
            values = _label_array([found[i] for i in selected], label_mode, len(folders))
            dataset = Dataset.from_tensor_slices((texts, values))
        if batch_size is not None:
            dataset = dataset.batch(batch_size)
        dataset.class_names = folders
        return dataset

    return _subsets(caller, len(paths), validation_split, subset, verbose, make)


# The image files Keras's image_dataset_from_directory reads.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="tf",
    verbose=True,
):
    """Read images from class folders (``directory/<class>/*.png``) into batches of
    ``(images, labels)``, as Keras 3 does.

    Files ending in .bmp, .gif, .jpeg, .jpg or .png are listed as ``text_dataset_from_directory``
    lists text files; each image is read when its element is drawn: its header is checked
    against ``images.MAX_IMAGE_PIXELS``, its first frame decoded into ``color_mode``, and it is
    resized to ``image_size`` by ``keras.ops.image.resize`` (pixel-centre sampling as
    ``tf.image.resize``, no antialiasing), after a centre crop (``crop_to_aspect_ratio``) or
    zero padding (``pad_to_aspect_ratio``) to the target's aspect ratio if asked. Images are
    float32 in [0, 255].

    Args:
        directory: the folder.
        labels: "inferred" (from the folders), None (images only), or a list of integer
            labels, one per file in sorted path order.
        label_mode: "int" (int32), "categorical" (float32 one-hot), "binary" (float32 (n, 1))
            or None.
        class_names: the class folders to use, in label order.
        color_mode: "grayscale" (1 channel), "rgb" (3) or "rgba" (4).
        batch_size: images per batch (None: one image per element).
        image_size: (height, width), or one integer for both.
        shuffle, seed: shuffle the files, and shuffle again through a buffer of
            ``8 * batch_size`` elements (1024 without batches) on each pass, as Keras does.
        validation_split, subset: the fraction held out, and "training", "validation" or
            "both" (then a pair of datasets). With ``shuffle`` a ``seed`` is required, so that
            the two subsets never overlap.
        interpolation: "bilinear", "nearest", "bicubic", "lanczos3" or "lanczos5" (Keras's
            "area", "gaussian" and "mitchellcubic" are not available).
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio, pad_to_aspect_ratio: keep the aspect ratio by cropping or
            padding (at most one of them).
        data_format: "channels_last" (images (h, w, c)) or "channels_first" ((c, h, w));
            default ``keras.config.image_data_format()``.
        format: "tf" (a ``tf.data`` dataset); Keras's "grain" is not available.
        verbose: print how many files and classes were found.

    Returns:
        A ``tf.data`` dataset of ``(images, labels)`` (``images`` alone without labels), with
        ``class_names``; a pair of them for ``subset="both"``.

    Raises:
        ValueError: bad arguments, or no image files.
        ImportError: Pillow is not installed.
    """
    caller = "image_dataset_from_directory"
    _check_directory_arguments(caller, labels, label_mode, validation_split, subset, shuffle, seed)
    if labels is None:
        label_mode = None
    if color_mode not in images.COLOR_MODES:
        raise ValueError(
            f'{caller}: `color_mode` must be "grayscale", "rgb" or "rgba". Received: '
            f"color_mode={color_mode!r}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            f"{caller}: `image_size` must be a tuple of 2 integers. Received: "
            f"image_size={image_size!r}"
        )
    interpolation = interpolation.lower()
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"{caller}: `interpolation` must be one of {RESIZE_INTERPOLATIONS}. Received: "
            f"interpolation={interpolation!r}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            f"{caller}: only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be True."
        )
    if format != "tf":
        raise ValueError(f'{caller}: `format` must be "tf". Received: format={format!r}')
    data_format = config.image_data_format() if data_format is None else data_format
    if seed is None:
        seed = np.random.randint(1e6)
    paths, found, folders = index_directory(
        directory,
        labels,
        IMAGE_EXTENSIONS,
        class_names,
        shuffle,
        seed,
        follow_links,
        verbose,
        caller,
    )
    _check_binary(caller, label_mode, folders)

    def load(path, *label):
        image = images.open_image(os.fsdecode(np.asarray(path.numpy()).item()), color_mode, caller)
        pixels = np.asarray(image, dtype=np.float32).reshape(image.height, image.width, -1)
        resized = image_ops.resize(
            pixels,
            image_size,
            interpolation=interpolation,
            crop_to_aspect_ratio=crop_to_aspect_ratio,
            pad_to_aspect_ratio=pad_to_aspect_ratio,
            data_format="channels_last",
        ).numpy()
        if data_format == "channels_first":
            resized = resized.transpose(2, 0, 1)
        return (resized, *label) if label else resized

    def make(selected):
        chosen = np.array([paths[i] for i in selected], dtype=object)
        if label_mode is None:
            dataset = Dataset.from_tensor_slices(chosen)
        else:
            values = _label_array([found[i] for i in selected], label_mode, len(folders))
            dataset = Dataset.from_tensor_slices((chosen, values))
        if shuffle:
            dataset = dataset.shuffle(8 * batch_size if batch_size else 1024, seed=seed)
        dataset = dataset.map(load)
        if batch_size is not None:
            dataset = dataset.batch(batch_size)
        dataset.class_names = folders
        return dataset

    return _subsets(caller, len(paths), validation_split, subset, verbose, make)


def split_dataset(
    dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None
):
    """Split a dataset in two, as Keras's ``split_dataset``.

    Args:
        dataset: an array, a tuple or list of arrays of one length (split row-wise, together),
            or a ``tf.data`` dataset of unbatched elements.
        left_size, right_size: each a fraction in (0, 1) (rounded to a count), a count, or None
            (the rest); at least one is given. The left part is the first ``left_size``
            elements, the right part the last ``right_size``.
        shuffle, seed: shuffle the elements first, with ``random.Random(seed)`` (the same order
            as Keras's ``random.seed(seed); random.shuffle``, without reseeding Python's global
            generator).
        preferred_backend: accepted for Keras's signature; the parts are ``tf.data`` datasets.

    Returns:
        (left, right): two ``tf.data`` datasets whose elements have the input's structure.

    Raises:
        TypeError: an unsupported dataset or size type.
        ValueError: sizes that are both missing, out of range, or leave a part empty.
    """
    if left_size is None and right_size is None:
        raise ValueError(
            "split_dataset: give at least one of `left_size` and `right_size`. Received: "
            "left_size=None and right_size=None"
        )
    if isinstance(dataset, Dataset):
        elements = list(dataset.as_numpy_iterator())
    elif isinstance(dataset, (tuple, list)):
        columns = [np.asarray(column) for column in dataset]
        if len({len(column) for column in columns}) > 1:
            raise ValueError(
                f"split_dataset: the arrays have different lengths "
                f"{[len(column) for column in columns]}; they must be equal."
            )
        elements = [tuple(column[i] for column in columns) for i in range(len(columns[0]))]
    elif hasattr(dataset, "__array__") or isinstance(dataset, np.ndarray):
        elements = list(np.asarray(dataset))
    else:
        raise TypeError(
            f"split_dataset: `dataset` must be a tf.data dataset, an array, or a tuple or list "
            f"of arrays. Received: {type(dataset).__name__}"
        )
    order = list(range(len(elements)))
    if shuffle:
        python_random.Random(python_random.randint(0, int(1e6)) if seed is None else seed).shuffle(
            order
        )
    left_count, right_count = _split_sizes(left_size, right_size, len(elements))
    parts = []
    for indices in (order[:left_count], order[len(order) - right_count :]):
        chosen = [elements[i] for i in indices]
        if isinstance(chosen[0], tuple):
            parts.append(Dataset.from_tensor_slices(tuple(np.array(c) for c in zip(*chosen))))
        elif isinstance(chosen[0], dict):
            keys = chosen[0].keys()
            parts.append(
                Dataset.from_tensor_slices({k: np.array([e[k] for e in chosen]) for k in keys})
            )
        else:
            parts.append(Dataset.from_tensor_slices(np.array(chosen)))
    return tuple(parts)


def _split_sizes(left_size, right_size, total):
    """Keras's rescaling of ``split_dataset``'s sizes to two counts that fit in ``total``."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(
                f"split_dataset: `{name}` must be an int, a float or None. Received: "
                f"type({name})={type(size).__name__}"
            )
        if (type(size) is int and not 0 < size < total) or (
            type(size) is float and not 0 < size < 1
        ):
            raise ValueError(
                f"split_dataset: `{name}` must be a positive integer smaller than {total} or a "
                f"float in (0, 1). Received: {name}={size}"
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "split_dataset: `left_size` + `right_size` is greater than 1; it must be at most 1."
        )
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"split_dataset: left_size + right_size = {left + right} is more than the dataset's "
            f"{total} elements."
        )
    if left == 0 or right == 0:
        raise ValueError(
            f"split_dataset: with {total} elements, left_size={left} and right_size={right} "
            f"leave the {'left' if left == 0 else 'right'} part empty."
        )
    return int(left), int(right)
