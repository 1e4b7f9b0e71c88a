"""minigrad.distributed: gradients over Dask workers equal the one-process ones."""

import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import all_primitives
from minigrad.distributed import DataParallel, shard_sizes, value_and_grad_chunked
from minigrad.examples import distributed as distributed_example

distributed = pytest.importorskip("distributed", reason='needs pip install "minigrad[distributed]"')
da = pytest.importorskip("dask.array")
cloudpickle = pytest.importorskip("cloudpickle")

# The workers import functions by module name; this test module is not on their path.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

TIMEOUT = 60


def regression_loss(params, batch, scale):
    prediction = mnp.tanh(batch["x"] @ params["w"] + params["b"])
    return scale * mnp.mean((prediction - batch["y"]) ** 2)


def pair_loss(params, x, y):
    return mnp.mean((x @ params - y) ** 2)


def make_data(rows, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(rows, 3)), "y": rng.normal(size=rows)}


def make_params(seed=1):
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=3), "b": np.float64(0.3)}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    client = distributed.Client(cluster, timeout=TIMEOUT)
    client.wait_for_workers(2, timeout=TIMEOUT)
    yield client
    client.close(timeout=TIMEOUT)
    cluster.close(timeout=TIMEOUT)


def assert_trees_close(actual, expected):
    actual_leaves, actual_tree = mg.tree.tree_flatten(actual)
    expected_leaves, expected_tree = mg.tree.tree_flatten(expected)
    assert actual_tree == expected_tree
    for a, e in zip(actual_leaves, expected_leaves, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=0)


def test_shard_sizes_cover_the_rows():
    assert shard_sizes(11, 2) == [6, 5]
    assert shard_sizes(1, 3) == [1, 0, 0]
    with pytest.raises(ValueError, match="at least one part"):
        shard_sizes(3, 0)


def test_workers_run_this_minigrad(client):
    # Worker processes must import the same tree as the tests, or they would test another.
    files = client.run(lambda: __import__("minigrad").__file__)
    assert list(files.values()) == [mg.__file__, mg.__file__]


@pytest.mark.parametrize("rows", [10, 11, 3])
def test_data_parallel_equals_one_process(client, rows):
    data, params = make_data(rows), make_params()
    parallel = DataParallel(regression_loss, client, data, timeout=TIMEOUT)
    expected_sizes = [size for size in shard_sizes(rows, 2) if size]
    assert parallel.shard_sizes == expected_sizes
    value, grads = parallel.value_and_grad(params, 1.5)
    expected_value, expected_grads = mg.value_and_grad(regression_loss)(params, data, 1.5)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    assert_trees_close(grads, expected_grads)
    assert_trees_close(parallel.grad(params, 1.5), expected_grads)
    parallel.close()


def test_unequal_shards_are_weighted_not_averaged(client):
    # With 3 rows the shards hold 2 and 1: a plain average of shard means would differ.
    data, params = make_data(3), make_params()
    parallel = DataParallel(regression_loss, client, data, timeout=TIMEOUT)
    value, _ = parallel.value_and_grad(params, 1.0)
    shard_means = [
        float(regression_loss(params, {"x": data["x"][a:b], "y": data["y"][a:b]}, 1.0))
        for a, b in [(0, 2), (2, 3)]
    ]
    assert not np.isclose(float(value), np.mean(shard_means), rtol=1e-9)
    np.testing.assert_allclose(value, regression_loss(params, data, 1.0), rtol=1e-12)
    parallel.close()


def compiled_programs(client, parallel):
    def count(step):
        return step.compiled().cache_size()

    return client.gather(
        [client.submit(count, parallel._step, workers=[address], pure=False) for address in parallel.workers]
    )


def test_shards_stay_on_their_workers_and_compile_once(client):
    data, params = make_data(14), make_params()
    parallel = DataParallel(regression_loss, client, data, timeout=TIMEOUT)
    parallel.value_and_grad(params, 1.0)
    after_first_step = compiled_programs(client, parallel)
    for _ in range(3):
        value, grads = parallel.value_and_grad(params, 1.0)
        params = mg.tree.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    # Later steps reuse the program each worker compiled (it may share one with other tests).
    assert compiled_programs(client, parallel) == after_first_step
    assert all(count >= 1 for count in after_first_step)
    who_has = client.who_has(parallel._shards)
    for future, address in zip(parallel._shards, parallel.workers, strict=True):
        assert list(who_has[future.key]) == [address]
    parallel.close()


def test_a_second_data_parallel_over_the_same_loss_compiles_nothing_new(client):
    data, params = make_data(14), make_params()
    first = DataParallel(regression_loss, client, data, timeout=TIMEOUT)
    first.value_and_grad(params, 1.0)
    before = compiled_programs(client, first)
    second = DataParallel(regression_loss, client, data, timeout=TIMEOUT)
    second.value_and_grad(params, 1.0)
    assert compiled_programs(client, second) == before
    first.close()
    second.close()


def test_primitives_keep_their_identity_on_workers(client):
    sin_p = all_primitives()["sin"]

    def is_the_registered_one(primitive):
        return primitive is sys.modules["minigrad.core.primitive"].all_primitives()[primitive.name]

    assert client.submit(is_the_registered_one, sin_p, pure=False).result(timeout=TIMEOUT)


def test_mismatched_leading_axes_are_refused(client):
    with pytest.raises(ValueError, match="leading axis"):
        DataParallel(regression_loss, client, {"x": np.ones((4, 3)), "y": np.ones(5)})


@pytest.mark.parametrize("chunks", [4, 5, 12])
def test_chunked_equals_one_process(chunks):
    rng = np.random.default_rng(2)
    x, y, w = rng.normal(size=(13, 3)), rng.normal(size=13), rng.normal(size=3)
    value, grads = value_and_grad_chunked(
        pair_loss, w, da.from_array(x, chunks=(chunks, 3)), da.from_array(y, chunks=7)
    )
    expected_value, expected_grads = mg.value_and_grad(pair_loss)(w, x, y)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grads, expected_grads, rtol=1e-12)


def test_chunked_on_the_cluster_with_extra_arguments(client):
    data, params = make_data(17), make_params()
    x = da.from_array(data["x"], chunks=(5, 3))
    y = da.from_array(data["y"], chunks=5)

    def loss(params, x, y, scale):
        return regression_loss(params, {"x": x, "y": y}, scale)

    value, grads = value_and_grad_chunked(loss, params, x, y, args=(2.0,), client=client)
    expected_value, expected_grads = mg.value_and_grad(regression_loss)(params, data, 2.0)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    assert_trees_close(grads, expected_grads)


def test_chunked_refuses_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        value_and_grad_chunked(pair_loss, np.ones(3), da.ones((4, 3)), da.ones(5))


def test_example_matches_the_one_process_accuracy(client, capsys):
    # The example on this module's cluster (its own would cost another start-up).
    from_cluster, in_one_process = distributed_example.main(
        ["--steps", "4", "--scheduler", client.scheduler.address]
    )
    assert from_cluster == in_one_process
    out = capsys.readouterr().out
    assert "shards=[719, 719]" in out
    assert "overhead" in out
