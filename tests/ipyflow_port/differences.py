"""Where we differ from ipyflow: on purpose (our check replaces ipyflow's at a step) or a gap.

Each difference on purpose names the script step (1-based, as the failure
messages count) and the check we give there; every other step still checks
ipyflow's answer. The reasons are docs/semantics.md §8; the gaps are MAPPING.md
"Known gaps" (strict xfails: a fix makes them fail until the entry goes).
"""

from __future__ import annotations

from dataclasses import replace

from .cases import Action, Case, Probe, States, states

#: a name a cell binds itself before reading it is not an input of the cell
SELF = (
    "a name the cell bound itself before reading it is not an input: a later rebinding "
    "does not make the cell stale (run-all runs it with its own binding)"
)
#: waiting is cell-level
CELL = (
    "waiting is cell-level: a cell that read anything from a stale or waiting cell is "
    "waiting; ipyflow tracks the symbols inside that cell"
)
#: any_order: a later definition of an overlapping path makes the reader stale
ANY = (
    "any_order: a later definition of a path overlapping one the cell read (an in-place "
    "change of an aliased object, a class attribute, a rebinding) makes it stale"
)
DYN = "a subscript with a computed index (lst[i], lst[x]) reads and writes the whole list"
SHIFT = "del/pop/remove/insert/clear change the list's slots from the index on (clear: all)"
API = "the state API works on global paths: a function's locals are not symbols"
#: an in-place call reads its whole receiver
RECEIVER = (
    "an in-place call (append, extend) reads its whole receiver: its result rests on the "
    "list's length and earlier changes, so a change to any slot makes it stale (any_order) "
    "and a replay of it replays the earlier appends"
)


def waiting(cell: int) -> States:
    return States(waiting=frozenset({cell}), only=frozenset({cell}))


def fresh(cell: int) -> States:
    return States(only=frozenset({cell}))


#: case name -> (why, {step: our check})
OURS: dict[str, tuple[str, dict[int, Action]]] = {
    # -- test_frontend_checker.py
    "fc_update_list_elem": (
        CELL,
        {
            9: states(stale={2, 3, 4}, waiting={5}),
            11: states(stale={2, 3, 4}, waiting={5, 6}),
            13: states(stale={2, 3, 5, 6}, waiting={4}),
        },
    ),
    "fc_no_freshness_for_alias_assignment_post_mutation": (ANY, {4: states(stale={1})}),
    "fc_liveness_skipped_for_simple_assignment_involving_aliases": (
        ANY,
        {4: states(stale={1})},
    ),
    "fc_list_append": (RECEIVER, {7: states(stale={1, 3}, waiting={2})}),
    "fc_list_extend": (RECEIVER, {7: states(stale={1, 3}, waiting={2})}),
    "fc_list_delete": (SHIFT, {13: states(stale={4, 5, 6, 7, 8, 9}, waiting={10})}),
    "fc_list_pop": (SHIFT, {13: states(stale={4, 5, 6, 7, 8, 9}, waiting={10})}),
    "fc_list_remove": (SHIFT, {13: states(stale={4, 5, 6, 7, 8, 9}, waiting={10})}),
    "fc_list_clear": (SHIFT, {6: states(stale={1, 2})}),
    "fc_dict_clear": (SHIFT, {6: states(stale={1, 2})}),
    # -- test_staleness_propagation.py
    "sp_for_loop_with_map": (SELF, {6: fresh(4)}),
    "sp_context_manager": (SELF, {5: fresh(4)}),
    "sp_magics_dont_break_things": (SELF, {4: fresh(3)}),
    "sp_walrus_simple": (SELF, {4: fresh(3)}),
    "sp_walrus_fancy": (SELF, {8: fresh(5), 10: fresh(6)}),
    "sp_tuple_return": (SELF, {8: fresh(6)}),
    "sp_tuple_return_obj": (SELF, {8: fresh(6)}),
    "sp_default_args": (SELF, {7: fresh(4)}),
    "sp_func_assign_ints": (SELF + "; and " + CELL, {5: fresh(4), 14: waiting(10)}),
    "sp_same_pointer": (ANY, {6: waiting(5)}),
    "sp_list_alias_no_break": (ANY, {5: waiting(4)}),
    "sp_namespace_scope_resolution": (ANY, {6: waiting(5)}),
    "sp_class_member_mutation_does_not_affect_instance_members": (ANY, {5: waiting(4)}),
    "sp_exception": (ANY, {6: waiting(5)}),
    "sp_no_rhs_propagation": (ANY, {7: waiting(6)}),
    "sp_dict_2": (ANY, {5: waiting(4)}),
    "sp_for_loop_partial_dep": (DYN, {6: waiting(5)}),
    "sp_dict_subscripting_2": (CELL, {7: waiting(6)}),
    "sp_single_line_dictionary_literal_fix_stale_deps": (CELL, {8: waiting(6), 10: waiting(7)}),
    "sp_class_member_granularity": (CELL, {6: waiting(5)}),
    "sp_attribute_unpacking": (
        CELL,
        {9: waiting(8), 11: waiting(9), 18: waiting(13), 25: waiting(17), 27: waiting(18)},
    ),
    "sp_tuple_unpack_hard": (CELL, {5: waiting(4)}),
    "sp_unpack_multiple_from_single": (CELL, {6: waiting(5)}),
    "sp_one_time_tracing_func": (CELL, {7: waiting(6)}),
    "sp_walrus_fancy_attributes": (CELL, {6: waiting(5)}),
    "sp_starred_assignment_rhs": (
        CELL,
        {8: waiting(7), 10: waiting(8), 14: waiting(10), 16: waiting(11), 21: waiting(14)},
    ),
    "sp_starred_assignment": (CELL, {8: waiting(7), 10: waiting(8), 17: waiting(12)}),
    "sp_starred_assignment_in_middle": (CELL, {7: waiting(5), 9: waiting(6), 14: waiting(9)}),
    "sp_attribute_unpacking_no_overwrite": (CELL, {13: waiting(11)}),
    "sp_func_assign_helper_func": (CELL, {7: waiting(5), 10: waiting(7)}),
    "sp_for_loop_literal_binding": (CELL, {7: waiting(6)}),
    "sp_list_sum_simple": (CELL, {5: waiting(4), 7: waiting(5), 9: waiting(6)}),
    # -- test_dynamic_slicing.py
    "ds_dynamic_only_variable_subscript": (
        DYN,
        {12: Probe("print(cells({run[11]}).slice())", slice_cells=frozenset(range(1, 12)))},
    ),
    "ds_list_delete": (
        SHIFT,
        {6: Probe("print(cells({run[5]}).slice())", slice_cells=frozenset({1, 2, 3, 5}))},
    ),
    # -- test_api.py
    "api_multiple_deps_from_funcall": (
        API,
        {3: Probe("print(sorted(repr(d) for d in deps(z)))", stdout="['<f>']\n")},
    ),
}

