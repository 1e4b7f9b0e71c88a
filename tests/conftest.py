"""Test configuration: hypothesis profiles and shared fixtures.

CI sets CI=true; there hypothesis runs derandomized so a red run is reproducible.
"""

import os

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
