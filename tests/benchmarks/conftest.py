"""The smoke tests import `benchmarks` from the checkout; `keras_resize_layers` stays the
copy under test (the installed wheel in .ci/run): the checkout goes last on sys.path."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.append(ROOT)
