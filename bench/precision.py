"""Recall and precision of cascades over the scenario suite, through a real server.

    python bench/precision.py [-k substring] [-v]

Recall: of the cells that had to re-run (the scenarios' expected sets), the
share that did. Precision: of the cells the cascade ran, the share that had
to. Counted over the last step of every scenario in ``tests/scenarios`` (the
same table and harness the test suite uses, including scenarios marked xfail),
with a per-scenario list of misses, extra runs and output differences from the
restart-and-run-all oracle. FAIL marks a defect (a miss, an output that differs
from the oracle, a broken session), EXTRA a scenario whose only problem is
extra runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from scenarios import ALL_SCENARIOS  # noqa: E402
from scenarios.harness import Runner, measures  # noqa: E402
from scenarios.server import ScenarioServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only scenarios whose name contains this")
    parser.add_argument("-v", action="store_true", help="list every scenario, not only problems")
    args = parser.parse_args()
    chosen = [s for s in ALL_SCENARIOS if args.k in s.name]
    server = ScenarioServer().start()
    runner = Runner(server)
    outcomes = []
    started = time.monotonic()
    try:
        runner.prefetch(chosen)
        for scenario in chosen:
            outcome = runner.run(scenario)
            outcomes.append(outcome)
            problems = outcome.failures()
            if problems or args.v:
                status = "FAIL " if outcome.defects() else "EXTRA" if problems else "ok   "
                print(f"{status} {scenario.name} ({outcome.seconds:.1f}s)")
                for line in problems:
                    print(f"       {line}")
    finally:
        runner.close()
        server.stop()
    recall, precision, needed, ran, hits = measures(outcomes)
    clean = sum(1 for o in outcomes if not o.failures())
    failed = sum(1 for o in outcomes if o.defects())
    print(
        f"\n{len(outcomes)} scenarios in {time.monotonic() - started:.0f}s: {clean} exact, "
        f"{failed} failed (a miss, a wrong output or a broken session)\n"
        f"recall    {recall:.3f}  ({hits} of {needed} cells that had to re-run did)\n"
        f"precision {precision:.3f}  ({hits} of {ran} cells re-run had to)"
    )
    return 0 if recall == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
