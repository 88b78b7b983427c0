"""`import tracker` and `%load_ext tracker`: an alias of :mod:`jupyter_tracker`.

(PyPI has an unrelated project named `tracker`; if it shadows this one, use `%load_ext jupyter_tracker`.)
"""

import sys

import jupyter_tracker

sys.modules[__name__] = jupyter_tracker
