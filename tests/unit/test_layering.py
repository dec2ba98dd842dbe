"""kernel_agent's layers import one way only: features → runtime → core.

Every import of every module is read from its AST (function-level ones too):
``core`` imports only the standard library and itself, ``runtime`` adds
IPython, ``features`` may use both layers below it. Nothing in the package
imports ``server_ext`` or anything outside the standard library and IPython
(DESIGN §3: the agent is injected as source into any Python kernel).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import kernel_agent

PACKAGE = Path(kernel_agent.__file__).parent
LAYERS = ("core", "runtime", "features")
#: what each layer may import from this package, besides itself
BELOW = {"core": set(), "runtime": {"core"}, "features": {"core", "runtime"}}
#: third-party top-level packages each layer may import
OUTSIDE = {"core": set(), "runtime": {"IPython"}, "features": {"IPython"}}


def _modules() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in LAYERS for path in sorted((PACKAGE / layer).glob("*.py"))]


def _imports(path: Path, layer: str) -> list[str]:
    """Absolute dotted names of everything ``path`` imports."""
    package = f"kernel_agent.{layer}"
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if node.module is None:  # ``from . import x``: each x is a module
                names += [f"{module}.{alias.name}" for alias in node.names]
            else:
                names.append(module)
    return names


def test_every_module_is_in_a_layer() -> None:
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], "put new kernel_agent modules in core/, runtime/ or features/"
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        LAYERS
    )


@pytest.mark.parametrize(
    ("layer", "path"), _modules(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_imports_go_one_way(layer: str, path: Path) -> None:
    for name in _imports(path, layer):
        top = name.split(".")[0]
        if top == "kernel_agent":
            parts = name.split(".")
            assert len(parts) > 1 and parts[1] in {layer, *BELOW[layer]}, (
                f"kernel_agent/{layer}/{path.name} imports {name}"
            )
        else:
            assert top in sys.stdlib_module_names or top in OUTSIDE[layer], (
                f"kernel_agent/{layer}/{path.name} imports {name}"
            )


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from ..features.api import code\ndef f():\n    from . import paths\n")
    assert _imports(module, "runtime") == [
        "kernel_agent.features.api",
        "kernel_agent.runtime.paths",
    ]
