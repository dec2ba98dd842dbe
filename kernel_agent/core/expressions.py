"""How expressions read, store into, mutate and call the notebook's globals.

:class:`ExpressionReader` is the expression half of the cell visitor (the
statement half, which knows about order and control flow, is in
:mod:`.analysis`). Calls carry most of the judgement here: which calls mutate
their receiver for certain, which arguments a call may mutate, which calls make
a cell unanalysable, and how hidden module state (RNG seeds) and the
namespace itself (``globals()``) are written. Calls that run code we can read
(``exec('...')``, IPython's transformed magics) are in :mod:`.code_calls`.

**Pure methods of pandas and numpy objects.** A method call makes its
receiver *maybe mutated* (fingerprinted before and after the run), unless the
receiver is a pandas DataFrame/Series/Index or a numpy array before the run
(:meth:`.Recorder.data_receiver`) and the call is one of :data:`PURE_METHODS`
in a shape that cannot change it: no ``inplace`` (unless ``False``), no
``out=``, no ``**kwargs``, no more positional arguments than come before
``inplace`` in any pandas version, and every argument harmless (data,
constants, builtins, numpy reductions, lambdas that only call such things:
never a notebook function, which may mutate what pandas passes it). Then the
call is a plain read of the receiver.

A pure method may still return a *view* of its receiver (``arr.reshape(-1)``,
``df.head()``, ``df.T``); changing the view later changes the receiver. So
where the result goes counts too, as a *flow*: ``READ`` (displayed, printed,
compared, used in arithmetic: never kept), ``FRESH`` (only what a method of
:data:`FRESH_METHODS` makes of it is kept: new data, ``df.groupby('k')['v']
.sum()``) or ``KEEP`` (assigned, passed to a function, iterated, mutated:
anything). A pure call is a plain read when its flow is ``READ``; or when its
receiver holds no Python objects (copies share those) and its flow is
``FRESH``, or it is itself a fresh method. Otherwise the receiver stays
fingerprinted, as for any other method.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from .code_calls import CodeReader, is_get_ipython
from .effects import ANYTHING, UNSAFE_BUILTINS, Step
from .methods import (
    BY_NAME,
    FRESH_METHODS,
    INPLACE_METHODS,
    POSITIONAL_BEFORE_INPLACE,
    PURE_METHODS,
    changed_slots,
    deleted_slots,
    mutator_name,
)
from .namespace import resolve, split
from .paths import const_key, expr_path, root

#: Builtins whose result never holds their arguments: a value passed is only read.
_READING_BUILTINS = frozenset(
    {
        *("print", "len", "str", "repr", "int", "float", "bool", "complex", "isinstance"),
        *("issubclass", "type", "id", "hash", "format", "display", "abs", "round", "sum"),
        *("hasattr", "callable", "all", "any", "divmod", "pow", "ascii"),
    }
)
#: Flows: what happens to the value of an expression (see the module docstring).
READ, FRESH, KEEP = 0, 1, 2
#: Calls after which the cell may define or use anything.
_CONSERVATIVE_CALLS = frozenset({"exec", "eval", "globals", "locals", "__import__"})
#: Module functions that change the module's hidden state (RNG seeds, options).
#: State setters that replace a random generator's state whole (a binding, not a change).
_RESEEDS = frozenset({"seed", "manual_seed", "set_state"})
_STATE_SETTERS = frozenset(
    {
        *("seed", "manual_seed", "set_state", "set_option", "reset_option"),
        *("set_printoptions", "setrecursionlimit", "filterwarnings", "simplefilter"),
    }
)


class ExpressionReader(CodeReader):
    """Visits expressions; subclasses add statements (see :mod:`.analysis`)."""

    def __init__(self, namespace: Mapping[str, object] | None) -> None:
        super().__init__(namespace)
        #: Flows other than KEEP, by ``id`` of the expression node (the tree outlives the walk).
        self._flows: dict[int, int] = {}

    def flow(self, node: ast.AST) -> int:
        """What becomes of the value of ``node``: READ, FRESH or KEEP (the default)."""
        return self._flows.get(id(node), KEEP)

    def visit_as(self, node: ast.AST, flow: int) -> None:
        """Visit ``node`` whose value goes where ``flow`` says."""
        if flow != KEEP:
            self._flows[id(node)] = flow
        self.visit(node)

    def _store(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.rec.bind(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._store(elt)
        elif isinstance(target, ast.Starred):
            self._store(target.value)
        else:
            self._slot_store(target)

    def _slot_store(self, target: ast.expr, whole: bool = True) -> None:
        """``x[0] = v`` / ``x.a = v``: define and use the slot (store rule in :mod:`.analysis`)."""
        if self._namespace_store(target):
            return
        parts, leftovers = expr_path(target)
        for node in leftovers:
            self.visit(node)
        if parts is not None:
            refined = self.rec.refine(parts)
            whole = whole and not leftovers and len(refined) == len(parts)
            self.rec.store_slot("".join(refined), whole=whole)

    def _namespace_store(self, target: ast.expr) -> bool:
        """``globals()['k'] = v`` binds ``k``; with a computed key it may bind anything."""
        if not (isinstance(target, ast.Subscript) and _is_namespace_call(target.value)):
            return False
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            self.rec.emit("bind", key.value)
        else:
            self.visit(key)
            self.rec.emit("anydef", ANYTHING)
        return True

    def _read(self, node: ast.expr) -> str | None:
        """Read a reference expression; returns its path when it has one."""
        path = self._reference(node)
        if path is not None:
            self.rec.emit("use", path)
            self._function_values(path, direct=False)
            shared = self.rec.class_path(path)
            if shared is not None:
                self.rec.emit("use", shared)  # inst.rate is Config.rate until set on inst
        return path

    def _function_values(self, path: str, direct: bool) -> None:
        """Follow the summaries of notebook functions this read may run (see Callables)."""
        for key in self.rec.function_values(path, direct):
            self.rec.emit("call", key)

    def _reference(self, node: ast.expr) -> str | None:
        """Visit the computed parts of a reference; return its (refined) path, unread.

        Keys are only read; a base that is not a name (``f()[0]``, ``df.head().a``)
        goes where the whole reference goes (an item of a view is a view)."""
        parts, leftovers = expr_path(node)
        flow = self.flow(node)
        last = len(leftovers) - 1
        for index, sub in enumerate(leftovers):
            self.visit_as(sub, flow if parts is None and index == last else READ)
        return None if parts is None else "".join(self.rec.refine(parts))

    def _arguments_at_def(self, args: ast.arguments) -> None:
        """Defaults and annotations are evaluated when the def runs."""
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        for expr in [*args.defaults, *args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        for arg in every:
            if arg is not None and arg.annotation is not None:
                self.visit(arg.annotation)

    # -- expressions -------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        """Nothing to read (and the most common leaf: skip generic_visit)."""

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.rec.emit("use", node.id)
            self._function_values(node.id, direct=False)
        else:
            self.rec.bind(node.id)

    def visit_Attribute(self, node: ast.Attribute | ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node)
        else:
            self._slot_store(node)

    visit_Subscript = visit_Attribute

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.rec.bind(node.target.id)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        """``a or b`` is one of its operands: they go where it goes."""
        flow = self.flow(node)
        self.visit_as(node.values[0], flow)
        self._conditionally(node.values[1:], flow)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit_as(node.test, READ)
        self._conditionally([node.body, node.orelse], self.flow(node))

    def _conditionally(self, exprs: list[ast.expr], flow: int = KEEP) -> None:
        self.rec.cond += 1
        for expr in exprs:
            self.visit_as(expr, flow)
        self.rec.cond -= 1

    def visit_BinOp(self, node: ast.BinOp) -> None:
        """Operators make new values: the operands are only read."""
        self.visit_as(node.left, READ)
        self.visit_as(node.right, READ)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self.visit_as(node.operand, READ)

    def visit_Compare(self, node: ast.Compare) -> None:
        for expr in [node.left, *node.comparators]:
            self.visit_as(expr, READ)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        self.visit_as(node.value, READ)
        if node.format_spec is not None:
            self.visit(node.format_spec)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._lambda(node, None)

    def _lambda(self, node: ast.Lambda, name: str | None) -> None:
        self._arguments_at_def(node.args)
        scope = self.rec.open(is_class=False, name=name, inline=name is None)
        scope.bound.update(parameters(node.args))
        self.visit(node.body)
        self.rec.close(scope)

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node.generators, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node.generators, [node.key, node.value])

    def _comprehension(self, generators: list[ast.comprehension], elts: list[ast.expr]) -> None:
        """The first iterable runs in the enclosing scope; targets are local to the rest."""
        self.visit(generators[0].iter)
        names: set[str] = set()
        self.rec.frames.append(names)
        self.rec.cond += 1
        for index, gen in enumerate(generators):
            if index:
                self.visit(gen.iter)
            self._comprehension_target(gen.target, names)
            for cond in gen.ifs:
                self.visit(cond)
        for elt in elts:
            self.visit(elt)
        self.rec.cond -= 1
        self.rec.frames.pop()

    def _comprehension_target(self, target: ast.expr, names: set[str]) -> None:
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
            for elt in target.elts if not isinstance(target, ast.Starred) else [target.value]:
                self._comprehension_target(elt, names)
        else:
            self._slot_store(target, whole=False)

    # -- calls -------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            self._method_call(node, func)
        elif isinstance(func, ast.Name):
            self._name_call(node, func.id)
        elif isinstance(func, ast.Subscript):
            path = self._read(func)
            if path is not None:
                self._function_values(path, direct=True)  # steps[0](x)
            self._call_arguments(node, maybe=True)
        else:
            self.visit(func)
            self._call_arguments(node, maybe=True)

    def _name_call(self, node: ast.Call, name: str) -> None:
        builtin = self.rec.is_builtin(name)
        if builtin and name in ("exec", "eval") and self._code_call(node, name):
            return
        if builtin and (name in _CONSERVATIVE_CALLS or (name == "vars" and not node.args)):
            self.rec.emit("any", ANYTHING)
        self.rec.emit("use", name)
        self.rec.emit("call", name)
        self._function_values(name, direct=True)  # op = square; op(2) runs square
        if builtin and name in ("getattr", "setattr", "delattr") and self._attr_call(node, name):
            return
        flow = KEEP  # a function may keep or change what it is given
        if builtin:  # list(x), sorted(x), max(x) hold parts of x: they go where the call goes
            flow = READ if name in _READING_BUILTINS else self.flow(node)
        self._call_arguments(node, maybe=not builtin, flow=flow)  # builtins mutate no argument

    def _attr_call(self, node: ast.Call, name: str) -> bool:
        """``getattr(o, 'a')`` reads ``o.a``; ``setattr(o, 'a', v)`` stores into it."""
        if len(node.args) < 2:
            return False
        obj, key, *rest = node.args
        parts, leftovers = expr_path(obj)
        if not parts:
            return False
        if parts[0] == "sys" and name != "getattr":  # setattr(sys.modules[__name__], ...)
            self.rec.emit("any", ANYTHING)
            self.rec.emit("anydef", ANYTHING)
        attr = key.value if isinstance(key, ast.Constant) else None
        if isinstance(attr, str) and attr.isidentifier() and not leftovers:
            parts = [*parts, "." + attr]  # else the whole object: which attribute is unknown
        path = "".join(self.rec.refine(parts))
        for expr in [*leftovers, key, *rest, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.rec.emit("use" if name == "getattr" else "mut", path)
        return True

    def _method_call(self, node: ast.Call, func: ast.Attribute) -> None:
        receiver = func.value
        if is_get_ipython(receiver):
            self._ipython_call(node, func.attr)
            return
        inplace = func.attr in INPLACE_METHODS or any(
            k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if _is_namespace_call(receiver):
            self._namespace_method(node, receiver, func.attr, inplace)
            return
        flow = self.flow(node)
        fresh = None if inplace else self._pure_shape(node, func.attr)
        if fresh is not None:  # the receiver's value goes on where this call's result goes
            self._flows[id(receiver)] = READ if flow == READ else FRESH if fresh else flow
        path = self._reference(receiver)
        if path is not None and self.rec.is_module(path):
            self._module_call(node, path, func.attr)
            return
        data = None if fresh is None else self._data_receiver(receiver)
        slots = self._changed_slots(path, func.attr, node) if path is not None and inplace else None
        if path is not None:  # an append's result rests on the whole list (its length)
            self.rec.emit("use", path)
        if path is not None and inplace:
            for slot in slots or [""]:  # each changed slot is read and written
                self.rec.emit("mut", path + slot)
        elif path is not None and not (data and _only_read(flow, bool(fresh), data[1])):
            self.rec.emit("recv", root(path))
            self.rec.emit("maybe", root(path))
            self.rec.emit("call", root(path))  # C.static_method(): the class's summary
        self._call_arguments(
            node,
            maybe=not inplace and not isinstance(receiver, ast.Constant),
            data_only_read=data is not None and data[0] not in ("array", "value"),
        )

    def _changed_slots(self, path: str, method: str, node: ast.Call) -> list[str] | None:
        """The slots of ``path`` an in-place call changes, with the namespace at hand
        (see :func:`.methods.changed_slots`); None: the whole object."""
        namespace = self.rec.namespace
        if (
            namespace is None
            or root(path) in self.rec.rebound
            or node.keywords
            or any(isinstance(a, ast.Starred) for a in node.args)
        ):
            return None
        self.rec.read_deeper = True  # the answer rests on the object's length
        value = resolve(split(path), namespace)
        return changed_slots(value, method, list(node.args))

    def _deleted_slots(self, container: ast.expr, key: ast.expr) -> bool:
        """``del lst[i]`` on a plain list: define the slots from ``i`` on (they shift
        down), not the whole list. False when the shape is not known."""
        namespace = self.rec.namespace
        parts, leftovers = expr_path(container)
        if namespace is None or not parts or leftovers or parts[0] in self.rec.rebound:
            return False
        path = "".join(self.rec.refine(parts))
        self.rec.read_deeper = True
        slots = deleted_slots(resolve(split(path), namespace), key)
        if slots is None:
            return False
        for slot in slots:
            self.rec.emit("mut", path + slot)
        return True

    def _module_call(self, node: ast.Call, module: str, function: str) -> None:
        """``np.sin(x)`` reads ``np.sin``; seeding and drawing random numbers change the
        module's hidden state, so they define the module path (``np.random``)."""
        if function in _STATE_SETTERS or module.rsplit(".", 1)[-1] == "random":
            self.rec.emit("state", module)
            if function in _RESEEDS and not self.rec.frames and self.rec.cond == 0:
                self.rec.certain.add(module)  # a seed replaces the state whole
            elif function not in _RESEEDS and module.rsplit(".", 1)[-1] == "random":
                self.rec.result.draws.add(module)
        elif function in ("getenv", "putenv") and module.rsplit(".", 1)[-1] == "os":
            self.rec.emit("use" if function == "getenv" else "state", f"{module}.environ")
        else:
            self.rec.emit("use", f"{module}.{function}")
        self._call_arguments(node, maybe=True)  # np.add(a, 1, out=a)

    def _namespace_method(
        self, node: ast.Call, receiver: ast.expr, method: str, inplace: bool
    ) -> None:
        """``globals().update(k=v)`` binds ``k``; other writes may bind anything."""
        if method == "update":
            for keyword in node.keywords:
                self.rec.emit("anydef" if keyword.arg is None else "bind", keyword.arg or "")
            if node.args:
                self.rec.emit("anydef", ANYTHING)
        else:
            self.visit(receiver)  # the globals() call itself: may read anything
            if inplace:
                self.rec.emit("anydef", ANYTHING)
        self._call_arguments(node, maybe=False)

    # -- pure methods of pandas and numpy objects -----------------------------

    def _pure_shape(self, node: ast.Call, method: str) -> bool | None:
        """None when ``.method(...)`` may change a pandas/numpy receiver; else whether
        its result is fresh (shares nothing with the receiver). See the module docstring."""
        fresh = _call_shape(node, method)
        if fresh is None:
            return None
        arguments = [*node.args, *(k.value for k in node.keywords)]
        by_name = method in BY_NAME
        if not all(self._harmless(arg, frozenset(), by_name) for arg in arguments):
            return None
        if by_name and not all(_fresh_callback(item) for item in _callbacks(node)):
            fresh = False  # lambda c: c, agg("head"): may hand back (a view of) the data
        return fresh

    def _data_receiver(self, node: ast.expr) -> tuple[str, bool] | None:
        """(kind, may hold objects) when ``node`` is a pandas/numpy object before the run."""
        found = _chain(node)
        if found is None or not _keys_harmless(self, node, frozenset()):
            return None  # df[f]: pandas calls a callable key with the frame
        return self.rec.data_receiver(*found)

    def _harmless(self, expr: ast.expr, params: frozenset[str], by_name: bool) -> bool:
        """Whether a value passed to a pandas/numpy method cannot make it run notebook code
        (or a method named by a string, for ``agg``/``apply``). ``params`` are the names
        of enclosing lambdas' parameters: the data pandas passes in."""
        if isinstance(expr, ast.Constant):
            return not (by_name and isinstance(expr.value, str) and mutator_name(expr.value))
        if isinstance(expr, ast.JoinedStr):  # a computed string: a method name, for by_name
            return not by_name and all(
                self._harmless(v.value, params, False)
                for v in expr.values
                if isinstance(v, ast.FormattedValue)
            )
        if isinstance(expr, ast.Name) and (expr.id in params or self.rec.is_builtin(expr.id)):
            return expr.id in params or expr.id not in UNSAFE_BUILTINS
        if isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript)):
            return self._harmless_reference(expr, params)
        if isinstance(expr, ast.Lambda):
            inner = params | parameters(expr.args)
            return all(
                self._harmless(sub, inner, False)
                for sub in [*expr.args.defaults, *expr.args.kw_defaults, expr.body]
                if sub is not None
            )
        if isinstance(expr, ast.Call):
            return self._harmless_call(expr, params)
        if isinstance(expr, ast.Dict):
            parts = [*(k for k in expr.keys if k is not None), *expr.values]
            return all(self._harmless(part, params, by_name) for part in parts)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return all(self._harmless(elt, params, by_name) for elt in expr.elts)
        if isinstance(expr, ast.Starred):
            return self._harmless(expr.value, params, by_name)
        if isinstance(expr, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp)):
            return all(
                self._harmless(sub, params, False)
                for sub in ast.iter_child_nodes(expr)
                if isinstance(sub, ast.expr)
            )
        return False  # comprehensions, walrus, await, ...: not worth the risk

    def _harmless_reference(self, expr: ast.expr, params: frozenset[str]) -> bool:
        """``np.mean``, ``other``, ``df['k']``, ``row.a`` (``row`` a lambda parameter)."""
        found = _chain(expr)
        if found is None:  # (a + b).values, f().x: the base decides
            base = expr
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            found_base = self._harmless(base, params, False)
            return found_base and _keys_harmless(self, expr, params)
        name, steps = found
        if not _keys_harmless(self, expr, params):
            return False
        if name in params:
            return True
        return self.rec.harmless(name, steps)

    def _harmless_call(self, node: ast.Call, params: frozenset[str]) -> bool:
        """A call inside an argument or a lambda: a builtin, a pure method or a numpy/pandas
        function that only reads, with harmless arguments itself."""
        func = node.func
        by_name = False
        if isinstance(func, ast.Name):
            if func.id in params or not self.rec.is_builtin(func.id):
                return False
            if func.id in UNSAFE_BUILTINS:
                return False
        elif isinstance(func, ast.Attribute):
            found = _chain(func.value)
            module = (
                found is not None
                and not found[1]
                and found[0] not in params
                and self.rec.is_module(found[0])
            )
            if module:  # np.log(x): a library function that only reads (no out=)
                if any(k.arg == "out" for k in node.keywords):
                    return False
                if not self._harmless_reference(func, params):
                    return False
            else:  # x.sum(): a pure method of something harmless
                if _call_shape(node, func.attr) is None:
                    return False
                if not self._harmless(func.value, params, False):
                    return False
                by_name = func.attr in BY_NAME
        else:
            return False
        arguments = [*node.args, *(k.value for k in node.keywords)]
        return all(self._harmless(arg, params, by_name) for arg in arguments)

    def _call_arguments(
        self, node: ast.Call, maybe: bool, flow: int = KEEP, data_only_read: bool = False
    ) -> None:
        """Visit the arguments; ``maybe``: the callee may mutate them, except pandas or
        numpy data handed to a pure method of a pandas object (``data_only_read``)."""
        for expr in [*node.args, *(k.value for k in node.keywords)]:
            self.visit_as(expr, flow)
            inner = expr.value if isinstance(expr, ast.Starred) else expr
            parts = expr_path(inner)[0]
            if parts and maybe and not (data_only_read and self._data_receiver(inner)):
                self.rec.emit("maybe", parts[0])
            if parts:
                self._function_values("".join(parts), direct=True)  # df.apply(scale)


