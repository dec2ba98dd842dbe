"""How expressions read, store into, mutate and call the notebook's globals.

:class:`ExpressionReader` is the expression half of the cell visitor (the
statement half, which knows about order and control flow, is in
:mod:`.analysis`). Calls carry most of the judgement here: which calls mutate
their receiver for certain, which arguments a call may mutate, which calls make
a cell unanalysable, and how hidden module state (RNG seeds) and the
namespace itself (``globals()``) are written. Calls that run code we can read
(``exec('...')``, IPython's transformed magics) are in :mod:`.code_calls`.
"""

from __future__ import annotations

import ast

from .code_calls import CodeReader, is_get_ipython
from .effects import ANYTHING
from .paths import expr_path, root

#: Methods that mutate their receiver in place (lists, dicts, sets, deques, numpy, queues).
INPLACE_METHODS = frozenset(
    {
        *("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"),
        *("update", "setdefault", "popitem", "add", "discard", "difference_update"),
        *("intersection_update", "symmetric_difference_update", "fill", "resize", "put"),
        *("itemset", "__setitem__", "__delitem__", "appendleft", "extendleft", "rotate"),
    }
)
#: Calls after which the cell may define or use anything.
_CONSERVATIVE_CALLS = frozenset({"exec", "eval", "globals", "locals", "__import__"})
#: Module functions that change the module's hidden state (RNG seeds, options).
_STATE_SETTERS = frozenset(
    {
        *("seed", "manual_seed", "set_state", "set_option", "reset_option"),
        *("set_printoptions", "setrecursionlimit", "filterwarnings", "simplefilter"),
    }
)


class ExpressionReader(CodeReader):
    """Visits expressions; subclasses add statements (see :mod:`.analysis`)."""

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
        """Visit the computed parts of a reference; return its (refined) path, unread."""
        parts, leftovers = expr_path(node)
        for sub in leftovers:
            self.visit(sub)
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
        self.visit(node.values[0])
        self._conditionally(node.values[1:])

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self._conditionally([node.body, node.orelse])

    def _conditionally(self, exprs: list[ast.expr]) -> None:
        self.rec.cond += 1
        for expr in exprs:
            self.visit(expr)
        self.rec.cond -= 1

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
        self._call_arguments(node, maybe=not builtin)  # builtins do not mutate arguments

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
        path = self._reference(receiver)
        if path is not None and self.rec.is_module(path):
            self._module_call(node, path, func.attr)
            return
        if path is not None:
            self.rec.emit("use", path)
        if path is not None and inplace:
            self.rec.emit("mut", path)
        elif path is not None:
            self.rec.emit("recv", root(path))
            self.rec.emit("maybe", root(path))
            self.rec.emit("call", root(path))  # C.static_method(): the class's summary
        self._call_arguments(node, maybe=not inplace and not isinstance(receiver, ast.Constant))

    def _module_call(self, node: ast.Call, module: str, function: str) -> None:
        """``np.sin(x)`` reads ``np.sin``; seeding and drawing random numbers change the
        module's hidden state, so they define the module path (``np.random``)."""
        if function in _STATE_SETTERS or module.rsplit(".", 1)[-1] == "random":
            self.rec.emit("state", module)
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

    def _call_arguments(self, node: ast.Call, maybe: bool) -> None:
        for expr in [*node.args, *(k.value for k in node.keywords)]:
            self.visit(expr)
            inner = expr.value if isinstance(expr, ast.Starred) else expr
            parts = expr_path(inner)[0]
            if parts and maybe:
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
