"""What chapter 3's experiments rest on: the vectorised α sweep is the Module loop, run many at once.

``alpha_sweep`` trains every (α, seed) of the two-task network together in
plain numpy (``_train_many``), because the lesson needs 55 runs in a few
seconds. These tests pin it to the reference: ``train_two_task``, which
trains one ``TwoHeadNet`` with ``CombinedLoss`` and ``nnlib.optim.Adam``.
"""

import numpy as np
import pytest

from nnlib.explorers import ch3_losses as ch3
from nnlib.losses import CombinedLoss, CrossEntropyLoss, MSELoss


@pytest.mark.parametrize("seeds", [(0,), (3, 1)])
def test_vectorised_sweep_equals_the_module_loop(seeds):
    alphas = (0.0, 0.3, 0.9, 1.0)
    sweep = ch3.alpha_sweep(alphas, seeds, epochs=3, width=4)
    assert set(sweep) == {(a, s) for a in alphas for s in seeds}
    for (a, s), run in sweep.items():
        ref = ch3.train_two_task(a, s, epochs=3, width=4)
        assert (run.alpha, run.seed) == (a, s)
        np.testing.assert_array_equal(run.val_acc, ref.val_acc)
        for name in ("val_ce", "val_mse"):
            np.testing.assert_allclose(getattr(run, name), getattr(ref, name), rtol=1e-12, atol=1e-13)
        for mine, theirs in zip(run.model.parameters(), ref.model.parameters()):
            np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-11, atol=1e-13)


def test_vectorised_sweep_records_the_training_objective():
    """train_loss is the epoch's mean minibatch objective (1 - α) CE + α MSE, which falls as the net learns."""
    run = ch3.alpha_sweep((0.4,), (2,), epochs=1, width=4)[0.4, 2]
    d = ch3.load_task_data()
    # after one epoch the recorded loss is the mean over that epoch's minibatches: between the start and the end
    start = ch3.TwoHeadNet(width=4, rng=2)
    loss_fn = CombinedLoss([CrossEntropyLoss(), MSELoss()], weights=[0.6, 0.4])
    before = loss_fn(start(d.X_train), [d.y_train, d.ink_train])
    after = loss_fn(run.model(d.X_train), [d.y_train, d.ink_train])
    assert run.train_loss.shape == (1,)
    assert after < run.train_loss[0] < before


def test_alpha_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        ch3.alpha_sweep((0.5, 1.5), (0,), epochs=1)
    with pytest.raises(ValueError, match="must not be empty"):
        ch3.alpha_sweep((), (0,), epochs=1)


def test_tradeoff_explorer_draws_each_seed_not_their_mean():
    """The α explorer's curves are per seed (a mean would blend seeds that switch regime at different epochs)."""
    acc, log_mse = ch3._curves()
    sweep = ch3.alpha_sweep()
    assert acc.shape == log_mse.shape == (len(ch3.ALPHAS), len(ch3.SEEDS), ch3.EPOCHS)
    for i, a in enumerate(ch3.ALPHAS):
        for j, s in enumerate(ch3.SEEDS):
            np.testing.assert_array_equal(acc[i, j], sweep[a, s].val_acc)
            np.testing.assert_allclose(10 ** log_mse[i, j], sweep[a, s].val_mse, rtol=1e-12)
