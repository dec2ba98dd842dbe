"""What one cell's code defines and uses, by static analysis of its AST.

It runs inside the user's kernel before every execution, so it is stdlib only
and walks each cell once (plus one nested walk for code a magic runs). This
module reads statements, where order and control flow decide what is a use;
:mod:`.expressions` reads expressions and calls; :mod:`.effects` decides where
each read or write lands (the cell, a function's summary, a local scope) and
holds the result types, re-exported here.

Store rule (DESIGN §2 leaves it open): a store into a slot (``x[0] = v``,
``x.a = v``, ``x.append(v)``) both defines *and uses* that slot's path. The use
makes the cell stale when the container is rebound elsewhere (``x = [0, 0]``
upstream must re-run ``x[0] = 5``), without tying it to sibling slots.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from .effects import (
    ANYTHING,
    CellAnalysis,
    FunctionSummary,
    NamespaceFacts,
    calls_conservative,
    close_over_calls,
)
from .expressions import INPLACE_METHODS, READ, ExpressionReader, parameters

__all__ = [
    "INPLACE_METHODS",
    "CellAnalysis",
    "FunctionSummary",
    "NamespaceFacts",
    "analyze",
    "analyze_with_facts",
    "calls_conservative",
    "close_over_calls",
]


def analyze(code: str, namespace: Mapping[str, object] | None = None) -> CellAnalysis:
    """Analyse transformed cell code.

    ``namespace`` (the user's globals, optional) sharpens two guesses: a
    builtin name the user rebound (``sum = 0``) counts as a use, and a call
    on a module (``np.append(a, 1)``) is not a mutation of the module.
    """
    return _CellVisitor.analyze(code, namespace)


def analyze_with_facts(
    code: str, namespace: Mapping[str, object] | None = None
) -> tuple[CellAnalysis, NamespaceFacts | None]:
    """:func:`analyze`, and what the answer rests on: the agent keeps answers for
    re-runs while their facts hold (None: they cannot be checked cheaply)."""
    return _CellVisitor.analyze_with_facts(code, namespace)


class _CellVisitor(ExpressionReader):
    """One pass over a cell, in evaluation order."""

    def visit_Module(self, node: ast.Module) -> None:
        self.visit_body(node.body)

    def visit_body(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.visit(stmt)

    def _branches(self, *bodies: list[ast.stmt]) -> None:
        """Alternative bodies from one state: only what all of them define is certain."""
        start = self.rec.certain
        outcomes = []
        for body in bodies:
            self.rec.certain = set(start)
            self.visit_body(body)
            outcomes.append(self.rec.certain)
        self.rec.certain = set.intersection(*outcomes)

    def _loop(self, target: ast.expr | None, body: list[ast.stmt], orelse: list[ast.stmt]) -> None:
        """A loop may run zero times: nothing it defines is certain afterwards."""
        start = set(self.rec.certain)
        if target is not None:
            self._store(target)
        self.visit_body(body)
        self.rec.certain = set(start)
        self.visit_body(orelse)
        self.rec.certain = start

    def visit_Expr(self, node: ast.Expr) -> None:
        """An expression statement's value is only displayed (pure calls: see expressions)."""
        self.visit_as(node.value, READ)

    def visit_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0]
        if (
            isinstance(node.value, ast.Lambda)
            and isinstance(target, ast.Name)
            and not self.rec.frames
        ):
            self._lambda(node.value, target.id)
        else:
            self.visit(node.value)
        for target in node.targets:
            self._store(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.rec.emit("use", node.target.id)
        self.visit(node.value)
        self._store(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        owner = self.rec.owner()
        if node.value is not None:
            self.visit(node.value)
        if owner is None or owner.is_class:  # annotations run at module and class level only
            self.visit(node.annotation)
        if node.value is not None:
            self._store(node.target)
        elif owner is not None and isinstance(node.target, ast.Name):
            self.rec.bind(node.target.id)  # `x: int` makes x local to a function

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def _delete(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._delete(elt)
        elif isinstance(target, ast.Subscript) and _is_int_key(target.slice):
            if not self._deleted_slots(target.value, target.slice):
                self._slot_store(target.value, whole=False)  # later items shift down
        else:
            self._store(target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._loop(node.target, node.body, node.orelse)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self.visit_as(node.test, READ)
        self._loop(None, node.body, node.orelse)

    def visit_If(self, node: ast.If) -> None:
        self.visit_as(node.test, READ)
        self._branches(node.body, node.orelse)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._store(item.optional_vars)
        self.visit_body(node.body)

    visit_AsyncWith = visit_With

    def visit_Try(self, node: ast.Try) -> None:
        start = set(self.rec.certain)
        self.visit_body(node.body)
        self.visit_body(node.orelse)
        outcomes = [self.rec.certain]
        for handler in node.handlers:
            self.rec.certain = set(start)
            if handler.type is not None:
                self.visit(handler.type)
            if handler.name:
                self.rec.bind(handler.name)
            self.visit_body(handler.body)
            outcomes.append(self.rec.certain)
        self.rec.certain = set.intersection(*outcomes)
        self.visit_body(node.finalbody)

    def visit_TryStar(self, node: Any) -> None:  # Any: ast.TryStar is new in 3.11
        self.visit_Try(node)

    def visit_Match(self, node: Any) -> None:  # Any: ast.Match does not exist on 3.9
        self.visit(node.subject)
        start = set(self.rec.certain)
        for case in node.cases:
            self.rec.certain = set(start)
            self._pattern(case.pattern)
            if case.guard is not None:
                self.visit(case.guard)
            self.visit_body(case.body)
        self.rec.certain = start

    def _pattern(self, pattern: ast.AST) -> None:
        sub: Any
        for sub in ast.walk(pattern):
            kind = type(sub).__name__
            if kind == "MatchValue":
                self.visit(sub.value)
            elif kind == "MatchClass":
                self.visit(sub.cls)
            elif kind == "MatchMapping":
                for key in sub.keys:
                    self.visit(key)
            name = getattr(sub, "name", None) or getattr(sub, "rest", None)
            if kind.startswith("Match") and isinstance(name, str):
                self.rec.bind(name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self.rec.bind(name)
            if not self.rec.frames:
                self.rec.imports.add(name)
                self.rec.imported[name] = (alias.name if alias.asname else name, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.rec.emit("anydef", ANYTHING)  # reads nothing of ours, may bind anything
            else:
                name = alias.asname or alias.name
                self.rec.bind(name)
                if not self.rec.frames and node.module and not node.level:
                    self.rec.imported[name] = (node.module, alias.name)

    def visit_Global(self, node: ast.Global) -> None:
        owner = self.rec.owner()
        if owner is not None:
            owner.global_names.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        owner = self.rec.owner()
        if owner is not None:
            owner.nonlocal_names.update(node.names)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._arguments_at_def(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        scope = self.rec.open(is_class=False, name=node.name, inline=False)
        if scope.summary is not None:  # the name holds what the decorators return
            scope.summary.calls.update(_decorator_names(node.decorator_list))
        scope.bound.update(parameters(node.args))
        self.visit_body(node.body)
        self.rec.close(scope)
        self.rec.bind(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        scope = self.rec.open(is_class=True, name=node.name, inline=True)
        if scope.summary is not None:  # methods inherited from notebook classes run too
            scope.summary.calls.update(b.id for b in node.bases if isinstance(b, ast.Name))
            scope.summary.calls.update(_decorator_names(node.decorator_list))
        self.visit_body(node.body)
        self.rec.close(scope)
        self.rec.bind(node.name)

    def visit_TypeAlias(self, node: ast.AST) -> None:
        name = getattr(node, "name", None)
        if isinstance(name, ast.Name):
            self.rec.bind(name.id)


def _decorator_names(decorators: list[ast.expr]) -> set[str]:
    """``@deco`` and ``@deco(arg)``: calling the decorated name runs the wrapper ``deco``
    returned, whose body is in ``deco``'s summary."""
    names = set()
    for decorator in decorators:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _is_int_key(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int
