"""What each code cell reads and defines, from the saved file alone.

A cell's persisted run record (``metadata["jupyter_cascade"]``, written by the
server on save) is used while its ``code_sha1`` still matches the source: it
holds what the run really read and wrote, globals read inside called
functions included. Otherwise the source is analysed as the kernel would run
it (IPython's transformation, then :mod:`kernel_agent.core.analysis`), each
call closed over the notebook's function summaries.

Two things the analysis does not say and the rules need, read here from the
transformed AST: which names a cell reads *unconditionally* at top level
(outside ``if``/``try``/loop bodies, lambdas, comprehensions, short-circuit
operands), and which of its definitions are certain. Anything that may
define any name — star imports, ``%run``, ``exec``, magics not known to be
harmless, code that does not parse — is flagged, and the rules then say
nothing about names that could come from it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from IPython.core.inputtransformer2 import TransformerManager

from kernel_agent.core.analysis import CellAnalysis, FunctionSummary, analyze
from kernel_agent.core.effects import calls_conservative
from kernel_agent.core.graph import ANY_PATH
from kernel_agent.core.paths import root
from kernel_agent.core.planning import NotebookCell
from server_ext.persistence import persisted_effects
from server_ext.predict import effects_of, function_summaries

from .notebook import Cell, SavedNotebook

#: Magics that put no name into the user's namespace (others may: ``%pylab``,
#: ``%store -r``, ``%%sql``, ``%%R -o``, ``%load``...).
HARMLESS_MAGICS = frozenset(
    {
        *("matplotlib", "config", "timeit", "time", "autoreload", "env", "cd", "pwd", "ls"),
        *("pip", "conda", "who", "whos", "precision", "xmode", "prun", "history", "lsmagic"),
        *("magic", "html", "HTML", "markdown", "javascript", "js", "latex", "svg", "writefile"),
        *("file", "capture", "debug", "tb", "pdb", "doctest_mode", "pinfo", "pinfo2", "page"),
        *("bash", "sh", "script", "system", "sx", "mkdir", "cat", "rm", "cp", "mv", "less"),
        *("load_ext", "reload_ext", "unload_ext", "colors", "clear", "pprint", "automagic"),
    }
)
#: Extensions that only add magics or reloading, never names.
_HARMLESS_EXTENSIONS = frozenset({"autoreload", "line_profiler", "memory_profiler", "sql"})
_MAGIC = re.compile(r"^[ \t]*(?:[\w.,\[\] \t]+=[ \t]*)?%{1,2}([A-Za-z_]\w*)(.*)$", re.M)
_SHELL_OUT = re.compile(r"--(?:out|err|proc)\b")
#: IPython's own names in the user namespace (In, Out, _, _i3, _3...): order-dependent
#: by design, not state that a cell defines.
_IPYTHON_NAME = re.compile(r"^(?:In|Out|_+|_i+|_i?\d+|_ih|_oh|_dh|__\w+__)$")


def ipython_name(name: str) -> bool:
    return _IPYTHON_NAME.match(name) is not None


@dataclass(frozen=True)
class CellFacts:
    """One code cell's reads and definitions (symbol paths, see kernel_agent.core.paths)."""

    cell: Cell
    uses: frozenset[str]
    defines: frozenset[str]
    #: definitions that surely happen when the cell runs without raising
    sure_defines: frozenset[str]
    #: global names read unconditionally at top level, before the cell binds them
    direct_reads: frozenset[str]
    #: it may define any name (star import, %run, exec, an unknown magic, unparsable)
    may_define_anything: bool
    #: names the cell binds only by importing: every run binds the same module object
    imported: frozenset[str] = frozenset()
    #: the uses and defines come from the persisted run record
    from_metadata: bool = False

    @property
    def defined_roots(self) -> frozenset[str]:
        return frozenset(root(path) for path in self.defines)


@dataclass(frozen=True)
class _Parsed:
    analysis: CellAnalysis | None
    tree: ast.Module | None
    magic_defines: bool


def cell_facts(notebook: SavedNotebook, use_metadata: bool = True) -> list[CellFacts]:
    """The facts of every code cell of ``notebook``, in notebook order."""
    transformer = TransformerManager()
    parsed: dict[str, _Parsed] = {}
    for cell in notebook.cells:
        if cell.source not in parsed:
            parsed[cell.source] = _parse(cell.source, transformer)
    summaries = function_summaries(p.analysis for p in parsed.values())
    persisted = _persisted(notebook) if use_metadata else {}
    return [_facts(cell, parsed[cell.source], summaries, persisted) for cell in notebook.cells]