def parameters(args: ast.arguments) -> set[str]:
    """The names a def or lambda binds for its arguments."""
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {arg.arg for arg in every if arg is not None}


def _is_namespace_call(node: ast.expr) -> bool:
    """``globals()``, ``locals()`` or ``vars()`` without arguments: the namespace itself."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("globals", "locals", "vars")
        and not node.args
        and not node.keywords
    )


def _call_shape(node: ast.Call, method: str) -> bool | None:
    """The call-shape rules for a pure method (arguments aside): None when it may change
    its receiver, else whether its result is fresh."""
    if method not in PURE_METHODS and not method.startswith("to_"):
        return None
    if len(node.args) > POSITIONAL_BEFORE_INPLACE.get(method, len(node.args)):
        return None  # positional inplace in older pandas
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        return None
    fresh = method in FRESH_METHODS
    for keyword in node.keywords:
        value = keyword.value
        constant = value.value if isinstance(value, ast.Constant) else value
        if keyword.arg is None or (keyword.arg == "inplace" and constant is not False):
            return None  # **options may hold inplace=True
        if keyword.arg == "out" and constant is not None:
            return None
        if keyword.arg in ("copy", "deep") and constant is not True:
            fresh = False  # copy=False, deep=False: may share memory
    if method == "query" and not _plain_query(node):
        return None
    return fresh


def _callbacks(node: ast.Call) -> list[ast.expr]:
    """The functions ``apply``/``agg``/... call: the first argument or ``func``, items of
    lists and values of dicts of them, and ``agg(total=("v", "sum"))``'s ``"sum"``."""
    found = [*node.args[:1]]
    for keyword in node.keywords:
        value = keyword.value
        if keyword.arg in ("func", "arg", "aggfunc"):
            found.append(value)
        elif isinstance(value, ast.Tuple) and len(value.elts) == 2:  # named aggregation
            found.append(value.elts[1])
    items = []
    for expr in found:
        if isinstance(expr, ast.Dict):
            expr_values: list[ast.expr] = list(expr.values)
        else:
            expr_values = [expr]
        for value in expr_values:
            items.extend(value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value])
    return items


