"""Rebinds seen by identity: what the agent adds to a run's defines whatever the analysis saw."""

from __future__ import annotations

from kernel_agent.core.identities import (
    UserNames,
    changed_between,
    identities,
    rebound,
    snapshot,
    user_names,
)


def test_user_names_skip_ipython_history_and_private_names() -> None:
    namespace = {"x": 1, "_i3": "x = 1", "_": None, "Out": {}, "In": [], "df": object()}
    assert user_names(namespace) == ["x", "df"]


def test_non_string_keys_are_ignored_not_fatal() -> None:
    namespace = {"x": 1, 7: "seven", "y": 2}
    assert user_names(namespace) == ["x", "y"]


def test_rebound_sees_new_removed_and_rebound_names_not_mutations() -> None:
    items = [1, 2]
    namespace: dict[object, object] = {"keep": "same", "items": items, "gone": 3, "moved": 4.5}
    before = identities(namespace)
    items.append(3)  # same object: a mutation, not a rebind
    del namespace["gone"]
    namespace["moved"] = 9.5
    namespace["new"] = "fresh"
    namespace["_i9"] = "history"
    assert rebound(before, identities(namespace)) == {"gone", "moved", "new"}


def test_nothing_rebound_in_a_large_namespace() -> None:
    namespace: dict[object, object] = {f"_i{n}": str(n) for n in range(5000)}
    namespace.update({f"v{n}": [n] for n in range(500)})
    before = identities(namespace)
    assert len(before) == 500
    assert rebound(before, identities(namespace)) == set()


def test_user_names_follow_additions_deletions_and_reinsertions() -> None:
    names = UserNames()
    namespace: dict[object, object] = {"a": 1, "_i1": "", "b": 2}
    assert names(namespace) == ["a", "b"]
    namespace["_i2"] = ""
    namespace["c"] = 3
    assert names(namespace) == ["a", "b", "c"]
    del namespace["a"]
    assert names(namespace) == ["b", "c"]
    namespace["a"] = 4  # back, now at the end
    assert names(namespace) == ["b", "c", "a"]
    namespace.clear()
    namespace["z"] = 0
    assert names(namespace) == ["z"]
    assert rebound(identities(namespace, names(namespace)), identities(namespace)) == set()


class CountingNamespace(dict):  # type: ignore[type-arg]
    """A namespace that counts full scans (a walk from the end is not one)."""

    scans = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.scans += 1
        return super().__iter__()


def test_user_names_look_only_at_appended_keys() -> None:
    names = UserNames()
    namespace = CountingNamespace({f"_i{n}": "" for n in range(1000)})
    namespace["x"] = 1
    assert names(namespace) == ["x"]
    scans = namespace.scans
    for run in range(1, 20):
        namespace[f"_i{1000 + run}"] = ""
        namespace[f"y{run}"] = run
        assert names(namespace)[-1] == f"y{run}"
    assert namespace.scans == scans


def test_an_unnoticed_removal_is_repaired_by_the_periodic_rescan() -> None:
    """Removing a hidden key and the last key, then re-adding the last key after a
    new one, keeps the sizes consistent; the periodic full scan finds the new name."""
    names = UserNames()
    namespace: dict[object, object] = {"_i1": "", "a": 1, "b": 2}
    names(namespace)
    del namespace["_i1"], namespace["b"]
    namespace["z"] = 3
    namespace["b"] = 4
    seen = [names(namespace) for _ in range(UserNames.REBUILD_EVERY)]
    assert sorted(seen[-1]) == ["a", "b", "z"]


def test_a_snapshot_survives_a_name_gone_where_the_sizes_add_up() -> None:
    """A namespace emptied and refilled with the last key seen back at the end:
    the sizes add up, so only the snapshot's read of a vanished name tells. It
    looks again from scratch instead of failing the run's recording."""
    namespace: dict[object, object] = {"a": 1, "_i1": "", "b": 2}
    before = snapshot(namespace)
    assert before.names == ["a", "b"]
    del namespace["a"], namespace["b"]
    namespace["c"] = 3
    namespace["b"] = [2]
    after = snapshot(namespace)
    assert after.names == ["c", "b"]
    assert changed_between(before, after) == {"a", "b", "c"}


def test_the_names_are_shared_until_they_change() -> None:
    names = UserNames()
    namespace: dict[object, object] = {"a": 1}
    first = names(namespace)
    namespace["_i2"] = ""
    assert names(namespace) is first, "no new user name: the same list"
    namespace["b"] = 2
    second = names(namespace)
    assert second == ["a", "b"] and first == ["a"], "a new list; the old one kept"


def test_snapshots_see_what_rebound_sees() -> None:
    """The aligned-lists comparison and the dict one agree: rebinds, additions,
    and (falling back) removals."""
    items = [1]
    namespace: dict[object, object] = {"keep": "same", "items": items, "gone": 3, "moved": 4.5}
    before = snapshot(namespace)
    items.append(2)
    namespace["moved"] = 9.5
    namespace["new"] = "fresh"
    assert changed_between(before, snapshot(namespace)) == {"moved", "new"}
    del namespace["gone"]
    assert changed_between(before, snapshot(namespace)) == {"gone", "moved", "new"}
