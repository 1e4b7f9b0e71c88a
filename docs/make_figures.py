"""Make the pictures in docs/figures/ from the code they show, so none is drawn by hand.

Run ``python docs/make_figures.py`` with minigrad importable (``pip install -e .``, or
``PYTHONPATH=.`` in the repository root). Graphviz's ``dot`` renders the program graphs; without it the ``.dot`` sources are written instead, with advice on how
to render them. Pass ``--dot`` to write only the DOT sources.

- ``seed.svg``: the program of z = x1*x2 + sin(x1) at (2, 3), each variable with its
  value and the gradient of z with respect to it;
- ``seed_gradient.svg``: that program next to the gradient program ``grad`` builds;
- ``loss_curve.svg``: the loss of ``minigrad.examples.fit_line`` during gradient descent;
- ``digits_layers.svg``: the digits example's MLP, its loss and gradient drawn one box
  per call (``depth=2``), with a picture per box in ``digits_layers.calls/``;
- ``control_flow.svg``: ``clipped_decay`` below, a ``cond`` inside a ``scan``, and its
  gradient program (the forward scan, then a reverse scan), each construct a frame;
- ``attention.svg`` (needs matplotlib): the attention weights of one head of the names
  example's transformer, trained briefly with a fixed seed, on a name it samples.
"""

from __future__ import annotations

import math
import os
import pathlib
import sys

import numpy as np

import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import lax, nn
from minigrad.examples import digits, fit_line, names, seed
from minigrad.examples.name_models import TransformerModel
from minigrad.viz import draw

FIGURES = pathlib.Path(__file__).resolve().parent / "figures"
REPO = FIGURES.parent.parent


def clipped_decay(x):
    """A loop holding a branch, as docs/transforms/control_flow.md shows it."""

    def step(h, _):
        h = lax.cond(h > 1.0, lambda v: v * 0.5, mnp.tanh, h)
        return h, h

    h, hs = lax.scan(step, x, length=100)
    return h + hs.sum()


DIGITS_MODEL = digits.make_model("mlp")


def digits_loss(params, x, y):
    """The digits example's loss, as its training step computes it."""
    logits = DIGITS_MODEL.apply(params, x)
    return nn.softmax_cross_entropy(logits, y)


def draw_digits_layers(path: pathlib.Path):
    """The digits MLP's loss and gradient, one box per layer, for a batch of 32 images."""
    images, labels = np.zeros((32, 64), np.float32), np.zeros(32, np.int64)
    return draw(digits_loss, DIGITS_MODEL.init(mr.key(0)), images, labels, path=path, grads=True, depth=2)


