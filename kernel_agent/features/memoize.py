"""``%%memoize``: skip a cell whose code and inputs equal an earlier run's.

The inputs are what the agent's analysis says the body reads (including the
globals read by the notebook functions it calls), digested by content
(:mod:`~kernel_agent.runtime.content_hash`). On a hit the names the body defined are restored and
the outputs replayed: by default only the last expression's result,
``--quiet`` nothing, ``--verbose`` also stdout, stderr and rich displays.
Entries live in memory and, pickled, in a folder (``--dir PATH``, else
``$CASCADE_MEMOIZE_DIR``, else ``~/.cache/jupyter-cascade/memoize``), so a
new kernel hits them too.

The body runs like a cell: all statements, then the last one, if it is an
expression, is evaluated and becomes the cell's result.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from ..core.analysis import CellAnalysis, FunctionSummary, analyze, close_over_calls
from ..core.effects import calls_conservative
from ..core.paths import root
from ..core.protocol import AGENT_NAME
from ..runtime.content_hash import Undigestible, digest
from .memo_store import Entry, MemoCache

DEFAULT, QUIET, VERBOSE = "default", "quiet", "verbose"
KEY_VERSION = "kernel_agent.memoize/1"
#: Globals that change on every run or belong to IPython: never inputs or outputs.
_SESSION_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", AGENT_NAME})
#: IPython's own history globals (``_``, ``_3``, ``_i3``, ``_oh``...).
_IPYTHON_HISTORY = re.compile(r"_+|_i+|_i\d+|_\d+|_oh|_dh|_ih")
_USAGE = "Usage: %%memoize [--quiet | --verbose] [--dir PATH]"


@dataclass(frozen=True)
class Options:
    level: str = DEFAULT
    directory: str | None = None


def parse_options(line: str, environ: Mapping[str, str] = os.environ) -> Options:
    """``--quiet`` / ``--verbose`` / ``--dir PATH``; the folder defaults from the environment."""
    words = shlex.split(line)
    level, directory = DEFAULT, None
    while words:
        word = words.pop(0)
        if word in ("--quiet", "-q"):
            level = QUIET
        elif word in ("--verbose", "-v"):
            level = VERBOSE
        elif word == "--dir" and words:
            directory = words.pop(0)
        elif word.startswith("--dir="):
            directory = word[len("--dir=") :]
        else:
            raise UsageError(f"%%memoize: unexpected {word!r}\n{_USAGE}")
    return Options(level, os.path.expanduser(directory or default_directory(environ)))


def default_directory(environ: Mapping[str, str] = os.environ) -> str:
    if environ.get("CASCADE_MEMOIZE_DIR"):
        return environ["CASCADE_MEMOIZE_DIR"]
    cache_home = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache_home, "jupyter-cascade", "memoize")


@dataclass(frozen=True)
class BodyEffects:
    """Global names a body reads, may change in place, and surely defines."""

    inputs: frozenset[str]
    maybe_changed: frozenset[str]
    defines: frozenset[str]


def body_effects(
    analysis: CellAnalysis, summaries: Mapping[str, FunctionSummary], namespace: Mapping[str, Any]
) -> BodyEffects:
    """What the body touches, directly or through the notebook functions it calls."""
    known = dict(summaries)
    known.update(analysis.functions)
    calls = set(analysis.calls)
    for receiver in analysis.method_receivers:  # methods of notebook classes read globals too
        class_name = type(namespace.get(receiver)).__name__
        if class_name in known:
            calls.add(class_name)
    probe = CellAnalysis(calls=calls, functions=analysis.functions)
    extra_uses, extra_defines = close_over_calls(probe, known)

    def roots(paths: set[str]) -> frozenset[str]:
        return frozenset(root(p) for p in paths if root(p) not in _SESSION_NAMES)

    return BodyEffects(
        inputs=roots(set(analysis.uses) | extra_uses),
        maybe_changed=roots(analysis.maybe_mutated | analysis.method_receivers),
        defines=roots(set(analysis.defines) | extra_defines),
    )


def input_digests(names: frozenset[str], namespace: Mapping[str, Any]) -> dict[str, str]:
    """Each input's content digest (``<absent>`` when unbound); Undigestible names the input."""
    found = {}
    for name in sorted(names):
        if name not in namespace:
            found[name] = "<absent>"
            continue
        try:
            found[name] = digest(namespace[name])
        except Undigestible as error:
            raise Undigestible(f"{name}: {error}") from error
    return found


