"""Every explorer in the book, one module per chapter.

Importing this package registers them all in ``nnlib.widgets.REGISTRY``, so
tests and ``bench/widgets.py`` can drive every explorer without running the
lessons.
"""

from ..widgets import REGISTRY

__all__ = ["REGISTRY"]
