"""Tests for minigrad.datasets: the shipped digits, moons, IDX/MNIST reading, batching."""

import gzip
import struct

import numpy as np
import pytest

import minigrad.random as mr
from minigrad import datasets

# Class counts of the 1797 digits, as listed in the UCI "optdigits.names" description.
DIGIT_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits():
    x, y = datasets.digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == DIGIT_CLASS_COUNTS
    # Pixel counts are integers 0..16, scaled by 1/16.
    np.testing.assert_array_equal(x * 16, np.round(x * 16))
    # The first image is a zero: a ring of ink with an empty centre.
    first = x[0].reshape(8, 8)
    assert y[0] == 0 and first[3:5, 3:5].max() < 0.1 and first[1:7, 1:7].sum() > 5


def test_moons_without_noise_lie_on_their_half_circles():
    x, y = datasets.moons(101, 0.0, mr.key(0))
    assert x.shape == (101, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [50, 51]
    upper, lower = x[y == 0].astype(np.float64), x[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    assert (upper[:, 1] >= -1e-6).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert (lower[:, 1] <= 0.5 + 1e-6).all()


def test_moons_noise_and_determinism():
    a = datasets.moons(200, 0.2, mr.key(1))
    b = datasets.moons(200, 0.2, mr.key(1))
    np.testing.assert_array_equal(a[0], b[0])
    clean = datasets.moons(200, 0.0, mr.key(1))[0]
    deviation = np.std(a[0] - clean)
    assert 0.15 < deviation < 0.25
    with pytest.raises(ValueError, match="2 points"):
        datasets.moons(1, 0.1, mr.key(0))


def idx_bytes(array: np.ndarray, code: int, dtype: str) -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


@pytest.mark.parametrize(
    "code, dtype, values",
    [
        (0x08, ">u1", [0, 255, 7]),
        (0x09, ">i1", [-5, 3, 0]),
        (0x0B, ">i2", [-300, 2, 9]),
        (0x0D, ">f4", [0.5, -1.0, 2.0]),
    ],
)
def test_read_idx_types(tmp_path, code, dtype, values):
    array = np.array(values).reshape(3, 1)
    path = tmp_path / "data.idx"
    path.write_bytes(idx_bytes(array, code, dtype))
    np.testing.assert_array_equal(datasets.read_idx(path), array)
    gz = tmp_path / "data.idx.gz"
    gz.write_bytes(gzip.compress(idx_bytes(array, code, dtype)))
    np.testing.assert_array_equal(datasets.read_idx(gz), array)


def test_read_idx_rejects_damaged_files(tmp_path):
    good = idx_bytes(np.arange(12).reshape(3, 4), 0x08, ">u1")
    for name, content, message in [
        ("short", good[:-1], "truncated"),
        ("header", good[:6], "header"),
        ("magic", b"\x01\x02\x03\x04" + good[4:], "not an IDX"),
        ("gz", gzip.compress(good)[:-8], "gzip"),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            datasets.read_idx(path)


def write_mnist(directory, gzipped: bool, dotted: bool = False):
    rng = np.random.default_rng(0)
    parts = {}
    for prefix, count in (("train", 20), ("t10k", 6)):
        images = rng.integers(0, 256, (count, 5, 4), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        for kind, array, code in (("images-idx3", images, 0x08), ("labels-idx1", labels, 0x08)):
            name = f"{prefix}-{kind}-ubyte"
            if dotted:
                name = name.replace("-idx", ".idx")
            content = idx_bytes(array, code, ">u1")
            if gzipped:
                name, content = name + ".gz", gzip.compress(content)
            (directory / name).write_bytes(content)
        parts[prefix] = (images, labels)
    return parts


@pytest.mark.parametrize("gzipped, dotted", [(False, False), (True, False), (True, True)])
def test_load_mnist(tmp_path, gzipped, dotted):
    parts = write_mnist(tmp_path, gzipped, dotted)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(tmp_path)
    assert x_train.shape == (20, 5, 4) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train, parts["train"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, parts["t10k"][1])
    assert y_train.dtype == np.int64 and x_test.shape == (6, 5, 4)


def test_load_mnist_missing_and_mismatched_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path)
    write_mnist(tmp_path, gzipped=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5), 0x08, ">u1"))
    with pytest.raises(ValueError, match="test images"):
        datasets.load_mnist(tmp_path)


def test_minibatches_cover_every_example_once():
    x, y = np.arange(23.0)[:, None] * np.ones((1, 2)), np.arange(23)
    batches = list(datasets.minibatches((x, y), 5, key=mr.key(0)))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    order = np.concatenate([b[1] for b in batches])
    assert sorted(order.tolist()) == list(range(23)) and order.tolist() != list(range(23))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)
    again = np.concatenate([b[1] for b in datasets.minibatches((x, y), 5, key=mr.key(0))])
    np.testing.assert_array_equal(order, again)
    other = np.concatenate([b[1] for b in datasets.minibatches((x, y), 5, key=mr.key(1))])
    assert other.tolist() != order.tolist()


