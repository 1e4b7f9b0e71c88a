"""A character-level language model that invents surnames, from counting bigrams to attention.

Run ``python -m minigrad.examples.names --model transformer`` (or ``bigram``, ``mlp``,
``gru``). It trains a next-character model on 80% of the 88,799 surnames of the 1990
US Census, prints the training and validation loss in nats per character as it goes,
then the test loss and 20 names sampled from the model (``--temperature`` sharpens or
flattens them). ``--save``/``--load`` keep checkpoints, ``--plot PNG`` draws the curves.

The bigram model is a check of the whole pipeline: trained by gradient descent, its
loss on the training names converges to the cross-entropy of the count-based bigram
(each next-character probability the fraction of times it followed), printed beside it.
See docs/language-model.md.
"""

from __future__ import annotations

import argparse
import time

import attrs
import numpy as np

import minigrad as mg
import minigrad.random as mr
from minigrad import datasets, io, nn, optim
from minigrad.examples.flags import check_matplotlib, int_at_least, positive_float
from minigrad.examples.name_models import MODELS, encode_names, make_model

__all__ = ["main", "load_data", "count_bigram_loss", "train", "evaluate", "sample", "NameData", "Curves"]

# The split is fixed, so runs with different seeds are scored on the same names.
SPLIT_SEED = 1990
# Steps, batch size (names) and peak learning rate per model, each under a minute on 2 cores.
DEFAULTS = {
    "bigram": (2000, 256, 0.1),
    "mlp": (4000, 128, 3e-3),
    "gru": (2000, 32, 5e-3),
    "transformer": (3600, 48, 4e-3),
}
# Progress reports score this many validation names (all of them at the end).
PROGRESS_NAMES = 2000


@attrs.frozen
class NameData:
    """The vocabulary, the padded length and ``(inputs, targets, mask)`` for each split.

    Example:
      >>> mask = load_data().test[2]
      >>> bool(mask.sum() > len(mask))  # more targets than names
      True
    """

    vocab: datasets.CharVocabulary
    length: int
    train: tuple
    val: tuple
    test: tuple


def load_data() -> NameData:
    """The surnames, split 80/10/10 with a fixed key and encoded for next-character prediction.

    Example:
      >>> data = load_data()
      >>> data.vocab.size, data.length, data.train[0].shape
      (27, 14, (71039, 14))
    """
    names = datasets.surnames()
    vocab = datasets.CharVocabulary.from_texts(names)
    length = max(map(len, names)) + 1
    splits = datasets.split_by_key(names, mr.key(SPLIT_SEED))
    return NameData(vocab, length, *(encode_names(split, vocab, length) for split in splits))


def _bigram_counts(split, vocab_size: int):
    inputs, targets, mask = split
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (inputs[mask], targets[mask]), 1.0)
    return counts


def count_bigram_loss(data: NameData, split: str = "train", smoothing: float = 0.0) -> float:
    """Nats per character of the count-based bigram of the training names, on ``split``.

    ``P(next | previous) = (count + smoothing) / (row total + smoothing * vocab)``;
    on the training names themselves no smoothing is needed (every pair seen has a count).

    Example:
      >>> round(count_bigram_loss(load_data()), 4)
      2.5643
    """
    counts = _bigram_counts(data.train, data.vocab.size) + smoothing
    log_probs = np.log(np.maximum(counts, 1e-300)) - np.log(counts.sum(axis=1, keepdims=True))
    evaluated = _bigram_counts(getattr(data, split), data.vocab.size)
    return float(-(evaluated * np.where(evaluated > 0, log_probs, 0.0)).sum() / evaluated.sum())


def _loss_fn(model):
    def loss(params, inputs, targets, mask):
        return nn.cross_entropy(model.apply(params, inputs), targets, where=mask)

    return loss


def evaluate(model, params, split, batch_size: int = 2048) -> float:
    """The mean loss per character (nats) of ``model`` over a whole split.

    Example:
      >>> from minigrad.examples.name_models import Bigram
      >>> data = load_data()
      >>> round(evaluate(Bigram(27), Bigram(27).init(None), data.val), 4) == round(float(np.log(27)), 4)
      True
    """
    inputs, targets, mask = split
    loss = mg.jit(_loss_fn(model))
    total = 0.0
    for start in range(0, len(inputs), batch_size):
        part = slice(start, start + batch_size)
        total += float(loss(params, inputs[part], targets[part], mask[part])) * int(mask[part].sum())
    return total / int(mask.sum())


