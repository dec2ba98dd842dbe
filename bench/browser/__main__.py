"""``python -m bench.browser [--smoke] [--reps N]``: the browser rows, one table."""

import sys

from ..common import main
from . import run

sys.exit(main([run], "Reactive latency and page cost in Lab 4, Notebook 7, nbclassic (Chromium)."))
