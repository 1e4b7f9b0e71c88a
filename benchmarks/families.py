"""Eager minigrad against the NumPy or SciPy call it wraps, family by family.

Issue 11 asks that no wrapped function be more than 1.5x slower than NumPy's or SciPy's
own call, eagerly, on inputs of 10^5 elements (300x300 matrices for linear algebra).
This prints, for a handful of representative functions of each family (NumPy math,
NumPy arrays, ``numpy.linalg``, ``numpy.fft``, ``scipy.special``, ``scipy.linalg``), the
median time of each call and the median over rounds of the ratio minigrad / reference.
Both calls of a row are timed in the same process, back to back in every round, on one
CPU and one BLAS thread; results are compared before timing. Forward values only: gradients are what
``run.py`` times.

Run ``python benchmarks/families.py`` (``--rounds N``, ``--only FAMILY``).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad.numpy as mnp  # noqa: E402

try:  # SciPy is an optional extra: without it, its two families are left out
    import scipy.linalg as sla
    import scipy.special as ssp

    from minigrad.scipy import linalg as mla
    from minigrad.scipy import special as msp
except ImportError:
    sla = None

SIZE = 100_000
MATRIX = 300


def _inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SIZE)
    a = rng.standard_normal((MATRIX, MATRIX))
    return {
        "x": x,
        "y": rng.standard_normal(SIZE),
        "positive": rng.uniform(0.1, 10.0, SIZE),
        "index": rng.integers(0, SIZE, SIZE),
        "z": x + 1j * rng.standard_normal(SIZE),
        "image": rng.standard_normal((316, 316)),
        "a": a,
        "spd": a @ a.T + MATRIX * np.eye(MATRIX),
        "rhs": rng.standard_normal((MATRIX, 10)),
        "small": a / (4 * np.sqrt(MATRIX)),
    }


def numpy_rows(v):
    math = [
        ("sin", lambda: mnp.sin(v["x"]), lambda: np.sin(v["x"])),
        ("exp", lambda: mnp.exp(v["x"]), lambda: np.exp(v["x"])),
        ("add", lambda: mnp.add(v["x"], v["y"]), lambda: np.add(v["x"], v["y"])),
        ("logaddexp", lambda: mnp.logaddexp(v["x"], v["y"]), lambda: np.logaddexp(v["x"], v["y"])),
        ("sum", lambda: mnp.sum(v["x"]), lambda: np.sum(v["x"])),
        ("cumsum", lambda: mnp.cumsum(v["x"]), lambda: np.cumsum(v["x"])),
    ]
    arrays = [
        ("concatenate", lambda: mnp.concatenate([v["x"], v["y"]]), lambda: np.concatenate([v["x"], v["y"]])),
        (
            "where",
            lambda: mnp.where(v["x"] > 0, v["x"], v["y"]),
            lambda: np.where(v["x"] > 0, v["x"], v["y"]),
        ),
        ("sort", lambda: mnp.sort(v["x"]), lambda: np.sort(v["x"])),
        ("sort (axis 0)", lambda: mnp.sort(v["image"], axis=0), lambda: np.sort(v["image"], axis=0)),
        ("argsort", lambda: mnp.argsort(v["x"]), lambda: np.argsort(v["x"])),
        ("partition", lambda: mnp.partition(v["x"], 99)[99], lambda: np.partition(v["x"], 99)[99]),
        (
            "argpartition",
            lambda: mnp.argpartition(v["x"], 99)[:100].sum(),
            lambda: np.argpartition(v["x"], 99)[:100].sum(),
        ),
        ("median", lambda: mnp.median(v["x"]), lambda: np.median(v["x"])),
        ("quantile", lambda: mnp.quantile(v["x"], 0.3), lambda: np.quantile(v["x"], 0.3)),
        ("take", lambda: mnp.take(v["x"], v["index"]), lambda: np.take(v["x"], v["index"])),
        ("clip", lambda: mnp.clip(v["x"], -1.0, 1.0), lambda: np.clip(v["x"], -1.0, 1.0)),
        ("roll", lambda: mnp.roll(v["x"], 7), lambda: np.roll(v["x"], 7)),
    ]
    la, nla = mnp.linalg, np.linalg
    linalg = [
        ("solve", lambda: la.solve(v["a"], v["rhs"]), lambda: nla.solve(v["a"], v["rhs"])),
        ("inv", lambda: la.inv(v["a"]), lambda: nla.inv(v["a"])),
        ("slogdet", lambda: la.slogdet(v["a"]), lambda: nla.slogdet(v["a"])),
        ("cholesky", lambda: la.cholesky(v["spd"]), lambda: nla.cholesky(v["spd"])),
        ("eigh", lambda: la.eigh(v["spd"]), lambda: nla.eigh(v["spd"])),
        ("norm (fro)", lambda: la.norm(v["a"]), lambda: nla.norm(v["a"])),
        ("norm (10^5)", lambda: la.norm(v["x"]), lambda: nla.norm(v["x"])),
    ]
    fft, nfft = mnp.fft, np.fft
    fourier = [
        ("fft", lambda: fft.fft(v["z"]), lambda: nfft.fft(v["z"])),
        ("fft n=2^17", lambda: fft.fft(v["z"], n=131072), lambda: nfft.fft(v["z"], n=131072)),
        ("ifft", lambda: fft.ifft(v["z"]), lambda: nfft.ifft(v["z"])),
        ("rfft", lambda: fft.rfft(v["x"]), lambda: nfft.rfft(v["x"])),
        ("irfft", lambda: fft.irfft(v["z"][: SIZE // 2 + 1]), lambda: nfft.irfft(v["z"][: SIZE // 2 + 1])),
        ("fft2", lambda: fft.fft2(v["image"]), lambda: nfft.fft2(v["image"])),
    ]
    return {"numpy math": math, "numpy arrays": arrays, "linalg": linalg, "fft": fourier}


def scipy_rows(v):
    """SciPy's families, or none if SciPy (an optional extra) is not installed."""
    if sla is None:
        return {}
    special = [
        ("erf", lambda: msp.erf(v["x"]), lambda: ssp.erf(v["x"])),
        ("gammaln", lambda: msp.gammaln(v["positive"]), lambda: ssp.gammaln(v["positive"])),
        ("digamma", lambda: msp.digamma(v["positive"]), lambda: ssp.digamma(v["positive"])),
        ("expit", lambda: msp.expit(v["x"]), lambda: ssp.expit(v["x"])),
        ("xlogy", lambda: msp.xlogy(v["x"], v["positive"]), lambda: ssp.xlogy(v["x"], v["positive"])),
        ("logsumexp", lambda: msp.logsumexp(v["x"]), lambda: ssp.logsumexp(v["x"])),
    ]
    theirs_lu, theirs_cho = sla.lu_factor(v["a"]), sla.cho_factor(v["spd"])
    ours_lu, ours_cho = mla.lu_factor(v["a"]), mla.cho_factor(v["spd"])
    linalg = [
        ("cho_factor", lambda: mla.cho_factor(v["spd"])[0], lambda: np.triu(sla.cho_factor(v["spd"])[0])),
        ("cho_solve", lambda: mla.cho_solve(ours_cho, v["rhs"]), lambda: sla.cho_solve(theirs_cho, v["rhs"])),
        ("lu_factor", lambda: mla.lu_factor(v["a"]), lambda: sla.lu_factor(v["a"])),
        ("lu_solve", lambda: mla.lu_solve(ours_lu, v["rhs"]), lambda: sla.lu_solve(theirs_lu, v["rhs"])),
        (
            "solve_triangular",
            lambda: mla.solve_triangular(v["spd"], v["rhs"]),
            lambda: sla.solve_triangular(v["spd"], v["rhs"]),
        ),
        ("expm", lambda: mla.expm(v["small"]), lambda: sla.expm(v["small"])),
    ]
    return {"scipy.special": special, "scipy.linalg": linalg}


