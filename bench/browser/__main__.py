"""``python -m bench.browser [--smoke] [--reps N]``: the browser rows, one table."""

import sys

from ..common import main
from . import run_alone

sys.exit(
    main([run_alone], "Reactive latency and page cost in Lab 4, Notebook 7, nbclassic (Chromium).")
)
