"""Method names and what calling them does to the receiver.

Tables only, read by :mod:`.expressions`: the calls that mutate in place, the
pandas/numpy methods that never change their receiver (and which of those
return new data rather than a view), and where ``inplace`` sits.
"""

from __future__ import annotations

import ast

#: Methods that mutate their receiver in place (lists, dicts, sets, deques, numpy, queues).
INPLACE_METHODS = frozenset(
    {
        *("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"),
        *("update", "setdefault", "popitem", "add", "discard", "difference_update"),
        *("intersection_update", "symmetric_difference_update", "fill", "resize", "put"),
        *("itemset", "__setitem__", "__delitem__", "appendleft", "extendleft", "rotate"),
        "setflags",
    }
)
#: Methods of pandas objects (also on groupby, rolling, resample objects and the
#: ``.str``/``.dt`` accessors) and numpy arrays that never change their receiver,
#: in the call shapes :meth:`ExpressionReader._pure_shape` admits. Plus ``to_*``.
PURE_METHODS = frozenset(
    {
        # reductions and statistics
        *("sum", "mean", "median", "min", "max", "std", "var", "sem", "prod", "product"),
        *("count", "nunique", "quantile", "mode", "all", "any", "idxmin", "idxmax"),
        *("argmin", "argmax", "argsort", "cumsum", "cumprod", "cummin", "cummax", "diff"),
        *("pct_change", "rank", "corr", "corrwith", "cov", "skew", "kurt", "kurtosis"),
        *("describe", "value_counts", "unique", "nlargest", "nsmallest", "ptp", "trace"),
        *("size", "first", "last", "nth", "ngroup", "cumcount", "memory_usage", "info"),
        # element-wise, comparisons
        *("round", "clip", "abs", "isna", "isnull", "notna", "notnull", "isin"),
        *("duplicated", "between", "equals", "eq", "ne", "lt", "gt", "le", "ge", "add"),
        *("sub", "mul", "div", "truediv", "floordiv", "mod", "pow", "dot", "conj"),
        # new objects from the receiver
        *("copy", "astype", "sort_values", "sort_index", "drop", "dropna", "fillna"),
        *("drop_duplicates", "replace", "rename", "reset_index", "set_index", "query"),
        *("merge", "join", "where", "mask", "reindex", "shift", "sample", "interpolate"),
        *("ffill", "bfill", "explode", "melt", "pivot", "pivot_table", "stack", "unstack"),
        *("get_group", "infer_objects", "convert_dtypes", "select_dtypes", "filter"),
        *("nonzero", "searchsorted", "take", "compress", "repeat", "flatten", "item"),
        *("tolist", "tobytes", "tofile", "dump", "dumps", "plot", "hist", "boxplot"),
        # callbacks: only with harmless arguments
        *("apply", "agg", "aggregate", "transform", "map", "applymap"),
        # views and grouping: the result may share the receiver's memory
        *("head", "tail", "reshape", "ravel", "view", "transpose", "swapaxes", "squeeze"),
        *("diagonal", "groupby", "rolling", "expanding", "ewm", "resample"),
        # the .str and .dt accessors
        *("lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "contains"),
        *("startswith", "endswith", "split", "rsplit", "len", "extract", "extractall"),
        *("findall", "match", "fullmatch", "slice", "zfill", "strftime", "floor", "ceil"),
        *("normalize", "day_name", "month_name", "tz_localize", "tz_convert"),
        "total_seconds",
    }
)
#: Pure methods whose result may share memory with the receiver or hold a
#: reference to it (views, groupby objects; checked on pandas 2.2 without
#: copy-on-write, and numpy).
_SHARING = frozenset(
    {
        *("head", "tail", "first", "last", "nth", "reshape", "ravel", "view", "transpose"),
        *("swapaxes", "squeeze", "diagonal", "stack", "unstack", "infer_objects"),
        *("convert_dtypes", "select_dtypes", "filter", "groupby", "rolling", "expanding"),
        *("ewm", "resample"),
    }
)
#: Writers to files and other formats (``to_numpy`` is a view: not listed).
_EXPORTS = frozenset(
    {
        *("to_csv", "to_json", "to_dict", "to_list", "to_string", "to_html", "to_markdown"),
        *("to_latex", "to_records", "to_parquet", "to_pickle", "to_excel", "to_sql"),
        *("to_feather", "to_hdf", "to_clipboard", "to_stata", "to_xml", "to_orc"),
    }
)
#: Pure methods whose result shares no memory with the receiver and holds no
#: reference to it: the result may be kept. Views, groupby objects,
#: ``copy=False`` and ``deep=False`` are not; callbacks are fresh when each
#: function is (``agg("sum")``, ``np.sqrt``, a lambda of arithmetic), not
#: ``apply(lambda c: c)`` or ``agg("head")``.
FRESH_METHODS = (PURE_METHODS - _SHARING) | _EXPORTS
#: Methods taking ``inplace``, with the fewest positional arguments before it in
#: any pandas version (DataFrame, Series or Index): more would reach it.
POSITIONAL_BEFORE_INPLACE = {
    **dict.fromkeys(("query", "dropna", "drop_duplicates", "rename", "ffill", "bfill"), 1),
    **dict.fromkeys(("sort_values", "replace", "reset_index", "where", "mask"), 2),
    **dict.fromkeys(("sort_index", "fillna", "set_index", "clip", "interpolate"), 3),
    "drop": 5,
}
#: Method calls that hand a method *name* to pandas, which calls it on the data.
BY_NAME = frozenset({"apply", "agg", "aggregate", "transform", "map", "applymap"})


def mutator_name(name: str) -> bool:
    """A method name that pandas, handed as a string, could call to change the data."""
    return name.startswith("_") or name in INPLACE_METHODS or name in _STRING_MUTATORS


_STRING_MUTATORS = frozenset({"isetitem", "partition", "pipe", "eval", "set_axis"})


def _const(node: object) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)):
        return node.value
    return None


