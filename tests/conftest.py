"""Test configuration: hypothesis profiles and shared fixtures.

CI sets CI=true; there hypothesis runs derandomized so a red run is reproducible.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser):
    group = parser.getgroup("minigrad fuzzing (tests/test_fuzz.py, docs/fuzzing.md)")
    group.addoption(
        "--fuzz-programs",
        type=int,
        default=300,
        help="random programs to generate and check (default 300: the CI profile)",
    )
    group.addoption(
        "--fuzz-seed",
        default="0",
        help="seed of the fuzzer, or 'random' to explore (default 0: the same programs every run)",
    )
    parser.addoption(
        "--run-slow",
        action="store_true",
        help="also run the tests marked slow (minutes each, such as a 200,000-equation jit)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes minutes; skipped unless --run-slow is given (or MINIGRAD_RUN_SLOW=1)"
    )


def pytest_collection_modifyitems(config, items):
    # CI runs the README's command with MINIGRAD_RUN_SLOW=1 in its environment (.ci/run),
    # so the slow tests stay out of a newcomer's first run and still run on every landing.
    if config.getoption("--run-slow") or os.environ.get("MINIGRAD_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
