"""minigrad.numpy.linalg against NumPy's values, against identities of matrix calculus,
and at its degenerate points.

The op table (``op_specs_linalg.py``) checks every derivative against finite
differences, batching against a loop and jit against eager; here the values are
compared with ``numpy.linalg`` directly, and gradients with closed forms computed by
NumPy (``d log|det A| = A⁻ᵀ``, the gradient of ``solve`` against that of ``inv``).
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.ops import solvers
from tests.op_specs_linalg import singular_spread, spd, symmetric_spread, well_conditioned

LA = mnp.linalg
RNG = np.random.default_rng(7)


def close(actual, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol)


A = well_conditioned(RNG, (2,), 3)
B = RNG.standard_normal((2, 3, 2))
S = spd(RNG, (2,), 3)
SYM = symmetric_spread(RNG, (2,), 3)
TALL = singular_spread(RNG, (2,), 4, 3)


# ---------------------------------------------------------------------------------------
# Values: the same numbers as numpy.linalg, plain ndarrays outside transforms.


@pytest.mark.parametrize(
    "name, args",
    [
        ("inv", (A,)),
        ("det", (A,)),
        ("cholesky", (S,)),
        ("eigvalsh", (SYM,)),
        ("svdvals", (TALL,)),
        ("pinv", (TALL,)),
        ("matrix_rank", (TALL,)),
        ("cond", (TALL,)),
        ("matrix_transpose", (TALL,)),
        ("solve", (A, B)),
        ("solve", (A[0], B[0, :, 0])),
        ("solve", (A, B[0])),
        ("outer", (B[0, :, 0], B[1, :, 1])),
        ("vecdot", (B, B[0])),
        ("cross", (B[..., 0], A[0, 0])),
    ],
)
def test_values_equal_numpys(name, args):
    ours, theirs = getattr(LA, name)(*args), getattr(np.linalg, name)(*args)
    assert type(ours) is np.ndarray
    close(ours, theirs)


def test_decompositions_equal_numpys():
    for ours, theirs in [
        (LA.slogdet(A), np.linalg.slogdet(A)),
        (LA.eigh(SYM), np.linalg.eigh(SYM)),
        (LA.svd(TALL), np.linalg.svd(TALL)),
        (LA.svd(TALL, full_matrices=False), np.linalg.svd(TALL, full_matrices=False)),
        (LA.qr(TALL), np.linalg.qr(TALL)),
    ]:
        assert ours._fields == theirs._fields
        for mine, numpys in zip(ours, theirs, strict=True):
            close(mine, numpys)
    close(LA.qr(TALL, mode="r"), np.linalg.qr(TALL, mode="r"))
    close(LA.cholesky(S, upper=True), np.linalg.cholesky(S, upper=True))
    close(LA.svd(TALL, compute_uv=False), np.linalg.svd(TALL, compute_uv=False))


def test_products_act_on_the_last_axes():
    x = RNG.standard_normal((2, 3, 4))
    for offset in (-2, -1, 0, 1, 3, 5):
        close(LA.diagonal(x, offset=offset), np.linalg.diagonal(x, offset=offset))
        close(LA.trace(x, offset=offset), np.linalg.trace(x, offset=offset))
    close(LA.tensordot(x, x[0].T, axes=1), np.linalg.tensordot(x, x[0].T, axes=1))
    close(LA.matmul(x, x[0].T), np.linalg.matmul(x, x[0].T))
    close(LA.cross(x[:, :, :3], x[0, :, 1:], axis=1), np.linalg.cross(x[:, :, :3], x[0, :, 1:], axis=1))


NORM_CASES = [
    ((3, 4), None, None),
    ((2, 3, 2), None, None),
    *[((5,), order, None) for order in (None, 2, 1, 0, np.inf, -np.inf, 3, 0.5, -1)],
    *[((3, 4), order, None) for order in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)],
    *[((2, 3, 4), order, axis) for order in (None, 1, np.inf, 3) for axis in (0, -1, (1,))],
    *[((2, 3, 4), order, axes) for order in ("fro", "nuc", 1, -1, 2, -2, np.inf) for axes in ((0, 2), (2, 1), (-1, 0))],
]  # fmt: skip


@pytest.mark.parametrize("shape, order, axis", NORM_CASES)
def test_norm_equals_numpys_in_every_form(shape, order, axis):
    x = RNG.standard_normal(shape)
    if order in (0, None, 1, 2, np.inf):
        x.flat[0] = 0.0  # a zero (ord=0 counts nonzeros; negative orders would divide by it)
    for keepdims in (False, True):
        close(LA.norm(x, ord=order, axis=axis, keepdims=keepdims), np.linalg.norm(x, order, axis, keepdims))


def test_vector_and_matrix_norms_equal_numpys():
    x = RNG.standard_normal((2, 3, 4))
    for order in (2, 1, np.inf, 0, 3):
        for axis in (None, 1, (0, 2)):
            close(LA.vector_norm(x, ord=order, axis=axis), np.linalg.vector_norm(x, ord=order, axis=axis))
    for order in ("fro", "nuc", 1, 2, -2, -np.inf):
        close(LA.matrix_norm(x, ord=order, keepdims=True), np.linalg.matrix_norm(x, ord=order, keepdims=True))


def test_lstsq_equals_numpys():
    a, b = TALL[0], B[0, :3]
    a = np.vstack([a, a[:1] + 1.0])  # 5 x 3
    b = RNG.standard_normal((5, 2))
    for rhs in (b, b[:, 0]):
        for ours, theirs in zip(LA.lstsq(a, rhs), np.linalg.lstsq(a, rhs), strict=True):
            close(ours, theirs, rtol=1e-9)
    wide = RNG.standard_normal((2, 3))
    x, residuals, rank, s = LA.lstsq(wide, b[:2])
    close(x, np.linalg.lstsq(wide, b[:2])[0])
    assert residuals.shape == (0,) and rank == 2


def test_matrix_power_multi_dot_tensor_functions_equal_numpys():
    for n in (-3, -1, 0, 1, 2, 5):
        close(LA.matrix_power(A, n), np.linalg.matrix_power(A, n), rtol=1e-9)
    assert (
        LA.matrix_power(np.arange(4).reshape(2, 2), 2).dtype
        == np.linalg.matrix_power(np.arange(4).reshape(2, 2), 2).dtype
    )
    chain = [
        RNG.standard_normal(4),
        RNG.standard_normal((4, 10)),
        RNG.standard_normal((10, 2)),
        RNG.standard_normal((2, 3)),
    ]
    close(LA.multi_dot(chain), np.linalg.multi_dot(chain))
    close(LA.multi_dot(chain[1:]), np.linalg.multi_dot(chain[1:]))
    t = well_conditioned(RNG, (), 6).reshape(2, 3, 3, 2)
    close(LA.tensorinv(t, ind=2), np.linalg.tensorinv(t, ind=2))
    rhs = RNG.standard_normal((2, 3))
    close(LA.tensorsolve(t, rhs), np.linalg.tensorsolve(t, rhs))
    close(LA.tensorsolve(t, rhs, axes=(1,)), np.linalg.tensorsolve(t, rhs, axes=(1,)))
    close(LA.cond(A, np.inf), np.linalg.cond(A, np.inf))
    close(LA.cond(A, "fro"), np.linalg.cond(A, "fro"))


def test_multi_dot_picks_the_cheap_order():
    # (10x1)(1x10)(10x1): left to right costs 200 multiplications, right first 20.
    chain = [np.ones((10, 1)), np.ones((1, 10)), np.ones((10, 1))]
    program = str(mg.make_jaxpr(lambda *xs: LA.multi_dot(xs))(*chain))
    assert "f64[1,1] = matmul" in program and "f64[10,10]" not in program


def test_dtypes_follow_numpy():
    assert LA.inv(np.eye(2, dtype=np.float32)).dtype == np.float32
    assert LA.det(np.eye(2, dtype=np.int64)).dtype == np.float64
    assert mg.grad(lambda a: LA.slogdet(a)[1])(np.eye(2, dtype=np.float32)).dtype == np.float32
    assert LA.inv(np.eye(2, dtype=np.complex64) * 1j).dtype == np.complex64
    assert LA.cholesky(np.eye(2, dtype=np.complex64)).dtype == np.complex64
    with pytest.raises(TypeError, match="float16"):
        LA.cholesky(np.eye(2, dtype=np.float16))


# ---------------------------------------------------------------------------------------
# Gradients against closed forms computed by NumPy.


def test_gradient_of_log_abs_det_is_the_inverse_transpose():
    grads = mg.grad(lambda a: LA.slogdet(a).logabsdet.sum())(A)
    close(grads, np.swapaxes(np.linalg.inv(A), -1, -2), rtol=1e-9)
    close(
        mg.grad(lambda a: LA.det(a).sum())(A),
        np.linalg.det(A)[:, None, None] * np.swapaxes(np.linalg.inv(A), -1, -2),
    )


def test_gradient_of_solve_equals_that_of_inv_times_b():
    weights = RNG.standard_normal(B.shape)

    def through_solve(a, b):
        return (LA.solve(a, b) * weights).sum()

    def through_inv(a, b):
        return (LA.inv(a) @ b * weights).sum()

    for ours, reference in zip(
        mg.grad(through_solve, (0, 1))(A, B), mg.grad(through_inv, (0, 1))(A, B), strict=True
    ):
        close(ours, reference, rtol=1e-9)
    # And the closed form: b̄ = A⁻ᵀ W, Ā = -b̄ xᵀ.
    b_ct = np.linalg.solve(np.swapaxes(A, -1, -2), weights)
    close(mg.grad(through_solve, 1)(A, B), b_ct)
    close(mg.grad(through_solve, 0)(A, B), -b_ct @ np.swapaxes(np.linalg.solve(A, B), -1, -2))


def test_gradients_of_a_stack_equal_the_gradients_of_each_matrix():
    def loss(a):
        return (
            LA.slogdet(a).logabsdet.sum()
            + (LA.svdvals(a) ** 2).sum()
            + LA.eigvalsh(a @ np.swapaxes(a, -1, -2)).max(axis=-1).sum()
        )

    batched = mg.grad(loss)(A)
    for i in range(A.shape[0]):
        close(batched[i], mg.grad(loss)(A[i]))
    close(mg.vmap(mg.grad(loss))(A), batched)
    close(mg.jit(mg.grad(loss))(A), batched)


def test_eigenvalue_and_singular_value_gradients_are_the_known_projections():
    w, v = np.linalg.eigh(SYM)
    close(mg.grad(lambda a: LA.eigvalsh(a)[:, -1].sum())(SYM), v[..., :, -1:] * v[..., None, :, -1])
    u, s, vh = np.linalg.svd(TALL, full_matrices=False)
    close(mg.grad(lambda a: LA.svdvals(a)[:, 0].sum())(TALL), u[..., :, :1] * vh[..., :1, :])
    close(mg.grad(lambda a: LA.norm(a, "nuc", axis=(1, 2)).sum())(TALL), u @ vh)


def test_cholesky_gradient_agrees_with_a_solve_identity():
    # log det A = 2 Σ log diag(L), so both routes give A⁻¹ (symmetric).
    def through_cholesky(a):
        return 2.0 * mnp.log(LA.diagonal(LA.cholesky(a))).sum()

    close(mg.grad(through_cholesky)(S), np.linalg.inv(S), rtol=1e-9)


def test_triangular_solve_without_scipy(monkeypatch):
    a, b = A[0] + 0.0, B[0]
    with_scipy = [solvers.triangular_solve(a, b, lower=lower) for lower in (True, False)]
    monkeypatch.setattr(solvers, "_scipy_solve_triangular", lambda: None)
    for lower, expected in zip((True, False), with_scipy, strict=True):
        triangle = np.tril(a) if lower else np.triu(a)
        close(solvers.triangular_solve(a, b, lower=lower), np.linalg.solve(triangle, b))
        close(solvers.triangular_solve(a, b, lower=lower), expected)
    close(mg.grad(lambda s: 2.0 * mnp.log(LA.diagonal(LA.cholesky(s))).sum())(S), np.linalg.inv(S), rtol=1e-9)


# ---------------------------------------------------------------------------------------
# Degenerate points (JAX's conventions) and errors.


def test_norm_has_a_zero_gradient_and_hessian_at_zero():
    for fun in (LA.norm, LA.vector_norm, lambda x: LA.norm(x.reshape(2, 2), axis=(0, 1))):
        close(mg.grad(fun)(np.zeros(4)), np.zeros(4))
        close(mg.hessian(fun)(np.zeros(4)), np.zeros((4, 4)))
    close(mg.grad(lambda x: LA.norm(x, np.inf))(np.array([-2.0, 2.0, 1.0])), [-0.5, 0.5, 0.0])


def test_repeated_eigenvalues_give_finite_eigenvalue_gradients_and_no_eigenvector_gradient():
    a = np.diag([1.0, 1.0, 3.0])
    # The eigenvalues alone: V diag(w̄) Vᵀ, finite.
    close(mg.grad(lambda a: (LA.eigvalsh(a) * np.array([1.0, 2.0, 3.0])).sum())(a), np.diag([1.0, 2.0, 3.0]))
    close(mg.grad(lambda a: LA.eigh(a).eigenvalues.sum())(a), np.eye(3))
    # Eigenvectors of the repeated eigenvalue are not unique: 1/(w_j - w_i) is infinite.
    with np.errstate(divide="ignore", invalid="ignore"):
        grads = mg.grad(lambda a: LA.eigh(a).eigenvectors[0, 0] ** 2)(a)
    assert not np.isfinite(grads).all()
    # Equal singular values get F = 0: finite gradients, as JAX gives them.
    assert np.isfinite(mg.grad(lambda a: LA.svd(a).U[0, 0])(np.eye(2))).all()


def test_pinv_differentiates_at_equal_singular_values():
    close(mg.jacfwd(LA.pinv)(np.eye(2)), -np.eye(4).reshape(2, 2, 2, 2))
    close(mg.jacrev(LA.pinv)(np.eye(2)), -np.eye(4).reshape(2, 2, 2, 2))


def test_errors_name_the_function_and_shapes():
    with pytest.raises(ValueError, match=r"inv: .*\(2, 3\)"):
        LA.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"solve: .*\(4,\).*\(3, 3\)"):
        LA.solve(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="batch"):
        LA.solve(np.ones((2, 3, 3)), np.ones((4, 3, 1)))
    with pytest.raises(np.linalg.LinAlgError):
        LA.inv(np.zeros((2, 2)))
    with pytest.raises(LA.LinAlgError):
        LA.cholesky(-np.eye(2))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        mg.grad(lambda a: LA.svd(a).S.sum())(np.ones((3, 2)))
    with pytest.raises(NotImplementedError, match="m >= n"):
        mg.grad(lambda a: LA.qr(a).R.sum())(np.ones((2, 3)))
    with pytest.raises(TypeError, match="integer"):
        LA.matrix_power(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="invalid norm order"):
        LA.norm(np.ones(3), "fro")


def test_under_jit_and_vmap():
    def f(a, b):
        x = LA.solve(a, b)
        q, r = LA.qr(a)
        return x.sum() + LA.slogdet(a)[1] + LA.norm(r) + LA.pinv(a).sum()

    eager = np.array([f(A[i], B[i]) for i in range(2)])
    close(mg.jit(mg.vmap(f))(A, B), eager)
    close(mg.vmap(f, in_axes=(None, 0))(A[0], B), [f(A[0], B[i]) for i in range(2)])
