"""value_and_grad_chunked on data three times larger than a worker's memory limit.

Two worker processes, each limited to ``WORKER_MEMORY`` bytes (Dask's nanny kills a
worker that passes 95% of it), compute the gradient over a dataset of about three
times that, generated chunk by chunk on the workers (Dask's seeded random arrays): no
worker could hold the data, and the gradient must equal the one computed with all of
it in this process's memory.
"""

import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.distributed import value_and_grad_chunked

distributed = pytest.importorskip("distributed", reason='needs pip install "minigrad[distributed]"')
da = pytest.importorskip("dask.array")
cloudpickle = pytest.importorskip("cloudpickle")

cloudpickle.register_pickle_by_value(sys.modules[__name__])

WORKER_MEMORY = 500 * 2**20  # a worker process holds ~260 MB before any data (NumPy, Dask, minigrad)
FEATURES = 8
ROWS = 3 * WORKER_MEMORY // (8 * (FEATURES + 1))  # x and y together: 3x a worker's limit
CHUNK_ROWS = 250_000  # 18 MB of x per chunk
TIMEOUT = 120


def logistic_loss(w, x, y):
    return mnp.mean(mnp.logaddexp(0.0, -y * (x @ w)))


@pytest.mark.slow
def test_gradient_over_data_larger_than_a_workers_memory_equals_the_in_memory_one():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        memory_limit=WORKER_MEMORY,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    client = distributed.Client(cluster, timeout=TIMEOUT)
    try:
        client.wait_for_workers(2, timeout=TIMEOUT)
        random = da.random.RandomState(0)
        x = random.normal(size=(ROWS, FEATURES), chunks=(CHUNK_ROWS, FEATURES))
        y = da.sign(random.normal(size=ROWS, chunks=CHUNK_ROWS))
        assert x.nbytes + y.nbytes > 2.9 * WORKER_MEMORY
        w = np.linspace(-0.5, 0.5, FEATURES)
        value, grads = value_and_grad_chunked(logistic_loss, w, x, y, client=client)
    finally:
        client.close(timeout=TIMEOUT)
        cluster.close(timeout=TIMEOUT)
    x_all, y_all = x.compute(scheduler="threads"), y.compute(scheduler="threads")
    expected_value, expected_grads = mg.value_and_grad(logistic_loss)(w, x_all, y_all)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grads, expected_grads, rtol=1e-12)