def test_minibatches_options_and_errors():
    assert [b.tolist() for b in datasets.minibatches(np.arange(5), 2, drop_last=True)] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="first"):
        list(datasets.minibatches((np.zeros(3), np.zeros(4)), 2))
    with pytest.raises(ValueError, match="batch_size"):
        list(datasets.minibatches(np.zeros(3), 0))


def test_train_test_split():
    x, y = np.arange(50.0), np.arange(50)
    (x_train, y_train), (x_test, y_test) = datasets.train_test_split((x, y), 0.2, mr.key(0))
    assert len(y_train) == 40 and len(y_test) == 10
    np.testing.assert_array_equal(x_train, y_train)
    assert set(y_train.tolist()).isdisjoint(y_test.tolist())
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(50))
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.train_test_split((x, y), 1.5, mr.key(0))


def test_read_idx_wraps_a_corrupt_deflate_stream(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(np.arange(200).reshape(20, 10) % 256, 0x08, ">u1")))
    compressed[12:20] = b"\xff" * 8  # inside the deflate stream: zlib.error before
    (tmp_path / "bad.gz").write_bytes(bytes(compressed))
    with pytest.raises(ValueError, match="damaged or truncated gzip"):
        datasets.read_idx(tmp_path / "bad.gz")


def test_read_idx_stops_a_gzip_bomb_and_refuses_devices(tmp_path):
    # Declares 60000 8x8 images but inflates to 64 MiB: only the declared bytes are read.
    header = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 60000, 8, 8)
    bomb = gzip.compress(header + bytes(2**26), compresslevel=1)
    (tmp_path / "bomb.gz").write_bytes(bomb)
    with pytest.raises(ValueError, match=r"holds 3840001\+ bytes"):
        datasets.read_idx(tmp_path / "bomb.gz")
    huge = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 2**31, 2**16, 2**16)
    (tmp_path / "huge").write_bytes(huge)
    with pytest.raises(ValueError, match="more than the"):
        datasets.read_idx(tmp_path / "huge")
    with pytest.raises(ValueError, match="not a regular file"):
        datasets.read_idx("/dev/zero")


@pytest.mark.parametrize(
    "name, array, code, dtype, message",
    [
        (
            "train-labels-idx1-ubyte",
            np.full(20, 10),
            0x08,
            ">u1",
            "labels hold values 0..10|labels hold values",
        ),
        ("train-images-idx3-ubyte", np.full((20, 5, 4), 300.0), 0x0D, ">f4", "images are float32"),
    ],
)
def test_load_mnist_checks_labels_and_pixels(tmp_path, name, array, code, dtype, message):
    write_mnist(tmp_path, gzipped=False)
    (tmp_path / name).write_bytes(idx_bytes(array, code, dtype))
    with pytest.raises(ValueError, match=message):
        datasets.load_mnist(tmp_path)