def cache_key(body: str, digests: Mapping[str, str]) -> str:
    """The key of a run: the body's text and its inputs' digests."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in (KEY_VERSION, f"{sys.version_info[0]}.{sys.version_info[1]}", body):
        hasher.update(part.encode() + b"\0")
    for name in sorted(digests):
        hasher.update(f"{name}={digests[name]}\0".encode())
    return hasher.hexdigest()


class MemoizeMagic:
    """%%memoize [--quiet | --verbose] [--dir PATH]: skip the cell when its code and
    inputs equal an earlier run's; restore what it defined and replay its result
    (--quiet: nothing; --verbose: stdout, stderr and displays too). Cached in memory
    and on disk in PATH (default $CASCADE_MEMOIZE_DIR or ~/.cache/jupyter-cascade/memoize).
    """

    def __init__(self, shell: Any, agent: Any, cache: MemoCache | None = None) -> None:
        self.shell = shell
        self.agent = agent
        self.cache = cache or MemoCache()

    def __call__(self, line: str, cell: str) -> Any:
        __tracebackhide__ = True  # noqa: F841 (IPython hides this frame in tracebacks)
        options = parse_options(line)
        namespace = self.shell.user_ns
        analysis = analyze(self.shell.transform_cell(cell), namespace)
        summaries = self.agent.summaries
        if analysis.syntax_error:
            return self._run(cell)[1]  # raises the SyntaxError as a cell would
        if analysis.conservative or calls_conservative(analysis, summaries):
            _note("memoize: this cell may read any global (exec, star-import...): not cached")
            return self._run(cell)[1]
        effects = body_effects(analysis, summaries, namespace)
        try:
            digests = input_digests(effects.inputs, namespace)
        except Undigestible as error:
            _note(f"memoize: cannot digest input {error}: not cached")
            return self._run(cell)[1]
        key = cache_key(cell, digests)
        entry = self.cache.get(key, options.directory)
        if entry is not None:
            return self._restore(entry, options.level)
        entry = self._record(cell, effects, digests)
        note = self.cache.put(key, entry, options.directory)
        if note:
            _note(note)
        return entry.result if entry.has_result else None

    def _run(self, body: str) -> tuple[bool, Any]:
        __tracebackhide__ = True  # noqa: F841
        return run_body(self.shell, body)

    def _record(self, body: str, effects: BodyEffects, digests: Mapping[str, str]) -> Entry:
        """Run the body, recording its outputs and what it defined, changed and deleted."""
        __tracebackhide__ = True  # noqa: F841
        namespace = self.shell.user_ns
        before = {name: id(value) for name, value in namespace.items() if _is_user_name(name)}
        with recording(self.shell) as outputs:
            has_result, result = self._run(body)
        after = {name: id(value) for name, value in namespace.items() if _is_user_name(name)}
        rebound = {name for name, ident in after.items() if before.get(name) != ident}
        # `model.fit(X)` changes model in place: same object, new content; a hit must restore it
        changed = {
            name
            for name in effects.maybe_changed & digests.keys()
            if name in after and _digest_or_none(namespace[name]) != digests[name]
        }
        defined = set(effects.defines) | rebound | changed
        return Entry(
            values={name: namespace[name] for name in sorted(defined) if name in after},
            deleted=sorted(before.keys() - after.keys()),
            has_result=has_result,
            result=result,
            outputs=outputs,
        )

    def _restore(self, entry: Entry, level: str) -> Any:
        namespace = self.shell.user_ns
        namespace.update(entry.values)
        for name in entry.deleted:
            namespace.pop(name, None)
        if level == VERBOSE:
            replay(self.shell, entry.outputs)
        if level == QUIET or not entry.has_result:
            return None
        return entry.result


def run_body(shell: Any, body: str) -> tuple[bool, Any]:
    """Run cell code in the user namespace; (True, value) when it ends in an expression."""
    __tracebackhide__ = True  # noqa: F841
    source = shell.transform_cell(body)
    filename = _register_source(shell, source, body)
    flags = getattr(shell.compile, "flags", 0)
    tree = ast.parse(source, filename)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    head = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
    user_globals, user_locals = shell.user_global_ns, shell.user_ns
    exec(compile(head, filename, "exec", flags, dont_inherit=True), user_globals, user_locals)
    if last is None:
        return False, None
    expression = ast.Expression(body=last.value)
    code = compile(expression, filename, "eval", flags, dont_inherit=True)
    value = eval(code, user_globals, user_locals)
    if body.rstrip().endswith(";"):  # a trailing semicolon hides the result, as in a cell
        return False, None
    return True, value


def _register_source(shell: Any, source: str, body: str) -> str:
    """A file name under which tracebacks show the body's lines (IPython's cell cache)."""
    cache = getattr(getattr(shell, "compile", None), "cache", None)
    if cache is None:
        return "<memoize>"
    inputs = shell.user_ns.get("In")
    # the running cell's number: IPython 9 counts it before the run, 8 after; In has it
    number = len(inputs) - 1 if isinstance(inputs, list) else shell.execution_count
    try:
        return str(cache(source, number, raw_code=body))
    except TypeError:  # IPython < 8: no raw_code
        return str(cache(source, number))


class _Tee:
    """A stream that also records what is written to it."""

    def __init__(self, stream: Any, name: str, events: list[tuple[str, Any]]) -> None:
        self._stream = stream
        self._name = name
        self._events = events

    def write(self, text: str) -> Any:
        if text:
            events = self._events
            if events and events[-1][0] == self._name:
                events[-1] = (self._name, events[-1][1] + text)
            else:
                events.append((self._name, text))
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def recording(shell: Any) -> Iterator[list[tuple[str, Any]]]:
    """Record stdout, stderr and display outputs while still showing them."""
    events: list[tuple[str, Any]] = []
    stdout, stderr = sys.stdout, sys.stderr
    publisher: Any = getattr(shell, "display_pub", None)

    def on_display(msg: dict[str, Any]) -> dict[str, Any]:
        if msg.get("msg_type") == "display_data":
            content = msg.get("content") or {}
            shown = {"data": content.get("data"), "metadata": content.get("metadata")}
            events.append(("display", shown))
        return msg

    hooked = hasattr(publisher, "register_hook")
    sys.stdout, sys.stderr = _Tee(stdout, "stdout", events), _Tee(stderr, "stderr", events)
    if hooked:
        publisher.register_hook(on_display)
    try:
        yield events
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        if hooked:
            publisher.unregister_hook(on_display)


def replay(shell: Any, outputs: list[tuple[str, Any]]) -> None:
    """Show recorded outputs again, in their order."""
    for kind, payload in outputs:
        if kind == "stdout":
            sys.stdout.write(payload)
        elif kind == "stderr":
            sys.stderr.write(payload)
        elif kind == "display" and payload.get("data"):
            sys.stdout.flush()
            sys.stderr.flush()
            shell.display_pub.publish(data=payload["data"], metadata=payload.get("metadata") or {})
    sys.stdout.flush()
    sys.stderr.flush()


def _digest_or_none(value: Any) -> str | None:
    try:
        return digest(value)
    except Undigestible:
        return None


def _is_user_name(name: str) -> bool:
    return name not in _SESSION_NAMES and not _IPYTHON_HISTORY.fullmatch(name)


def _note(message: str) -> None:
    print(message, file=sys.stderr)
