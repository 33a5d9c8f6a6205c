"""Every explorer in the book, one module per chapter.

Importing this package registers them all in ``nnlib.widgets.REGISTRY``, so
tests and ``bench/widgets.py`` can drive every explorer without running the
lessons.
"""

from ..widgets import REGISTRY
from . import (ch1_regression, ch2_networks, ch3_losses, ch4_learning_rate,  # noqa: F401  (registers explorers)
               ch5_momentum, ch6_overfitting)

__all__ = ["REGISTRY"]
