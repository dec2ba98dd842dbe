"""``python -m bench``: every benchmark, one table (see bench/README.md)."""

import sys

from .run_all import main

sys.exit(main())
