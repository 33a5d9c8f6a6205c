"""Chapter 2's lesson: its opening box agrees with its computed verdicts, its batched trainer agrees with nnlib.

The lesson trains hundreds of small networks at once with ``train_many``, a
batched copy of the back-propagation it derives; these tests run that code
(taken from the notebook, not copied) against nnlib's losses and training loop.
They read the committed notebook, whose checked cells keep their outputs.
"""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlib.activations import Sigmoid
from nnlib.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "02_activations_width_depth.ipynb"
NB = nbformat.read(LESSON, as_version=4)
VERDICT = re.compile(r"\*\*Verdict: (holds when|does not hold|holds)\*\*")
CHECKED = {"keep_output", "nbval-check-output"}


def _output_text(cell, mime):
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", "") if mime == "text/plain" else "")
        else:
            texts.append(out.get("data", {}).get(mime, ""))
    return "".join(t if isinstance(t, str) else "".join(t) for t in texts)


def _computed_verdicts():
    """{section label: [verdict labels in order]} from the stored outputs of the checked verdict cells."""
    found, section = {}, None
    for cell in NB.cells:
        if cell.cell_type == "markdown":
            labels = re.findall(r"^\((sec-ch2-[a-z-]+)\)=", cell.source, flags=re.M)
            if labels:
                section = labels[-1]
        elif cell.cell_type == "code":
            for label in VERDICT.findall(_output_text(cell, "text/markdown")):
                found.setdefault(section, []).append(label)
    return found


def _phrases(text):
    """The verdict phrases in a piece of box text, longest first so "holds when" is not also "holds"."""
    text = " ".join(text.split())
    phrases = []
    for phrase in ("does not hold", "holds when", "holds"):
        while phrase in text:
            phrases.append(phrase)
            text = text.replace(phrase, " ", 1)
    return sorted(phrases)


def test_every_claim_check_has_a_stored_verdict():
    verdicts = _computed_verdicts()
    for section in ["sec-ch2-claim-sigmoid", "sec-ch2-claim-tanh", "sec-ch2-claim-output", "sec-ch2-claim-relu",
                    "sec-ch2-claim-halves"]:
        assert verdicts.get(section), f"{LESSON.name}: no stored verdict in section {section}"


def test_opening_box_matches_the_computed_verdicts():
    box = NB.cells[0].source
    assert "{admonition} In this chapter" in box
    links = dict((target, text) for text, target in re.findall(r"\[([^\]]+)\]\(#(sec-ch2-claim-[a-z-]+)\)", box,
                                                                re.S))
    verdicts = _computed_verdicts()
    for section, labels in verdicts.items():
        if section and section.startswith("sec-ch2-claim-"):
            assert section in links, f"the opening box does not link the claim check {section}"
            assert _phrases(links[section]) == sorted(labels), \
                f"box says {_phrases(links[section])} for {section}, the lesson computed {labels}"


def test_verdict_and_prose_cells_are_hidden_and_checked():
    for n, cell in enumerate(NB.cells):
        if cell.cell_type == "code" and re.search(r"^(verdict|Prose)\(", cell.source, flags=re.M):
            tags = set(cell.metadata.get("tags", []))
            assert "hide-input" in tags and cell.metadata.get("jupyter", {}).get("source_hidden"), \
                f"cell {n}: computed prose must come from a hidden cell"
            assert CHECKED <= tags, f"cell {n}: a verdict or prose cell must be checked by nbval"


@pytest.fixture(scope="module")
def lesson_code():
    """The lesson's batched trainer, executed from the notebook's own cell."""
    source = next(c.source for c in NB.cells if c.cell_type == "code" and "def train_many" in c.source)
    source = source[:source.index("# check:")]
    namespace = {}
    exec("import itertools\nimport numpy as np\nfrom nnlib.explorers.ch2_networks import mlp\n" + source, namespace)
    return namespace


@pytest.mark.parametrize("head, loss_cls, k", [("softmax", CrossEntropyLoss, 2), ("softmax", CrossEntropyLoss, 3),
                                               ("sigmoid", BCEWithLogitsLoss, 3), ("linear", MSELoss, 2),
                                               ("sigmoid_mse", MSELoss, 2)])
