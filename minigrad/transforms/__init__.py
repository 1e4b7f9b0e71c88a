"""Transforms: interpreters of traced programs.

``ad`` (reverse mode: vjp, grad), ``forward`` (jvp), ``batching`` (vmap), ``jacobians``
(jacfwd, jacrev, hessian), ``custom`` (custom_vjp, checkpoint), ``staged_program``
(make_jaxpr), and the package ``jit``.
"""