#: Beyond this many slots an in-place change counts as a change of the whole list.
MAX_SLOTS = 32


def _index(node: object, size: int) -> int | None:
    value = _const(node)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    index = value + size if value < 0 else value
    return index if 0 <= index <= size else None


def _slots(start: int, stop: int) -> list[str] | None:
    """``[start]`` .. ``[stop - 1]``; None (the whole list) when there are too many."""
    if stop - start > MAX_SLOTS:
        return None
    return [f"[{i}]" for i in range(start, max(stop, start + 1))]


def changed_slots(value: object, method: str, args: list[object]) -> list[str] | None:
    """The slots an in-place call changes, as path suffixes (``[4]``), when the
    receiver is a plain list or dict whose shape says so; None: the whole object.

    ``lst.append(v)`` fills the slot after the last (readers of ``lst[1]`` keep
    their value; of ``lst`` and ``lst[-1]`` not); ``lst.insert(i, v)``,
    ``lst.pop(i)`` and ``lst.remove(v)`` shift the slots from ``i`` on;
    ``lst.clear()`` empties every slot and the one after (the length);
    ``d.pop('k')``, ``d.setdefault('k', v)`` touch ``d['k']``.
    """
    if type(value) is list:
        size = len(value)
        if method in ("append", "extend") and (method == "append" or args):
            return [f"[{size}]"]
        if method == "pop" and not args:
            return [f"[{size - 1}]", f"[{size}]"] if size else None
        if method == "pop" and args and (start := _index(args[0], size - 1)) is not None:
            return _slots(start, size + 1)
        if method == "insert" and args and (start := _index(args[0], size)) is not None:
            return _slots(start, size + 1)
        if method == "remove" and args:
            wanted = _const(args[0])
            if wanted is not None and wanted in value:
                return _slots(value.index(wanted), size + 1)
        if method == "clear" and not args:
            return _slots(0, size + 1)
        return None
    if type(value) is dict and method in ("pop", "setdefault") and args:
        key = _const(args[0])
        return None if key is None else [f"[{key!r}]"]
    return None


def deleted_slots(value: object, key: object) -> list[str] | None:
    """The slots ``del lst[i]`` changes (``i`` and those after shift down); None: all."""
    if type(value) is not list:
        return None
    start = _index(key, len(value) - 1)
    return None if start is None else _slots(start, len(value) + 1)
