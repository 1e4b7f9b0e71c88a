"""Tests for minigrad.random and the Threefry primitives of minigrad.ops.random.

Expected values come from the published Random123 known-answer vectors and from a
reference Threefry-2x32 written below with Python integers (no NumPy arithmetic).
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ShapedArray
from minigrad.ops import random as rops

MASK = 0xFFFFFFFF

# Random123's kat_vectors for threefry2x32_20: (key, counter) -> output.
KAT_VECTORS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


def reference_threefry(key, counter):
    """Threefry-2x32, 20 rounds, from the specification, on Python ints."""
    rotations = [13, 15, 26, 6, 17, 29, 16, 24]
    ks = [key[0], key[1], 0x1BD11BDA ^ key[0] ^ key[1]]
    x0, x1 = (counter[0] + ks[0]) & MASK, (counter[1] + ks[1]) & MASK
    for round_index in range(20):
        x0 = (x0 + x1) & MASK
        r = rotations[round_index % 8]
        x1 = ((x1 << r) | (x1 >> (32 - r))) & MASK
        x1 ^= x0
        if round_index % 4 == 3:
            s = round_index // 4 + 1
            x0 = (x0 + ks[s % 3]) & MASK
            x1 = (x1 + ks[(s + 1) % 3] + s) & MASK
    return x0, x1


def reference_bits(key, count):
    words = []
    for block in range((count + 1) // 2):
        words.extend(reference_threefry(key, (0, block)))
    return words[:count]


@pytest.mark.parametrize("key, counter, expected", KAT_VECTORS)
def test_threefry_matches_known_answers(key, counter, expected):
    out = rops.threefry2x32(np.uint32(key), np.uint32(counter[0]), np.uint32(counter[1]))
    assert (int(out[0]), int(out[1])) == expected
    assert reference_threefry(key, counter) == expected


def test_key_holds_the_seed_words():
    np.testing.assert_array_equal(mr.key(0x123456789ABCDEF0), np.uint32([0x12345678, 0x9ABCDEF0]))
    np.testing.assert_array_equal(mr.key(-1), np.uint32([MASK, MASK]))
    assert mr.key(3).dtype == np.uint32 and mr.key(3).shape == (2,)


def test_key_rejects_non_integers():
    with pytest.raises(TypeError, match="seed"):
        mr.key(1.5)


def test_random_bits_are_the_hash_of_counters():
    key = (0x13198A2E, 0x03707344)
    bits = rops.random_bits(np.uint32(key), (7,))
    assert bits.tolist() == reference_bits(key, 7)
    shaped = rops.random_bits(np.uint32(key), (2, 3))
    assert shaped.ravel().tolist() == reference_bits(key, 6)


def test_split_and_fold_in_follow_their_counters():
    key = mr.key(42)
    words = tuple(int(w) for w in key)
    np.testing.assert_array_equal(mr.split(key, 3), np.uint32(reference_bits(words, 6)).reshape(3, 2))
    np.testing.assert_array_equal(mr.fold_in(key, 5), np.uint32(reference_threefry(words, (1, 5))))


def test_uniform_is_the_scaled_bits():
    key = mr.key(7)
    words = reference_bits(tuple(int(w) for w in key), 5)
    expected32 = np.array([np.float32(w / 2**32) for w in words], np.float32)
    np.testing.assert_array_equal(mr.uniform(key, (5,)), expected32)
    pairs = reference_bits(tuple(int(w) for w in key), 10)
    expected64 = np.array([(hi + lo / 2**32) / 2**32 for hi, lo in zip(pairs[0::2], pairs[1::2])])
    np.testing.assert_array_equal(mr.uniform(key, (5,), np.float64), expected64)


def test_same_key_same_numbers_and_different_keys_differ():
    a, b = mr.split(mr.key(0))
    np.testing.assert_array_equal(mr.normal(a, (10,)), mr.normal(a, (10,)))
    assert not np.array_equal(mr.normal(a, (10,)), mr.normal(b, (10,)))
    assert not np.array_equal(mr.fold_in(a, 1), mr.fold_in(a, 2))


def test_distributions_have_their_moments():
    key = mr.key(1)
    u = mr.uniform(key, (50000,), minval=2.0, maxval=4.0)
    assert u.dtype == np.float32 and u.min() >= 2.0 and u.max() < 4.0
    assert abs(u.mean() - 3.0) < 0.02 and abs(u.var() - 4 / 12) < 0.01
    z = mr.normal(key, (50000,), np.float64)
    assert z.dtype == np.float64
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
    # The fraction within one standard deviation of a normal is 0.6827.
    assert abs(np.mean(np.abs(z) < 1.0) - 0.6827) < 0.01
    flips = mr.bernoulli(key, 0.3, (50000,))
    assert flips.dtype == np.bool_ and abs(flips.mean() - 0.3) < 0.01
    ints = mr.randint(key, (50000,), -2, 3)
    assert ints.dtype == np.int32 and set(np.unique(ints).tolist()) == {-2, -1, 0, 1, 2}


def test_uniform_never_reaches_maxval():
    u = mr.uniform(mr.key(3), (200000,))
    assert u.max() < 1.0 and u.min() >= 0.0


def test_permutation():
    perm = mr.permutation(mr.key(0), 100)
    assert perm.dtype == np.int32
    assert sorted(perm.tolist()) == list(range(100))
    assert perm.tolist() != list(range(100))
    rows = np.arange(12.0).reshape(6, 2)
    shuffled = mr.permutation(mr.key(0), rows)
    np.testing.assert_array_equal(shuffled, rows[mr.permutation(mr.key(0), 6)])


def test_bad_keys_are_reported():
    with pytest.raises(TypeError, match="key"):
        mr.normal(np.zeros(2), (3,))
    with pytest.raises(TypeError, match="key"):
        mr.uniform(mr.split(mr.key(0), 3), (3,))
    with pytest.raises(TypeError, match="floating"):
        mr.uniform(mr.key(0), (3,), dtype=np.int32)


def test_random_functions_stage_with_a_traced_key():
    def sample(key):
        k1, k2 = mr.split(key)
        return mr.normal(k1, (3,)) + mr.uniform(mr.fold_in(k2, 4), (3,))

    key = mr.key(5)
    closed = mg.make_jaxpr(sample)(key)
    text = str(closed)
    assert "random_bits" in text and "random_fold_in" in text
    (staged,) = eval_jaxpr(closed.jaxpr, closed.consts, key)
    np.testing.assert_array_equal(staged, sample(key))
    perm_program = mg.make_jaxpr(lambda k: mr.permutation(k, 5))(key)
    np.testing.assert_array_equal(
        eval_jaxpr(perm_program.jaxpr, perm_program.consts, key)[0], mr.permutation(key, 5)
    )


def test_random_numbers_inside_grad_have_no_gradient_but_scale_one():
    key = mr.key(2)
    noise = mr.normal(key, (4,), np.float64)
    grad = mg.grad(lambda x, k: mnp.sum(x * mr.normal(k, (4,), np.float64)))(np.ones(4), key)
    np.testing.assert_array_equal(grad, noise)


def test_primitives_have_no_derivative_rules_to_miss():
    for primitive in (rops.random_bits_p, rops.random_fold_in_p, rops.random_permutation_p):
        assert not primitive.differentiable
        assert primitive.impl is not None and primitive.shape_rule is not None and primitive.batch is not None


def test_shape_rules():
    key = ShapedArray((4, 2), np.dtype(np.uint32))
    assert rops.random_bits_shape_rule(key, shape=(3,)).shape == (4, 3)
    assert rops.random_permutation_shape_rule(key, n=5).shape == (4, 5)
    assert rops.random_fold_in_shape_rule(key, ShapedArray((), np.dtype(np.uint32))).shape == (4, 2)
    with pytest.raises(TypeError, match="uint32"):
        rops.random_bits_shape_rule(ShapedArray((3,), np.dtype(np.uint32)), shape=(2,))


def test_batching_rules_match_per_key_results():
    keys = mr.split(mr.key(9), 3)
    per_key = np.stack([rops.random_bits(k, (4,)) for k in keys])
    out, dim = rops.random_bits_batch((keys,), (0,), shape=(4,))
    np.testing.assert_array_equal(np.moveaxis(out, dim, 0), per_key)
    out, dim = rops.random_bits_batch((keys.T,), (1,), shape=(4,))
    np.testing.assert_array_equal(np.moveaxis(out, dim, 0), per_key)

    perms = np.stack([rops.random_permutation(k, 6) for k in keys])
    out, dim = rops.random_permutation_batch((keys,), (0,), n=6)
    np.testing.assert_array_equal(np.moveaxis(out, dim, 0), perms)

    data = np.uint32([1, 2, 3])
    folded = np.stack([rops.random_fold_in(k, d) for k, d in zip(keys, data)])
    out, dim = rops.random_fold_in_batch((keys, data), (0, 0))
    np.testing.assert_array_equal(np.moveaxis(out, dim, 0), folded)
    one_key = np.stack([rops.random_fold_in(keys[0], d) for d in data])
    out, dim = rops.random_fold_in_batch((keys[0], data), (None, 0))
    np.testing.assert_array_equal(np.moveaxis(out, dim, 0), one_key)
    one_datum = np.stack([rops.random_fold_in(k, np.uint32(7)) for k in keys])
    out, dim = rops.random_fold_in_batch((keys, np.uint32(7)), (0, None))
    np.testing.assert_array_equal(np.moveaxis(out, dim, 0), one_datum)


def test_random_functions_under_vmap_match_a_loop_over_keys():
    keys = mr.split(mr.key(0), 3)
    out = mg.vmap(lambda k: mr.normal(k, (2,)))(keys)
    np.testing.assert_array_equal(out, np.stack([mr.normal(k, (2,)) for k in keys]))
    out = mg.vmap(lambda d: mr.fold_in(mr.key(1), d))(np.arange(4))
    np.testing.assert_array_equal(out, np.stack([mr.fold_in(mr.key(1), d) for d in range(4)]))
    out = mg.vmap(lambda k: mr.permutation(k, 5), in_axes=1, out_axes=1)(keys.T)
    np.testing.assert_array_equal(out.T, np.stack([mr.permutation(k, 5) for k in keys]))
    out = mg.vmap(mr.fold_in)(keys, np.arange(3))
    np.testing.assert_array_equal(out, np.stack([mr.fold_in(k, d) for k, d in zip(keys, range(3))]))
    np.testing.assert_array_equal(mg.vmap(mr.split)(keys), np.stack([mr.split(k) for k in keys]))


def test_scalar_and_empty_shapes_give_arrays():
    key = mr.key(0)
    for sample in (mr.uniform(key), mr.normal(key), mr.bernoulli(key), mr.randint(key, (), 0, 3)):
        assert type(sample) is np.ndarray and sample.shape == ()
    assert mr.normal(key, (0, 3)).shape == (0, 3)
    np.testing.assert_array_equal(mr.bernoulli(key, np.array([0.0, 1.0])), [False, True])


def test_fold_in_uses_all_64_bits_and_rejects_non_integers():
    k = mr.key(0)
    assert not np.array_equal(mr.fold_in(k, 2**32), mr.fold_in(k, 0))
    assert not np.array_equal(mr.fold_in(k, 2**32 + 5), mr.fold_in(k, 5))
    assert not np.array_equal(mr.fold_in(k, -1), mr.fold_in(k, 2**32 - 1))
    np.testing.assert_array_equal(mr.fold_in(k, np.int64(7)), mr.fold_in(k, 7))
    np.testing.assert_array_equal(mr.fold_in(k, np.array(7)), mr.fold_in(k, 7))
    for bad in (1.5, 2.0, "3"):
        with pytest.raises(TypeError, match="fold_in.*integer"):
            mr.fold_in(k, bad)
    with pytest.raises(ValueError, match="64 bits"):
        mr.fold_in(k, 2**64)


def test_uniform_stays_below_maxval_and_checks_bounds():
    x = mr.uniform(mr.key(0), (100000,), minval=1e8, maxval=1e8 + 8)
    assert x.dtype == np.float32 and float(x.max()) < np.float32(1e8 + 8)
    assert float(x.min()) >= np.float32(1e8)
    with pytest.raises(ValueError, match="minval.*maxval"):
        mr.uniform(mr.key(0), (2,), minval=1.0, maxval=0.0)


def test_permutation_of_a_negative_count_is_an_error():
    with pytest.raises(ValueError, match="non-negative"):
        mr.permutation(mr.key(0), -1)
    assert mr.permutation(mr.key(0), 0).shape == (0,)


@pytest.mark.parametrize("seed", [2**64, 2**64 + 1, -(2**63) - 1, 10**30])
def test_key_rejects_seeds_outside_64_bits(seed):
    # Before, key(2**64 + 1) silently equalled key(1).
    with pytest.raises(ValueError, match="random.key.*64 bits"):
        mr.key(seed)
    np.testing.assert_array_equal(mr.key(2**64 - 1), np.uint32([MASK, MASK]))
    np.testing.assert_array_equal(mr.key(-(2**63)), np.uint32([0x80000000, 0]))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda k: mr.normal(k, (-1,)), "normal"),
        (lambda k: mr.uniform(k, (2, -3)), "uniform"),
        (lambda k: mr.bernoulli(k, 0.5, -2), "bernoulli"),
        (lambda k: mr.randint(k, (-1,), 0, 3), "randint"),
        (lambda k: mr.split(k, -1), "split"),
    ],
)
def test_negative_shapes_and_counts_raise(call, name):
    with pytest.raises(ValueError, match=f"random.{name}.*-"):
        call(mr.key(0))
    assert mr.split(mr.key(0), 0).shape == (0, 2) and mr.normal(mr.key(0), (0, 3)).shape == (0, 3)
