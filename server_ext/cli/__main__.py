"""``python -m server_ext.cli``: the same as ``jupyter cascade``."""

import sys

from . import main

sys.exit(main())