def loss_curve_svg(losses, width: int = 480, height: int = 300) -> str:
    """A line plot of ``losses`` against the step, with a log-scaled y axis, as SVG text."""
    left, right, top, bottom = 60, 20, 30, 45
    low = math.floor(math.log10(min(losses)))
    high = math.ceil(math.log10(max(losses)))

    def x_of(step):
        return left + (width - left - right) * step / (len(losses) - 1)

    def y_of(value):
        fraction = (math.log10(value) - low) / (high - low)
        return top + (height - top - bottom) * (1 - fraction)

    points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(losses))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">'
        "mean squared error during gradient descent</text>",
    ]
    for power in range(low, high + 1):
        y = y_of(10.0**power)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">1e{power}</text>')
    steps = len(losses) - 1
    for step in range(0, steps + 1, max(1, steps // 5)):
        x = x_of(step)
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{step}</text>')
    parts += [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{(left + width - right) / 2}" y="{height - 8}" text-anchor="middle">step</text>',
        f'<polyline points="{points}" fill="none" stroke="#2563eb" stroke-width="2"/>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


# The transformer of the attention figure: the names example's at half its width (4 heads
# of 8), trained briefly so the script (and its test) runs in seconds.
ATTENTION_DIM, ATTENTION_STEPS, ATTENTION_BATCH, ATTENTION_LR, ATTENTION_SEED = 32, 300, 32, 4e-3, 0


def attention_weights(model: TransformerModel, params, ids):
    """Each head's attention weights in the first block on ``ids``: ``(heads, T, T)``.

    The block's own steps up to the softmax: embeddings, the first layer norm, the
    queries and keys of ``nn.MultiHeadAttention``, the causal mask.
    """
    ids = np.asarray(ids)[None]
    block, head_size = params["blocks"][0], model.dim // model.heads
    h = params["tokens"]["table"][ids] + params["positions"]["table"][: ids.shape[1]]
    normed = nn.LayerNorm(model.dim).apply(block["norm1"], h)
    linear = nn.Linear(model.dim, model.dim)

    def heads(name):  # (1, T, dim) -> (heads, T, head_size)
        projected = linear.apply(block["attention"][name], normed)
        return np.asarray(projected).reshape(ids.shape[1], model.heads, head_size).transpose(1, 0, 2)

    scores = heads("q") @ heads("k").transpose(0, 2, 1) / math.sqrt(head_size)
    scores = np.where(nn.causal_mask(ids.shape[1]), scores, -np.inf)
    return np.asarray(nn.softmax(scores, axis=-1))


def train_name_transformer():
    """A small transformer after ``ATTENTION_STEPS`` steps: ``(model, params, data, val_loss)``,
    the loss on the first 2,000 validation names (as the example reports it while training)."""
    data = names.load_data()
    model = TransformerModel(data.vocab.size, data.length, dim=ATTENTION_DIM)
    params, curves = names.train(
        model,
        data,
        ATTENTION_STEPS,
        ATTENTION_BATCH,
        ATTENTION_LR,
        mr.key(ATTENTION_SEED),
        report_every=ATTENTION_STEPS,
        quiet=True,
    )
    return model, params, data, curves.val[-1]


def attention_figure(path: pathlib.Path, plt) -> dict:
    """Draw one head's weights on a sampled name to ``path``; return what the docs quote."""
    model, params, data, val_loss = train_name_transformer()
    samples = names.sample(model, params, data.vocab, data.length, mr.key(ATTENTION_SEED + 1))
    name = next(s for s in samples if 6 <= len(s) <= 10)  # long enough to show a pattern
    ids = [0, *data.vocab.encode(name)]  # the boundary, then the letters
    weights = attention_weights(model, params, ids)
    # The head whose weights are most concentrated (the least mean entropy per query).
    entropy = -(weights * np.log(np.where(weights > 0, weights, 1.0))).sum(axis=-1).mean(axis=-1)
    head = int(np.argmin(entropy))
    labels = [".", *name]
    figure, axes = plt.subplots(figsize=(4.8, 4.2))
    image = axes.imshow(weights[head], cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("key (the character attended to)")
    axes.set_ylabel("query (predicting the next character)")
    axes.set_title(f"head {head} of {model.heads} on {name!r}")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    figure.savefig(path, metadata={"Date": None})  # no timestamp: the file changes only with its content
    plt.close(figure)
    return {"name": name, "head": head, "val_loss": val_loss, "weights": weights[head]}


def _matplotlib():
    """``matplotlib.pyplot`` (headless, reproducible SVG), or None if it is not installed."""
    try:
        import matplotlib  # noqa: PLC0415 - an optional dependency (the examples extra)
    except ImportError:
        return None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "minigrad"
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def main(out_dir: pathlib.Path = FIGURES, suffix: str = ".svg") -> list[pathlib.Path]:
    """Write every figure into ``out_dir``; program graphs get ``suffix`` (.svg or .dot)."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Frames in the graphs name source files relative to the working directory.
    here = os.getcwd()
    os.chdir(REPO)
    try:
        written = [
            draw(seed.z, 2.0, 3.0, path=out_dir / f"seed{suffix}", values=True).path,
            draw(seed.z, 2.0, 3.0, path=out_dir / f"seed_gradient{suffix}", grads=True, values=True).path,
            draw(clipped_decay, 3.0, path=out_dir / f"control_flow{suffix}", grads=True).path,
            draw_digits_layers(out_dir / f"digits_layers{suffix}").path,
        ]
    finally:
        os.chdir(here)
    _, losses = fit_line.fit()
    curve = out_dir / "loss_curve.svg"
    curve.write_text(loss_curve_svg(losses))
    written.append(curve)
    plt = _matplotlib()
    if plt is None:
        print("attention.svg: skipped, it is drawn with matplotlib (pip install minigrad[examples]).")
    else:
        written.append(out_dir / "attention.svg")
        drawn = attention_figure(written[-1], plt)
        print(
            f"attention.svg: {ATTENTION_STEPS} steps, validation loss {drawn['val_loss']:.4f} nats/char "
            f"(first 2,000 names); "
            f"head {drawn['head']} on {drawn['name']!r}"
        )
        print(np.array2string(drawn["weights"], precision=2, suppress_small=True))
    return written


if __name__ == "__main__":
    for path in main(suffix=".dot" if "--dot" in sys.argv[1:] else ".svg"):
        print(path)
