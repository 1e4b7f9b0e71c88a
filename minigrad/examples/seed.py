"""The seed example: derivatives of z = x1*x2 + sin(x1), printed with their program.

Run with ``python -m minigrad.examples.seed``.
"""

import argparse

import numpy as np

import minigrad as mg
import minigrad.numpy as mnp


def z(x1, x2):
    return x1 * x2 + mnp.sin(x1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.seed", description=__doc__.split("\n")[0]
    )
    parser.parse_args(argv)
    x1, x2 = np.float64(2.0), np.float64(3.0)
    value, (dz_dx1, dz_dx2) = mg.value_and_grad(z, argnums=(0, 1))(x1, x2)
    print(f"z(2, 3) = {float(value):.4f}")
    print(f"dz/dx1 = x2 + cos(x1) = {float(dz_dx1):.4f}")
    print(f"dz/dx2 = x1           = {float(dz_dx2):.4f}")
    print("the program of z:")
    print(mg.make_jaxpr(z)(x1, x2))
    print("the program of its gradient:")
    print(mg.make_jaxpr(mg.grad(z, argnums=(0, 1)))(x1, x2))


if __name__ == "__main__":
    main()