def _fresh_callback(expr: ast.expr) -> bool:
    """A function handed to ``apply``/``agg``... whose results are new data: a method name
    of :data:`FRESH_METHODS`, a lambda of arithmetic, a builtin or numpy function."""
    if isinstance(expr, ast.Constant):
        return not isinstance(expr.value, str) or expr.value in FRESH_METHODS
    if isinstance(expr, ast.Lambda):
        return _fresh_value(expr.body)
    return isinstance(expr, (ast.Name, ast.Attribute))  # harmless: builtins, numpy functions


def _fresh_value(expr: ast.expr) -> bool:
    """Whether an expression surely makes a new value (a lambda's body): arithmetic,
    comparisons, constants, a fresh method, a builtin that only reads."""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Constant, ast.JoinedStr)):
        return True
    if isinstance(expr, ast.IfExp):
        return _fresh_value(expr.body) and _fresh_value(expr.orelse)
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if isinstance(func, ast.Name):
        return func.id in _READING_BUILTINS
    return isinstance(func, ast.Attribute) and bool(_call_shape(expr, func.attr))


def _only_read(flow: int, fresh: bool, objects: bool) -> bool:
    """Whether a pure call leaves nothing of its receiver that could be changed later:
    its value is only read, or what is kept is new data (and no shared Python objects)."""
    return flow == READ or (not objects and (flow == FRESH or fresh))