def _parse(source: str, transformer: TransformerManager) -> _Parsed:
    try:
        code = transformer.transform_cell(source)
        tree = ast.parse(code)
        analysis = analyze(code)
    except Exception:  # invalid code or an odd transformation: treated as unknown
        return _Parsed(None, None, True)
    return _Parsed(analysis, tree, _magic_may_define(source))


def _magic_may_define(source: str) -> bool:
    if "%" not in source:
        return False
    for match in _MAGIC.finditer(source):
        name, rest = match.group(1), match.group(2)
        if name not in HARMLESS_MAGICS:
            return True
        if name in ("bash", "sh", "script", "system", "sx") and _SHELL_OUT.search(rest):
            return True
        if (
            name == "load_ext"
            and rest.split()[:1] != []
            and rest.split()[0] not in (_HARMLESS_EXTENSIONS)
        ):
            return True
    return False


def _persisted(notebook: SavedNotebook) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    cells = [NotebookCell(c.id, c.source) for c in notebook.cells if c.id is not None]
    found = persisted_effects(notebook.metadata, cells)
    return {cell_id: (e.uses, e.defines) for cell_id, e in found.items()}


def _facts(
    cell: Cell,
    parsed: _Parsed,
    summaries: dict[str, FunctionSummary],
    persisted: dict[str, tuple[frozenset[str], frozenset[str]]],
) -> CellFacts:
    analysis = parsed.analysis
    if analysis is None or parsed.tree is None:
        empty: frozenset[str] = frozenset()
        return CellFacts(cell, empty, empty, empty, empty, may_define_anything=True)
    effects = effects_of(analysis, summaries)
    reads, names = unconditional_names(parsed.tree)
    record = persisted.get(cell.id) if cell.id is not None else None
    if record is not None:
        uses, defines = record
        sure = defines  # observed at run time
    else:
        uses, defines = effects.uses, effects.defines
        sure = effects.binds | {p for p in analysis.defines if root(p) in names}
    anything = (
        parsed.magic_defines
        or ANY_PATH in defines
        or analysis.conservative
        or calls_conservative(analysis, summaries)
    )
    outside, bound = reads_before_binding(parsed.tree)
    # `fig, ax = plt.subplots(); ax.plot(..)` is recorded as a use of `ax` (a possible
    # mutation): a name the cell binds is read from elsewhere only if read before that
    uses = frozenset(p for p in uses if root(p) not in bound or root(p) in outside)
    use_roots = {root(p) for p in uses}
    return CellFacts(
        cell=cell,
        uses=frozenset(p for p in uses if p != ANY_PATH and not ipython_name(root(p))),
        defines=frozenset(p for p in defines if p != ANY_PATH),
        sure_defines=frozenset(p for p in sure if p != ANY_PATH),
        direct_reads=frozenset(reads & use_roots),
        may_define_anything=anything,
        imported=import_only(parsed.tree),
        from_metadata=record is not None,
    )


def import_only(tree: ast.Module) -> frozenset[str]:
    """Names ``tree`` binds by ``import`` and in no other way (``sys.modules`` makes a
    second import give the very same object: re-running it changes nothing)."""
    imported: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                imported.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            other.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other.add(node.name)
    return frozenset(imported - other - {"*"})


# -- reads before the cell's own bindings ----------------------------------------------


