"""``config`` and ``debug_nans``: the first NaN/inf is blamed on its primitive and line."""

import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp


def _this_file_line(error) -> bool:
    return "test_config.py:" in str(error)


def test_off_by_default_and_nan_flows_through():
    assert mg.config.debug_nans is False
    with np.errstate(divide="ignore"):
        assert mnp.log(np.array(0.0)) == -np.inf


def test_names_the_primitive_and_the_users_line():
    with mg.debug_nans(), pytest.raises(FloatingPointError, match=r"debug_nans: log produced -inf") as info:
        mnp.log(np.array([1.0, 0.0]))
    assert _this_file_line(info.value)
    assert "f64[2]" in str(info.value)


def test_nan_inputs_are_not_blamed_on_the_next_primitive():
    with mg.debug_nans():
        out = mnp.sin(np.array([np.nan, 1.0]))  # the NaN came from outside
    assert np.isnan(out[0])


def test_the_first_producer_is_named_not_its_consumers():
    def f(x):
        zero = mnp.subtract(x, x)
        y = mnp.divide(zero, zero)  # 0/0: nan, produced by div
        return mnp.exp(y)

    with mg.debug_nans(), pytest.raises(FloatingPointError, match=r"\bdiv produced nan"):
        f(np.array(2.0))


def test_overflow_to_inf_is_caught():
    with mg.debug_nans(), pytest.raises(FloatingPointError, match=r"exp produced inf"):
        mnp.exp(np.array(1000.0))


def test_inside_grad_forward_and_backward():
    with mg.debug_nans(), pytest.raises(FloatingPointError, match=r"log produced -inf") as info:
        mg.grad(lambda x: mnp.log(x))(0.0)
    assert _this_file_line(info.value)
    # sqrt(0) is fine going forward; its derivative divides by zero in the backward pass.
    with mg.debug_nans(), pytest.raises(FloatingPointError, match=r"div produced inf"):
        mg.grad(mnp.sqrt)(0.0)


def test_inside_jvp():
    with mg.debug_nans(), pytest.raises(FloatingPointError, match=r"log produced -inf"):
        mg.jvp(mnp.log, (np.array(0.0),), (np.array(1.0),))


def test_safe_where_passes_the_check_unsafe_where_does_not():
    def unsafe(x):
        return mnp.where(x > 0, mnp.log(x), 0.0)

    def safe(x):
        positive = x > 0
        return mnp.where(positive, mnp.log(mnp.where(positive, x, 1.0)), 0.0)

    x = np.array([-1.0, 2.0])
    with mg.debug_nans():
        np.testing.assert_allclose(mg.grad(lambda x: safe(x).sum())(x), [0.0, 0.5])
        with pytest.raises(FloatingPointError, match="log produced nan"):
            mg.grad(lambda x: unsafe(x).sum())(x)


def test_context_manager_can_switch_off_and_restores():
    mg.config.update("debug_nans", True)
    try:
        assert mg.config.debug_nans
        with mg.debug_nans(False):
            assert not mg.config.debug_nans
            with np.errstate(divide="ignore"):
                mnp.log(np.array(0.0))
        assert mg.config.debug_nans
    finally:
        mg.config.update("debug_nans", False)
    assert not mg.config.debug_nans


def test_process_default_reaches_other_threads():
    errors = []

    def worker():
        try:
            mnp.log(np.array(0.0))
        except FloatingPointError as error:
            errors.append(error)

    mg.config.update("debug_nans", True)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    finally:
        mg.config.update("debug_nans", False)
    assert len(errors) == 1


def test_a_threads_override_does_not_leak_into_another_thread():
    inside = threading.Event()
    done = threading.Event()
    seen = {}

    def checker():
        with mg.debug_nans():
            seen["checker"] = mg.config.debug_nans
            inside.set()
            done.wait(5)

    def other():
        inside.wait(5)
        seen["other"] = mg.config.debug_nans
        with np.errstate(divide="ignore"):
            seen["value"] = float(mnp.log(np.array(0.0)))
        done.set()

    threads = [threading.Thread(target=checker), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"checker": True, "other": False, "value": -np.inf}


def test_update_rejects_unknown_options_and_values():
    with pytest.raises(ValueError, match="unknown option 'debug_infs'"):
        mg.config.update("debug_infs", True)
    with pytest.raises(TypeError, match="True or False"):
        mg.config.update("debug_nans", 1)


def test_under_jit_the_staged_line_is_named_and_results_are_unchanged():
    @mg.jit
    def f(x):
        shifted = x * 2.0 - 2.0
        return mnp.log(shifted)  # the staged line

    good = np.array([2.0, 3.0])
    expected = f(good)
    with mg.debug_nans():
        np.testing.assert_array_equal(f(good), expected)
        with pytest.raises(FloatingPointError, match=r"log produced -inf") as info:
            f(np.array([1.0, 3.0]))
    message = str(info.value)
    assert "staged by jit at" in message and "# the staged line" not in message
    staged_at = message.split("staged by jit at ")[1]
    assert "test_config.py:" in staged_at


def test_under_jit_of_grad_and_vmap():
    with mg.debug_nans():
        with pytest.raises(FloatingPointError, match=r"div produced inf"):
            mg.jit(mg.grad(mnp.sqrt))(0.0)
        with pytest.raises(FloatingPointError, match=r"log produced -inf"):
            mg.vmap(mnp.log)(np.array([1.0, 0.0]))
