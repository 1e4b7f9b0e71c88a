"""Transforms used from several threads at once.

Trace state lives in a context variable (one stack per thread), so concurrent ``grad``,
``jvp``, ``vjp`` and ``make_jaxpr`` calls must not see each other's traces. The threads
start together at a barrier and Python is asked to switch threads very often, so their
traces really interleave.
"""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.trace import current_depth

THREADS = 8


@pytest.fixture(autouse=True)
def frequent_thread_switches():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def run_together(tasks):
    """Run each task in its own thread, all released at once; return their results."""
    barrier = threading.Barrier(len(tasks))

    def released(task):
        barrier.wait(timeout=10)
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(released, task) for task in tasks]
        return [future.result(timeout=60) for future in futures]


def f(x, k):
    """A function whose derivatives depend on the thread's own constant k."""
    y = x
    for _ in range(20):
        y = mnp.sin(y * k) + y * 0.5
    return (y * y).sum()


def transform_tasks(k):
    x = np.linspace(-1.0, 1.0, 4) + 0.1 * k
    return {
        "grad": lambda: mg.grad(f)(x, k),
        "grad_of_grad": lambda: mg.grad(lambda x: mg.grad(f)(x, k).sum())(x),
        "jvp_of_grad": lambda: mg.jvp(lambda x: mg.grad(f)(x, k), (x,), (np.ones(4),))[1],
        "vjp": lambda: mg.vjp(lambda x: mnp.tanh(x * k), x)[1](np.arange(4.0))[0],
        "make_jaxpr": lambda: str(mg.make_jaxpr(lambda x: f(x, k))(x)),
        "make_jaxpr_of_grad": lambda: str(mg.make_jaxpr(mg.grad(lambda x: f(x, k)))(x)),
    }


@pytest.mark.parametrize("name", sorted(transform_tasks(1.0)))
def test_concurrent_transforms_match_serial_results(name):
    constants = [0.5 + 0.25 * i for i in range(THREADS)]
    expected = [transform_tasks(k)[name]() for k in constants]
    for _ in range(3):
        got = run_together([transform_tasks(k)[name] for k in constants])
        for k, g, e in zip(constants, got, expected, strict=True):
            if isinstance(e, str):
                assert g == e, f"k={k}"
            else:
                np.testing.assert_allclose(g, e, rtol=1e-12, err_msg=f"k={k}")
    assert current_depth() == 0


def test_mixed_transforms_in_threads_at_once():
    tasks, expected = [], []
    for i, k in enumerate(0.5 + 0.1 * np.arange(THREADS)):
        name = sorted(transform_tasks(k))[i % 6]
        tasks.append(transform_tasks(k)[name])
        expected.append(transform_tasks(k)[name]())
    got = run_together(tasks)
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, str):
            assert g == e
        else:
            np.testing.assert_allclose(g, e, rtol=1e-12)


def test_each_thread_has_its_own_trace_stack():
    depths = {}
    inside = threading.Barrier(2)

    def deep():
        def f(x):
            depths["inside"] = current_depth()
            inside.wait(timeout=10)  # the other thread looks while we are two transforms deep
            inside.wait(timeout=10)
            return x * x

        mg.grad(mg.grad(f))(1.0)

    def look():
        inside.wait(timeout=10)
        depths["other"] = current_depth()
        inside.wait(timeout=10)

    run_together([deep, look])
    assert depths == {"inside": 2, "other": 0}


def test_transform_in_a_new_thread_over_an_outer_tracer():
    # grad runs in the main thread; inside it a worker thread differentiates a function
    # that closes over the outer tracer x. The worker's transform is the inner one even
    # though its thread's stack is empty: d/dx [d/dy x*y*y at y=3] = d/dx 6x = 6.
    def outer(x):
        result = {}

        def worker():
            result["inner"] = mg.grad(lambda y: x * y * y)(3.0)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        return result["inner"]

    assert mg.grad(outer)(2.0) == 6.0
    assert outer(2.0) == 12.0


def test_tracers_do_not_leak_between_threads_running_the_same_function():
    seen = []

    def f(x):
        seen.append(type(x).__name__)
        return mnp.sum(x * x)

    x = np.ones(3)
    results = run_together([lambda: mg.grad(f)(x) for _ in range(THREADS)])
    for r in results:
        np.testing.assert_array_equal(r, 2 * x)
    assert set(seen) == {"RecordTracer"}


@pytest.mark.skipif(not hasattr(mg, "jit"), reason="jit is not in this build yet")
def test_concurrent_first_calls_of_a_jitted_function():
    def g(x, k):
        return mnp.sin(x * k).sum() + (x**2).mean()

    jitted = mg.jit(g, static_argnums=1)
    jitted_grad = mg.jit(mg.grad(g), static_argnums=1)
    # Same shapes in every thread (one cache entry raced for) and mixed shapes (several).
    args = [(np.linspace(0.0, 1.0, 3 + i % 2) * (i + 1), 1.5) for i in range(THREADS)]
    for _ in range(3):
        got = run_together([lambda a=a: (jitted(*a), jitted_grad(*a)) for a in args])
        for (value, gradient), a in zip(got, args, strict=True):
            np.testing.assert_allclose(value, g(*a), rtol=1e-12)
            np.testing.assert_allclose(gradient, mg.grad(g)(*a), rtol=1e-12)


@pytest.mark.skipif(not hasattr(mg, "vmap"), reason="vmap is not in this build yet")
def test_concurrent_vmap_of_grad():
    tasks, expected = [], []
    for i in range(THREADS):
        k = 0.5 + 0.1 * i
        xs = np.linspace(-1.0, 1.0, 12).reshape(3, 4) * k
        tasks.append(lambda xs=xs, k=k: mg.vmap(mg.grad(lambda x: f(x, k)))(xs))
        expected.append(np.stack([mg.grad(f)(row, k) for row in xs]))
    for got, e in zip(run_together(tasks), expected, strict=True):
        np.testing.assert_allclose(got, e, rtol=1e-12)


def test_threads_tracing_functions_that_call_each_other_never_wait_forever():
    # Thread A traces f, thread B traces g; then f calls g and g calls f with the same
    # signatures, so each waits for the other's pending trace. One thread must see the
    # circle; in the end each gets the RecursionError one thread alone would get.
    both_tracing = threading.Barrier(2)
    first_trace = {"f": True, "g": True}

    def meet_once(name):
        if first_trace[name]:
            first_trace[name] = False
            both_tracing.wait(timeout=10)

    def f_body(x):
        meet_once("f")
        return g(x) + 1.0

    def g_body(x):
        meet_once("g")
        return f(x) * 2.0

    f, g = mg.jit(f_body), mg.jit(g_body)
    errors = {}

    def call(name, fn):
        try:
            fn(np.ones(2))
        except RecursionError as error:
            errors[name] = str(error)

    threads = [threading.Thread(target=call, args=(n, fn), daemon=True) for n, fn in (("f", f), ("g", g))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "the two threads wait for each other"
    assert sorted(errors) == ["f", "g"]
    assert any("another thread" in message for message in errors.values()), errors
    assert f.cache_size() == g.cache_size() == 0
