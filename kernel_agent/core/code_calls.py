"""Calls that run code in the user's namespace: ``exec``/``eval`` and IPython's magics.

IPython turns ``%time x = f()`` into ``get_ipython().run_line_magic('time',
'x = f()')`` before the kernel runs it; the magic then runs its argument as
code in the user namespace. When that code is a constant string we analyse it
like the cell itself and fold its effects in; when it is not, the cell may
read (and, for ``exec``, define) anything.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping

from .effects import ANYTHING, CellAnalysis, NamespaceFacts, Recorder
from .graph import ANY_PATH
from .paths import expr_path, root

#: IPython magics that run their argument as code in the user namespace.
_CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "memoize"})
#: IPython magics that read or write the namespace in ways we cannot see.
_NAMESPACE_MAGICS = frozenset(
    {"run", "store", "reset", "reset_selective", "rerun", "macro", "edit", "xdel"}
)
#: IPython magics that show the whole namespace.
_LISTING_MAGICS = frozenset({"who", "whos", "who_ls"})
#: Methods of the shell that read or write the user namespace directly.
_IPYTHON_NAMESPACE_METHODS = frozenset(
    {"push", "ex", "ev", "run_cell", "run_cell_async", "run_code", "safe_execfile", "del_var"}
)
_OPTIONS_WITH_VALUE = frozenset({"-n", "-r", "-p", "-s", "-l", "-T", "-D"})
_EXPANDED_NAME = re.compile(r"[$][{]?([A-Za-z_]\w*)|[{]([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=256)
def _parsed(code: str) -> ast.Module:
    """The AST of ``code``, kept: cells are re-run far more often than edited, and
    parsing is a third of the analysis. Visitors only read the tree."""
    return ast.parse(code)


class CodeReader(ast.NodeVisitor):
    """The base of the cell visitor: the recorder, and calls that run code."""

    def __init__(self, namespace: Mapping[str, object] | None) -> None:
        self.rec = Recorder(namespace)

    @classmethod
    def analyze(cls, code: str, namespace: Mapping[str, object] | None) -> CellAnalysis:
        """Parse and walk ``code`` with a fresh visitor of this class."""
        return cls.analyze_with_facts(code, namespace)[0]

    @classmethod
    def analyze_with_facts(
        cls, code: str, namespace: Mapping[str, object] | None
    ) -> tuple[CellAnalysis, NamespaceFacts | None]:
        """:meth:`analyze`, and what its answer rests on (see :class:`NamespaceFacts`)."""
        nothing = NamespaceFacts(frozenset(), False)
        try:
            tree = _parsed(code)
        except (SyntaxError, ValueError):
            return CellAnalysis(syntax_error=True), nothing
        visitor = cls(namespace)
        try:
            visitor.visit(tree)
        except RecursionError:  # absurdly nested code: give up precisely, not loudly
            return CellAnalysis(conservative=True), nothing
        return visitor.rec.finish(), visitor.rec.facts()

    def _analyze_inner(self, code: str) -> CellAnalysis:
        """Code the cell runs (``exec``, magics): its facts are not tracked."""
        self.rec.read_deeper = True
        return self.analyze(code, self.rec.namespace)

    def _code_call(self, node: ast.Call, name: str) -> bool:
        """``exec('x = 1')`` runs code we can read; computed code may do anything."""
        code = node.args[0] if node.args else None
        extra = [*node.args[1:], *(k.value for k in node.keywords)]
        if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
            if name == "exec":
                self.rec.emit("anydef", ANYTHING)
            return False
        inner = self._analyze_inner(code.value)
        if inner.syntax_error or inner.conservative:
            self.rec.emit("any", ANYTHING)
        if ANY_PATH in inner.defines:
            self.rec.emit("anydef", ANYTHING)
        inner.defines.discard(ANY_PATH)
        self._merge(inner, keeps_bindings=not extra)  # own globals dict: stays inside
        for expr in extra:
            self.visit(expr)
            parts = expr_path(expr)[0]
            if parts:
                self.rec.emit("maybe", parts[0])
        return True

    # -- IPython's transformed magics --------------------------------------

    def _ipython_call(self, node: ast.Call, method: str) -> None:
        """``get_ipython().run_line_magic(...)`` and friends, as IPython emits them."""
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        name, line, cell = [a if isinstance(a, str) else "" for a in args + [None] * 3][:3]
        if method in _IPYTHON_NAMESPACE_METHODS:
            self.rec.emit("any", ANYTHING)
            self.rec.emit("anydef", ANYTHING)
        if method in ("system", "getoutput"):
            self._expanded_names(name)  # the command is the first argument
        elif method in ("run_line_magic", "run_cell_magic") and name not in _CODE_MAGICS:
            self._expanded_names(line)
        if method in ("run_line_magic", "run_cell_magic"):
            self._magic(name, line, cell if method == "run_cell_magic" else None)
        for expr in node.args:
            self.visit(expr)

    def _expanded_names(self, text: str) -> None:
        """IPython expands ``$name`` and ``{name}`` in shell commands and magic lines."""
        for match in _EXPANDED_NAME.finditer(text):
            self.rec.emit("use", match.group(1) or match.group(2))

    def _magic(self, name: str, line: str, cell: str | None) -> None:
        if name in _NAMESPACE_MAGICS:
            self.rec.emit("any", ANYTHING)
            self.rec.emit("anydef", ANYTHING)
        elif name in _LISTING_MAGICS:
            self.rec.emit("any", ANYTHING)
        elif name in ("env", "set_env"):  # %env VAR=value sets, %env VAR reads
            setting = name == "set_env" or "=" in line or len(line.split()) > 1
            self.rec.emit("state" if setting else "use", "os.environ")
        if name not in _CODE_MAGICS:
            return
        if name in ("timeit", "prun"):
            line = _strip_options(line)
        code = line if cell is None else (line + "\n" + cell if name == "timeit" else cell)
        inner = self._analyze_inner(code)
        if inner.syntax_error or inner.conservative:
            self.rec.emit("any", ANYTHING)
        self._merge(inner, keeps_bindings=name != "timeit")
        words = [w for w in line.split() if not w.startswith("-")]
        if name == "capture" and words and words[0].isidentifier():
            self.rec.bind(words[0])  # %%capture out

    def _merge(self, inner: CellAnalysis, keeps_bindings: bool) -> None:
        """Fold in code a magic runs; %timeit's assignments stay in its own scope."""
        for kind, paths in (
            ("use", inner.uses),
            ("call", inner.calls),
            ("recv", inner.method_receivers),
            ("maybe", inner.maybe_mutated),
        ):
            for path in paths:
                self.rec.emit(kind, path)
        for path in inner.defines:
            if keeps_bindings:
                self.rec.emit("bind", path)
            else:
                self.rec.emit("maybe", root(path))
        if not self.rec.frames:
            self.rec.result.functions.update(inner.functions)


def is_get_ipython(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_ipython"
    )


def _strip_options(line: str) -> str:
    """Drop leading ``-n 10``-style options of %timeit / %prun to reach the code."""
    words = line.split(" ")
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in _OPTIONS_WITH_VALUE and words:
            words.pop(0)
    return " ".join(words)