def reads_before_binding(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(global names the cell may read before binding them itself, names it binds),
    statement by statement in execution order; a branch binds for what follows it."""
    reads: set[str] = set()
    bound: set[str] = set()
    _sequence(tree.body, bound, reads)
    return reads, bound


def _sequence(body: list[ast.stmt], bound: set[str], reads: set[str]) -> None:
    for stmt in body:
        _ordered_statement(stmt, bound, reads)


def _ordered_statement(stmt: ast.stmt, bound: set[str], reads: set[str]) -> None:
    if isinstance(stmt, (ast.If, ast.While)):
        _loads(stmt.test, bound, reads)
        _sequence(stmt.body, bound, reads)
        _sequence(stmt.orelse, bound, reads)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        _loads(stmt.iter, bound, reads)
        bound.update(_stores(stmt.target))
        _sequence(stmt.body, bound, reads)
        _sequence(stmt.orelse, bound, reads)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            _loads(item.context_expr, bound, reads)
            if item.optional_vars is not None:
                bound.update(_stores(item.optional_vars))
        _sequence(stmt.body, bound, reads)
    elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        for part in ("body", "handlers", "orelse", "finalbody"):
            for child in getattr(stmt, part):
                if isinstance(child, ast.ExceptHandler):
                    if child.type is not None:
                        _loads(child.type, bound, reads)
                    if child.name:
                        bound.add(child.name)
                    _sequence(child.body, bound, reads)
                else:
                    _ordered_statement(child, bound, reads)
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        for node in _sure_statement(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                _read(node.id, bound, reads)
        bound.add(stmt.name)
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        bound.update(alias.asname or alias.name.split(".")[0] for alias in stmt.names)
    else:
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            _read(stmt.target.id, bound, reads)
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                _loads(child, bound, reads)
            elif type(child).__name__ == "match_case":
                _sequence(child.body, bound, reads)  # type: ignore[attr-defined]
        for child in ast.walk(stmt):
            if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Load):
                bound.add(child.id)


def _loads(node: ast.expr, bound: set[str], reads: set[str]) -> None:
    """Every name ``node`` may load (lambda and comprehension bodies included: their
    globals are read too), then what it binds (``:=``)."""
    local: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.comprehension):
            local.update(_stores(child.target))
        elif isinstance(child, ast.Lambda):
            local.update(a.arg for a in ast.walk(child.args) if isinstance(a, ast.arg))
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            if isinstance(child.ctx, ast.Load) and child.id not in local:
                _read(child.id, bound, reads)
            elif isinstance(child.ctx, ast.Store) and child.id not in local:
                bound.add(child.id)


def _read(name: str, bound: set[str], reads: set[str]) -> None:
    if name not in bound:
        reads.add(name)


def _stores(target: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


# -- unconditional top-level reads ---------------------------------------------------


def unconditional_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names loaded, all names) in what surely runs at top level of ``tree``."""
    reads: set[str] = set()
    names: set[str] = set()
    for node in _sure_nodes(tree.body):
        if isinstance(node, ast.Name):
            names.add(node.id)
            if isinstance(node.ctx, ast.Load):
                reads.add(node.id)
    return reads, names


def _sure_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    for stmt in body:
        yield from _sure_statement(stmt)


def _sure_statement(stmt: ast.stmt) -> Iterator[ast.AST]:
    if isinstance(stmt, ast.If):
        yield from _sure_expr(stmt.test)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        yield from _sure_expr(stmt.iter)
    elif isinstance(stmt, ast.While):
        yield from _sure_expr(stmt.test)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            yield from _sure_expr(item.context_expr)
        yield from _sure_nodes(stmt.body)
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for expr in [*stmt.decorator_list, *stmt.args.defaults, *stmt.args.kw_defaults]:
            if expr is not None:
                yield from _sure_expr(expr)
    elif isinstance(stmt, ast.ClassDef):
        for expr in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
            yield from _sure_expr(expr)
    elif type(stmt).__name__ == "Match":
        yield from _sure_expr(stmt.subject)  # type: ignore[attr-defined]
    elif isinstance(stmt, (ast.Try, ast.Global, ast.Nonlocal)) or type(stmt).__name__ in (
        "TryStar",
        "TypeAlias",
    ):
        return  # a handler may catch the NameError of a read in its body
    else:
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            yield ast.Name(stmt.target.id, ast.Load())  # `x += 1` reads x first
        for child in ast.iter_child_nodes(stmt):
            yield from _sure_child(child)


def _sure_expr(node: ast.expr) -> Iterator[ast.AST]:
    yield node
    if isinstance(node, ast.Lambda):
        for expr in [*node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                yield from _sure_expr(expr)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        yield from _sure_expr(node.generators[0].iter)
    elif isinstance(node, ast.IfExp):
        yield from _sure_expr(node.test)
    elif isinstance(node, ast.BoolOp):
        yield from _sure_expr(node.values[0])
    else:
        for child in ast.iter_child_nodes(node):
            yield from _sure_child(child)


def _sure_child(child: ast.AST) -> Iterator[ast.AST]:
    if isinstance(child, ast.expr):
        yield from _sure_expr(child)
    elif isinstance(child, ast.keyword):
        yield from _sure_expr(child.value)
