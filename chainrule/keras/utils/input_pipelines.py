"""Datasets built from arrays and folders: windows over a time series
(``timeseries_dataset_from_array``) and files sorted into class folders
(``text_dataset_from_directory``)."""

import os

import numpy as np

from ...tf.data import Dataset
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
    windows = data[start + positions[:, None] + sampling_rate * np.arange(sequence_length)]
    if targets is None:
        dataset = Dataset.from_tensor_slices(windows)
    else:
        picked = np.asarray(targets)[start:end][positions]
        dataset = Dataset.from_tensor_slices((windows, picked))
    if batch_size is None:
        return dataset.shuffle(1024, seed=seed) if shuffle else dataset
    if shuffle:
        dataset = dataset.shuffle(batch_size * 8, seed=seed)
    return dataset.batch(batch_size)


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
        shuffle, seed: shuffle the files.
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
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            f'text_dataset_from_directory: `labels` must be "inferred", None or a list of '
            f"integers. Received: labels={labels!r}"
        )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f'text_dataset_from_directory: `label_mode` must be "int", "categorical", "binary" '
            f"or None. Received: label_mode={label_mode!r}"
        )
    if labels is None:
        label_mode = None
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(
            f'text_dataset_from_directory: `subset` must be "training", "validation", "both" or '
            f"None. Received: subset={subset!r}"
        )
    if (validation_split is None) != (subset is None):
        raise ValueError(
            "text_dataset_from_directory: `validation_split` and `subset` go together: set both "
            "or neither."
        )
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(
            f"text_dataset_from_directory: `validation_split` must be in (0, 1). Received: "
            f"{validation_split}"
        )
    folders = sorted(
        entry.name for entry in os.scandir(directory) if entry.is_dir(follow_symlinks=True)
    )
    if class_names is not None:
        missing = sorted(set(class_names) - set(folders))
        if missing:
            raise ValueError(
                f"text_dataset_from_directory: class_names {missing} have no folder in "
                f"{directory}; its folders are {folders}."
            )
        folders = list(class_names)
    paths, found = [], []
    if labels == "inferred":
        for index, folder in enumerate(folders):
            for root, _, files in sorted(
                os.walk(os.path.join(directory, folder), followlinks=follow_links)
            ):
                for name in sorted(files):
                    if name.lower().endswith(".txt"):
                        paths.append(os.path.join(root, name))
                        found.append(index)
    else:
        for root, _, files in sorted(os.walk(directory, followlinks=follow_links)):
            paths += [os.path.join(root, n) for n in sorted(files) if n.lower().endswith(".txt")]
        if isinstance(labels, (list, tuple)):
            if len(labels) != len(paths):
                raise ValueError(
                    f"text_dataset_from_directory: {len(labels)} labels for {len(paths)} text "
                    f"files in {directory}; give one label per file, in sorted path order."
                )
            found = list(labels)
    if not paths:
        raise ValueError(f"text_dataset_from_directory: no .txt files found in {directory}.")
    if label_mode == "binary" and len(set(found)) > 2:
        raise ValueError(
            f'text_dataset_from_directory: label_mode="binary" needs 2 classes; found '
            f"{len(set(found))}."
        )
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(folders)} classes.")
    order = np.arange(len(paths))
    if shuffle:
        seed = np.random.randint(1e6) if seed is None else seed
        np.random.RandomState(seed).shuffle(order)
    paths = [paths[i] for i in order]
    found = [found[i] for i in order] if found else []

    def make(selected):
        texts = []
        for i in selected:
            with open(paths[i], encoding="utf-8", errors="replace") as file:
                text = file.read()
            texts.append(text[:max_length] if max_length is not None else text)
        texts = np.array(texts, dtype=object)
        values = np.array([found[i] for i in selected], dtype=np.int64) if found else None
        if label_mode == "int":
            values = values.astype(np.int32)
        elif label_mode == "categorical":
            values = to_categorical(values, len(folders)).astype(np.float32)
        elif label_mode == "binary":
            values = values.astype(np.float32).reshape(-1, 1)
        dataset = Dataset.from_tensor_slices(texts if label_mode is None else (texts, values))
        if batch_size is not None:
            dataset = dataset.batch(batch_size)
        dataset.class_names = folders
        return dataset

    everything = list(range(len(paths)))
    if validation_split is None:
        return make(everything)
    held_out = int(validation_split * len(paths))
    training, validation = everything[: len(paths) - held_out], everything[len(paths) - held_out :]
    if verbose and subset in ("training", "both"):
        print(f"Using {len(training)} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {len(validation)} files for validation.")
    if subset == "training":
        return make(training)
    if subset == "validation":
        return make(validation)
    return make(training), make(validation)
