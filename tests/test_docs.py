"""The documentation cannot rot: its code runs, its links resolve, its figures are made
by a script, and the API pages name everything the modules export.

``>>>`` blocks in Markdown are doctests (pytest runs them with --doctest-glob='*.md');
this file executes the other ```python blocks, each page's blocks in order in one
namespace, as a reader would run them.
"""

import importlib.util
import pathlib
import re

import numpy as np
import pytest

import minigrad
import minigrad.datasets
import minigrad.io
import minigrad.nn
import minigrad.numpy
import minigrad.optim
import minigrad.random
import minigrad.testing
import minigrad.tree
import minigrad.viz
from minigrad.examples.name_models import TransformerModel

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
# Code blocks that are not Python programs: program output, diagrams, shell commands.
OTHER_LANGUAGES = {"text", "sh"}


def page_id(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT))


def blocks(path: pathlib.Path):
    """(language, first line number of the code, code) of each fenced block."""
    text = path.read_text()
    for match in FENCE.finditer(text):
        yield match[1].strip(), text[: match.start(2)].count("\n") + 1, match[2]


def script_blocks(path):
    return [
        (line, code) for language, line, code in blocks(path) if language == "python" and ">>>" not in code
    ]


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_every_block_is_tagged_and_doctests_are_closed(path):
    for language, line, code in blocks(path):
        where = f"{page_id(path)}:{line}"
        assert language in {"python", *OTHER_LANGUAGES}, f"{where}: untagged or unknown block {language!r}"
        if ">>>" in code:
            # Without a blank line, doctest would expect the closing fence as output.
            assert code.endswith("\n\n"), f"{where}: end the doctest block with a blank line"


@pytest.mark.parametrize("path", [p for p in PAGES if script_blocks(p)], ids=page_id)
def test_python_blocks_run(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # blocks may write files
    namespace = {"__name__": "__docs__"}
    for line, code in script_blocks(path):
        # Padding keeps line numbers in tracebacks equal to the page's.
        exec(compile("\n" * (line - 1) + code, str(path), "exec"), namespace)


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_links_and_images_resolve(path):
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if "://" in target:
            continue
        file = target.split("#")[0]
        if file:
            assert (path.parent / file).exists(), f"{page_id(path)} links to missing {target}"


@pytest.mark.parametrize(
    "module, page",
    [
        (minigrad.numpy, "api/numpy.md"),
        (minigrad.numpy.linalg, "api/numpy.md"),
        (minigrad.tree, "api/tree.md"),
        (minigrad.testing, "api/testing.md"),
        (minigrad.viz, "api/viz.md"),
        (minigrad.random, "api/random.md"),
        (minigrad.nn, "api/nn.md"),
        (minigrad.optim, "api/optim.md"),
        (minigrad.io, "api/io.md"),
        (minigrad.datasets, "api/datasets.md"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_api_pages_name_every_export(module, page):
    text = (DOCS / page).read_text()
    missing = [
        name
        for name in module.__all__
        if not re.search(rf"`{re.escape(name)}[`(]", text) and not name.isupper()  # constants are internal
    ]
    assert not missing, f"{page} does not document {missing}"


def test_transforms_page_names_every_export():
    text = (DOCS / "api/transforms.md").read_text()
    missing = [name for name in minigrad.__all__ if f"`{name}" not in text and name not in ("tree", "numpy")]
    assert not missing, missing


def load_make_figures():
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_figures_are_made_by_the_script(tmp_path):
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    written = load_make_figures().main(tmp_path, suffix=".dot")
    assert sorted(p.name for p in written) == [
        *(["attention.svg"] if has_matplotlib else []),
        "control_flow.dot",
        "digits_layers.dot",
        "loss_curve.svg",
        "seed.dot",
        "seed_gradient.dot",
    ]
    if has_matplotlib:
        # matplotlib keeps each text as a comment beside its glyphs: the title names the head.
        assert re.search(r"head \d of 4 on '[a-z]+'", (tmp_path / "attention.svg").read_text())
    seed = (tmp_path / "seed.dot").read_text()
    # the seed example's values and gradients: z(2, 3) = 6.909, dz/dx1 = 2.584, dz/dx2 = 2
    assert "data 6.909 | grad 1" in seed and "data 2 | grad 2.584" in seed and "data 3 | grad 2" in seed
    assert "minigrad/examples/seed.py:" in seed
    gradient = (tmp_path / "seed_gradient.dot").read_text()
    assert "backward pass" in gradient and "data 2.584" in gradient
    # the loop and its branches are frames, in the program and in its gradient program
    frames = re.findall(
        r'subgraph (cluster_\w+) \{\n\s*label="([^"]*)"', (tmp_path / "control_flow.dot").read_text()
    )
    labels = [label for _, label in frames]
    assert labels.count("scan × 100") == 2 and labels.count("reverse scan × 100") == 1
    assert labels.count("cond") == 3 and labels.count("branch 0") == labels.count("branch 1") == 3
    # the digits MLP by layer: a box per Linear layer and the loss, in both programs
    layers = (tmp_path / "digits_layers.dot").read_text()
    assert layers.count('label="Linear #1') == layers.count('label="Linear #2') == 2
    assert layers.count('label="softmax_cross_entropy') == 2 and "16,640 parameters" in layers
    points = re.search(r'points="([^"]*)"', (tmp_path / "loss_curve.svg").read_text())[1].split()
    heights = [float(p.split(",")[1]) for p in points]
    assert len(heights) == 100 and heights[-1] > heights[0]  # SVG y grows downwards: the loss fell


def test_attention_weights_of_the_figure_are_causal_distributions():
    make_figures = load_make_figures()
    model = TransformerModel(27, 14, dim=8, heads=2)
    params = model.init(minigrad.random.key(0))
    weights = make_figures.attention_weights(model, params, [0, 5, 1, 3])
    assert weights.shape == (2, 4, 4)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)
    assert not np.triu(weights, k=1).any()  # no query sees a later key
    # The same weights as the block computes them: the block's attention output is their mean of values.
    block = params["blocks"][0]
    x = params["tokens"]["table"][[0, 5, 1, 3]] + params["positions"]["table"][:4]
    normed = minigrad.nn.LayerNorm(8).apply(block["norm1"], x)
    values = np.asarray(minigrad.nn.Linear(8, 8).apply(block["attention"]["v"], normed)).reshape(4, 2, 4)
    joined = np.einsum("hqk,khd->qhd", weights, values).reshape(4, 8)
    expected = minigrad.nn.MultiHeadAttention(8, 2, causal=True).apply(block["attention"], normed[None])[0]
    np.testing.assert_allclose(
        minigrad.nn.Linear(8, 8).apply(block["attention"]["o"], joined), expected, rtol=1e-4, atol=1e-6
    )


def test_committed_figures_exist():
    names = (
        "seed.svg",
        "seed_gradient.svg",
        "loss_curve.svg",
        "control_flow.svg",
        "digits_layers.svg",
        "attention.svg",
    )
    for name in names:
        assert (DOCS / "figures" / name).read_text().lstrip().startswith(("<?xml", "<svg")), name