def test_batched_losses_match_nnlib(lesson_code, head, loss_cls, k):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(3, 7, k)) * 3
    if head == "softmax":
        labels = rng.integers(0, k, size=(3, 7))
        T = np.eye(k)[labels]
    else:
        T = rng.random((3, 7, k)) if head in ("linear", "sigmoid_mse") else (rng.random((3, 7, k)) > 0.5).astype(float)
    losses, G = lesson_code["mean_loss"](head, Z, T), lesson_code["loss_grad"](head, Z, T)
    for r in range(3):
        loss_fn = loss_cls()
        if head == "sigmoid_mse":                    # nnlib: a Sigmoid layer, then MSELoss
            out = Sigmoid()
            expected = loss_fn(out(Z[r]), T[r])
            expected_grad = out.backward(loss_fn.backward())
        else:
            expected = loss_fn(Z[r], labels[r] if head == "softmax" else T[r])
            expected_grad = loss_fn.backward()
        assert losses[r] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(G[r], expected_grad, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", ["mean_loss", "loss_grad"])
def test_batched_loss_rejects_an_unknown_head(lesson_code, name):
    with pytest.raises(ValueError, match=f"{name}: head must be one of"):
        lesson_code[name]("relu", np.zeros((1, 2, 2)), np.zeros((1, 2, 2)))


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_train_many_matches_nnlib_fit(lesson_code, act):
    from nnlib.explorers.ch2_networks import make_dataset, mlp
    from nnlib.losses import CrossEntropyLoss
    from nnlib.optim import SGD
    from nnlib.train import fit

    ds = make_dataset("circles")
    X, y = ds.X_train, ds.y_train
    Ws, bs = lesson_code["stacked_mlp"](4, 3, act, seeds=[5, 6], gain=1.5)
    lesson_code["train_many"](Ws, bs, X, np.eye(2)[y], act, lr=[0.2, 0.7], steps=20)
    for r, (seed, lr) in enumerate([(5, 0.2), (6, 0.7)]):
        model = mlp(4, 3, act, rng=seed)
        for layer in model[::2]:
            layer.weight.data *= 1.5
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=lr), X, y, epochs=20, batch_size=len(X),
            shuffle=False, rng=None, progress=False)
        for l, layer in enumerate(model[::2]):
            np.testing.assert_allclose(Ws[l][r], layer.weight.data, rtol=0, atol=1e-10)
            np.testing.assert_allclose(bs[l][r, 0], layer.bias.data, rtol=0, atol=1e-10)


def test_train_many_with_an_activation_per_network_matches_one_stack_per_activation(lesson_code):
    # the race trains several activations in one stack; each network must end exactly as in a stack of its own
    stacked_mlp, train_many = lesson_code["stacked_mlp"], lesson_code["train_many"]
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 40, 2)).astype(np.float32)
    T = np.eye(2, dtype=np.float32)[rng.integers(0, 2, size=(6, 40))]
    acts, lrs = ["tanh", "tanh", "relu", "leaky_relu", "leaky_relu", "sigmoid"], [0.1, 0.5, 0.3, 0.2, 1.0, 3.0]
    nets = [stacked_mlp(5, 3, act, [r], dtype=np.float32) for r, act in enumerate(acts)]
    Ws, bs = ([np.concatenate(layer) for layer in zip(*[net[i] for net in nets])] for i in (0, 1))
    start = [W.copy() for W in Ws]
    train_many(Ws, bs, X, T, acts, lrs, steps=30)
    assert all(np.abs(W - W0).max() > 1e-3 for W, W0 in zip(Ws, start)), "training moved no weight"
    for r, (act, (W1, b1)) in enumerate(zip(acts, nets)):
        train_many(W1, b1, X[r:r + 1], T[r:r + 1], act, lrs[r], steps=30)
        for l in range(4):
            np.testing.assert_array_equal(Ws[l][r], W1[l][0], err_msg=f"network {r} ({act}), layer {l}")
            np.testing.assert_array_equal(bs[l][r], b1[l][0], err_msg=f"network {r} ({act}), layer {l}")
