"""``jupyter cascade …``: one console script, one module per subcommand.

Every module in this package that defines ``add_parser(subparsers)`` is a
subcommand; ``add_parser`` registers its arguments and sets ``handler``, a
function of the parsed arguments that returns the exit status. A subcommand
is added by adding its module, so two of them never edit the same file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter cascade",
        description="Reactive notebook execution for every Jupyter frontend.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        add_parser = getattr(module, "add_parser", None)
        if callable(add_parser):
            add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jupyter-cascade`` script (``jupyter cascade`` finds it)."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
