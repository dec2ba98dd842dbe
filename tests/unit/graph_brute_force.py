"""Brute forces over a graph's records, for tests that check the graph's kept or
indexed answers: every cell against every other, the overlap rule of DESIGN §2,
no index. Shared by the unit tests of the graph (imported by module name: pytest
puts this folder on ``sys.path``)."""

from __future__ import annotations

from kernel_agent.core.graph import ANY_PATH, CellRecord, Graph
from kernel_agent.core.paths import overlaps


def shares(source: CellRecord, target: CellRecord) -> list[str]:
    """The paths ``target`` used that ``source`` defined, sorted."""
    if ANY_PATH in target.uses:
        return sorted(source.defines)
    if ANY_PATH in source.defines:
        return sorted(target.uses)
    return sorted(u for u in target.uses if any(overlaps(d, u) for d in source.defines))


def brute_edges(graph: Graph) -> list[tuple[str, str, list[str]]]:
    """Every definer → user edge, by target in record order, each target's by source id."""
    found = []
    for target in graph.records.values():
        for source_id in sorted(graph.records):
            if source_id != target.cell_id:
                symbols = shares(graph.records[source_id], target)
                if symbols:
                    found.append((source_id, target.cell_id, symbols))
    return found
