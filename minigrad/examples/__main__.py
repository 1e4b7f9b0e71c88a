"""``python -m minigrad.examples``: every example, one line each, and how to run it."""

from __future__ import annotations

import sys

from minigrad.examples import digits, distributed, fit_line, micrograd, mnist, moons, names, seed

# In the order a newcomer might read them: derivatives first, then ever larger training.
EXAMPLES = (seed, fit_line, micrograd, moons, digits, mnist, names, distributed)


def listing() -> str:
    """The examples with the first line of each one's docstring.

    Example:
      >>> print(listing().splitlines()[0])
      minigrad's examples; run one with python -m minigrad.examples.NAME (--help shows its flags):
    """
    names = [module.__name__.rpartition(".")[2] for module in EXAMPLES]
    width = max(map(len, names))
    lines = [
        f"  {name:<{width}}  {module.__doc__.strip().splitlines()[0].replace('``', '')}"
        for name, module in zip(names, EXAMPLES, strict=True)
    ]
    header = "minigrad's examples; run one with python -m minigrad.examples.NAME (--help shows its flags):"
    return "\n".join([header, *lines])


def main(argv=None) -> None:
    """Print the listing (there is nothing to choose, so arguments such as ``--help`` print it too)."""
    del argv
    print(listing())


if __name__ == "__main__":
    main(sys.argv[1:])