def _seconds(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def paired_medians(ours, theirs, rounds, min_time=0.02):
    """Median seconds per call of each, and the median of the per-round ratios.

    Each round times both back to back (alternating which goes first), so a burst of
    load from other processes falls on both sides of a ratio rather than on one.
    """
    ours(), theirs()  # warm up
    calls = max(1, int(min_time / max(_seconds(theirs, 1), 1e-7)))
    mine, reference, ratios = [], [], []
    for round_index in range(rounds):
        pair = (ours, theirs) if round_index % 2 == 0 else (theirs, ours)
        first, second = (_seconds(fn, calls) for fn in pair)
        a, b = (first, second) if round_index % 2 == 0 else (second, first)
        mine.append(a), reference.append(b), ratios.append(a / b)
    return statistics.median(mine), statistics.median(reference), statistics.median(ratios)


def _check(name, ours, theirs):
    for mine, reference in zip(
        ours if isinstance(ours, tuple) else (ours,),
        theirs if isinstance(theirs, tuple) else (theirs,),
        strict=True,
    ):
        np.testing.assert_allclose(
            np.asarray(mine), np.asarray(reference), rtol=1e-7, atol=1e-9, err_msg=name
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds per row (median reported)")
    parser.add_argument("--only", help="one family, e.g. 'fft' or 'scipy.linalg'")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: no migration between rounds
    inputs = _inputs()
    families = {**numpy_rows(inputs), **scipy_rows(inputs)}
    if args.only:
        families = {args.only: families[args.only]}
    print(f"{'family':14s} {'function':18s} {'minigrad':>11s} {'reference':>11s} {'ratio':>6s}")
    worst = {}
    for family, rows in families.items():
        for name, ours, theirs in rows:
            _check(f"{family}.{name}", ours(), theirs())
            mine, reference, ratio = paired_medians(ours, theirs, args.rounds)
            worst[family] = max(worst.get(family, 0.0), ratio)
            print(f"{family:14s} {name:18s} {mine * 1e6:9.1f}us {reference * 1e6:9.1f}us {ratio:5.2f}x")
    print("worst ratio per family: " + ", ".join(f"{f} {r:.2f}x" for f, r in worst.items()))


if __name__ == "__main__":
    main()
