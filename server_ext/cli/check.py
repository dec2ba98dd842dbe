"""``jupyter cascade check NOTEBOOK…``: is each saved notebook what restart-and-run-all
shows? Exit status 1 when there are findings, 0 when none, 2 on usage errors or
unreadable notebooks. The rules live in :mod:`server_ext.consistency`; here only
arguments and output (docs/check.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server_ext.consistency import RULES, CheckOptions, check_path
from server_ext.consistency.report import FORMATS, render


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check that saved notebooks are what restart-and-run-all shows (for CI)",
        description=__doc__,
        epilog="rules: " + ", ".join(f"{r.code} {r.name}" for r in RULES.values()),
    )
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help=".ipynb files")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--execute",
        action="store_true",
        help="also run each notebook top to bottom in a fresh kernel and compare outputs",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="with --execute: seconds each cell may run (default 60; 0 = no limit)",
    )
    parser.add_argument(
        "--kernel", metavar="NAME", help="with --execute: kernel to use (default: the notebook's)"
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        help="rule code(s) not to report, comma separated or repeated (e.g. CC105)",
    )
    parser.add_argument(
        "--no-metadata",
        action="store_true",
        help="ignore the persisted dependency metadata (analyse the sources only)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    ignore = {code.strip().upper() for item in args.ignore for code in item.split(",") if code}
    unknown = sorted(ignore - set(RULES))
    if unknown:
        print(f"jupyter cascade check: unknown rule code(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    if args.timeout < 0:
        print("jupyter cascade check: --timeout must be >= 0", file=sys.stderr)
        return 2
    options = CheckOptions(
        execute=args.execute,
        timeout=args.timeout or None,
        kernel_name=args.kernel,
        use_metadata=not args.no_metadata,
        ignore=frozenset(ignore),
    )
    reports = [check_path(path, options) for path in args.notebooks]
    for report in reports:
        if report.error is not None:
            print(f"jupyter cascade check: {report.error}", file=sys.stderr)
    print(render(reports, args.format))
    if any(report.error is not None for report in reports):
        return 2
    return 1 if any(report.findings for report in reports) else 0