def _chain(node: ast.expr) -> tuple[str, list[Step]] | None:
    """``df['a'].str`` as ``('df', ["['a']", '.str'])``, computed keys as None; None when
    the chain does not start at a name."""
    steps: list[Step] = []
    while True:
        if isinstance(node, ast.Attribute):
            steps.append("." + node.attr)
        elif isinstance(node, ast.Subscript):
            key = const_key(node.slice)
            steps.append(None if key is None else f"[{key}]")
        elif isinstance(node, ast.Name):
            steps.reverse()
            return node.id, steps
        else:
            return None
        node = node.value


def _keys_harmless(reader: ExpressionReader, node: ast.expr, params: frozenset[str]) -> bool:
    """The computed keys along a reference chain (``df[df.a > 0]``) are harmless."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        computed = isinstance(node, ast.Subscript) and const_key(node.slice) is None
        if computed and not reader._harmless(node.slice, params, False):  # type: ignore[union-attr]
            return False
        node = node.value
    return True


def _plain_query(node: ast.Call) -> bool:
    """``df.query('a > 1')``: a constant expression without calls (``@f(x)`` would run a
    notebook function)."""
    if not node.args or not isinstance(node.args[0], ast.Constant):
        return False
    text = node.args[0].value
    if not isinstance(text, str):
        return False
    try:
        tree = ast.parse(text.replace("@", " ").replace("`", " "), mode="eval")
    except (SyntaxError, ValueError):
        return False
    return not any(isinstance(sub, ast.Call) for sub in ast.walk(tree))