#: case name -> what we get wrong
GAPS: dict[str, str] = {
    "fc_adhoc_pandas_series_update": (
        "df.foo.dropna(inplace=True) makes the df['foo'] store above stale and itself waiting"
    ),
    "fc_dag_edge_hybrid": (
        "in_order: y = x + 3 re-run shows stale (and later checks differ) though [3] above is "
        "the chain of x it read"
    ),
    "sp_branching": "a definition in a branch that did not run (else: y = 7) counts as defining y",
    "sp_if_true": "a read in a branch that did not run (else: x = z + 1) counts as reading z",
    "sp_throwing_statements_do_not_track_deps": (
        "an assignment that raised inside try (x = 42 + foo()) still counts for x's readers"
    ),
    "sp_mutate_arg": "np.random.shuffle(x) is not seen as changing x in place",
    "ds_complicated_subscripting": (
        "the slice holds x = 1, read only in a branch of Foo.bar that never ran"
    ),
    "ds_non_relevant_child_symbol_modified": (
        "the slice of lst[1] = 42 keeps lst[1] += 1, which it overwrote"
    ),
    "api_function_dependencies": (
        "deps(x) gives class_instance alone: not the method DummyClass.class_instance_method "
        "nor the attributes class_val_1..3 it read"
    ),
}


def apply(cases: list[Case]) -> list[Case]:
    """The cases with our differences and gaps attached (every name must exist)."""
    names = {c.name for c in cases}
    unknown = (set(OURS) | set(GAPS)) - names
    if unknown:
        raise ValueError(f"differences for unknown cases: {sorted(unknown)}")
    out = []
    for c in cases:
        if c.name in OURS:
            why, steps = OURS[c.name]
            c = replace(c, ours=tuple(sorted(steps.items())), why=why)
        if c.name in GAPS:
            c = replace(c, gap=GAPS[c.name])
        out.append(c)
    return out