@attrs.define
class Curves:
    """Losses as training goes: the steps, the mean training loss since the previous
    report, and the validation loss there.

    Example:
      >>> Curves().steps
      []
    """

    steps: list = attrs.field(factory=list)
    train: list = attrs.field(factory=list)
    val: list = attrs.field(factory=list)


def train(
    model,
    data: NameData,
    steps: int,
    batch_size: int,
    lr: float,
    key,
    params=None,
    report_every=None,
    quiet=False,
):
    """Train with Adam (warm-up, then cosine decay) on random batches of names.

    Returns ``(params, curves)``. ``key`` makes the initial parameters and the batches.
    Each report scores the first ``PROGRESS_NAMES`` validation names (quicker than all).

    Example:
      >>> from minigrad.examples.name_models import Bigram
      >>> params, curves = train(Bigram(27), load_data(), 20, 32, 0.1, mr.key(0), quiet=True)
      >>> curves.steps, curves.val[-1] < float(np.log(27))
      ([4, 8, 12, 16, 20], True)
    """
    params = model.init(mr.fold_in(key, 0)) if params is None else params
    schedule = optim.warmup_cosine_decay_schedule(
        0.0, lr, max(steps // 20, 1), max(steps, 2), end_value=lr / 20
    )
    optimizer = optim.adamw(schedule, weight_decay=0.0)
    opt_state = optimizer.init(params)
    value_and_grad = mg.value_and_grad(_loss_fn(model))

    @mg.jit
    def step(params, opt_state, inputs, targets, mask):
        loss, grads = value_and_grad(params, inputs, targets, mask)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    inputs, targets, mask = data.train
    report_every = report_every or max(steps // 5, 1)
    curves, recent, start = Curves(), [], time.perf_counter()
    for index in range(1, steps + 1):
        rows = np.asarray(mr.randint(mr.fold_in(key, index), (batch_size,), 0, len(inputs)))
        params, opt_state, loss = step(params, opt_state, inputs[rows], targets[rows], mask[rows])
        recent.append(float(loss))
        if index % report_every == 0 or index == steps:
            curves.steps.append(index)
            curves.train.append(float(np.mean(recent)))
            curves.val.append(evaluate(model, params, tuple(part[:PROGRESS_NAMES] for part in data.val)))
            recent = []
            if not quiet:
                print(
                    f"step {index:>5}/{steps}  train {curves.train[-1]:.4f}  val {curves.val[-1]:.4f} "
                    f"nats/char  ({time.perf_counter() - start:.1f} s)",
                    flush=True,
                )
    return params, curves


def sample(model, params, vocab, length: int, key, count: int = 20, temperature: float = 1.0) -> list[str]:
    """``count`` names drawn one character at a time from the model's predictions.

    Each next character is drawn from ``softmax(logits / temperature)`` (with the
    Gumbel-max trick), until the boundary character ends the name.

    Example:
      >>> from minigrad.examples.name_models import Bigram
      >>> data = load_data()
      >>> names = sample(Bigram(27), Bigram(27).init(None), data.vocab, data.length, mr.key(0), count=3)
      >>> len(names), all(set(name) <= set(data.vocab.chars[1:]) for name in names)
      (3, True)
    """
    ids = np.zeros((count, length), np.int64)
    apply = mg.jit(model.apply)
    for position in range(length - 1):
        logits = np.asarray(apply(params, ids))[:, position] / temperature
        noise = -np.log(
            -np.log(np.asarray(mr.uniform(mr.fold_in(key, position), logits.shape, np.float64, 1e-12, 1.0)))
        )
        ids[:, position + 1] = np.argmax(logits + noise, axis=-1)
    return [vocab.decode(row[1:]) for row in ids]


def _plot(curves: Curves, path: str, title: str, plt) -> None:
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(curves.steps, curves.train, marker="o", markersize=3, label="training")
    axes.plot(curves.steps, curves.val, marker="o", markersize=3, label="validation")
    axes.set_xlabel("step")
    axes.set_ylabel("loss (nats per character)")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _matplotlib():
    """``matplotlib.pyplot`` (headless), or None if it is not installed."""
    try:
        import matplotlib  # noqa: PLC0415 - an optional dependency

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return None
    return plt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.names", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--model", choices=MODELS, default="transformer", help="the model (default transformer)"
    )
    parser.add_argument(
        "--steps", type=int_at_least(0), help="training steps (default: per model, under a minute)"
    )
    parser.add_argument("--batch-size", type=int_at_least(1), help="names per step (default: per model)")
    parser.add_argument("--lr", type=positive_float, help="peak learning rate (default: per model)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation, batches and samples")
    parser.add_argument(
        "--temperature", type=positive_float, default=1.0, help="sampling temperature (default 1)"
    )
    parser.add_argument("--samples", type=int_at_least(0), default=20, help="names to sample (default 20)")
    parser.add_argument("--report-every", type=int_at_least(1), help="steps between loss reports")
    parser.add_argument("--save", metavar="PATH", help="save the checkpoint here (default names-MODEL.npz)")
    parser.add_argument("--no-save", action="store_true", help="do not save a checkpoint")
    parser.add_argument(
        "--load", metavar="PATH", help="start from this checkpoint (no training unless --steps)"
    )
    parser.add_argument("--plot", metavar="PNG", help="draw the loss curves to this PNG (needs matplotlib)")
    parser.add_argument("--quiet", action="store_true", help="print only the results")
    return parser


def _load_checkpoint(path: str, args, data: NameData):
    checkpoint = io.load(path)
    if checkpoint.get("vocab") != "".join(data.vocab.chars):
        raise ValueError(f"names: the checkpoint {path} was made with another vocabulary; train a new model.")
    if checkpoint["model"] != args.model:
        print(f"names: {path} holds a {checkpoint['model']} model; using it instead of {args.model}.")
        args.model = checkpoint["model"]
    return checkpoint["params"]


def main(argv=None) -> dict:
    """Train, evaluate and sample; returns the numbers it prints (for tests).

    Example:
      >>> import contextlib, io as text
      >>> with contextlib.redirect_stdout(text.StringIO()):
      ...     result = main(["--model", "bigram", "--steps", "10", "--no-save", "--quiet", "--samples", "2"])
      >>> sorted(result)
      ['bigram_train', 'bigram_val', 'samples', 'test', 'train', 'val']
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.plot:
        check_matplotlib(parser)  # a usage error before training, as every example gives
    plt = _matplotlib() if args.plot else None
    data = load_data()
    params = _load_checkpoint(args.load, args, data) if args.load else None
    steps, batch_size, lr = DEFAULTS[args.model]
    steps = args.steps if args.steps is not None else (0 if args.load else steps)
    model = make_model(args.model, data.vocab.size, data.length)
    key = mr.key(args.seed)
    if params is None:
        params = model.init(mr.fold_in(key, 0))
    if not args.quiet:
        print(
            f"names: {len(data.train[0])} training, {len(data.val[0])} validation and {len(data.test[0])} test "
            f"surnames; {data.vocab.size} characters; model {args.model} with {nn.param_count(params):,} parameters"
        )
    start = time.perf_counter()
    params, curves = (
        train(
            model,
            data,
            steps,
            args.batch_size or batch_size,
            args.lr or lr,
            key,
            params,
            args.report_every,
            args.quiet,
        )
        if steps
        else (params, Curves())
    )
    seconds = time.perf_counter() - start
    result = {
        "bigram_val": count_bigram_loss(data, "val", smoothing=1.0),
        "val": evaluate(model, params, data.val),
        "test": evaluate(model, params, data.test),
    }
    if steps:
        print(f"trained {args.model} for {steps} steps in {seconds:.1f} s")
    if args.model == "bigram":
        # The pipeline check: gradient descent finds the counting solution.
        result["bigram_train"] = count_bigram_loss(data)
        result["train"] = evaluate(model, params, data.train)
        print(
            f"training names: {result['train']:.4f} nats/char (counting bigrams gives {result['bigram_train']:.4f})"
        )
    print(f"validation loss: {result['val']:.4f} nats/char (counted bigrams: {result['bigram_val']:.4f})")
    print(f"test loss: {result['test']:.4f} nats/char")
    result["samples"] = sample(
        model, params, data.vocab, data.length, mr.fold_in(key, 1), args.samples, args.temperature
    )
    if args.samples:
        print(f"{args.samples} names at temperature {args.temperature:g}: {' '.join(result['samples'])}")
    if not args.no_save:
        path = args.save or f"names-{args.model}.npz"
        io.save(path, {"model": args.model, "vocab": "".join(data.vocab.chars), "params": params})
        print(f"saved the checkpoint to {path}")
    if plt is not None and curves.steps:
        _plot(curves, args.plot, f"surnames, {args.model}: loss per character", plt)
        print(f"wrote the loss curves to {args.plot}")
    return result


if __name__ == "__main__":
    main()
