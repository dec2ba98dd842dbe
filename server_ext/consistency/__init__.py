"""``jupyter cascade check``: is a saved notebook what restart-and-run-all shows?

The CLI (:mod:`server_ext.cli.check`) only parses arguments and prints; the
work is here, one job per module, on plain data (no server, no kernel unless
``--execute``):

- :mod:`.notebook` reads an .ipynb into :class:`~.notebook.SavedNotebook`;
- :mod:`.facts` gives each code cell what it reads and defines (the persisted
  run records when still current, else the agent's static analysis);
- :mod:`.static` holds the static rules, :mod:`.execute` and :mod:`.outputs`
  the ``--execute`` rules, :mod:`.rules` the rule codes;
- :mod:`.report` formats findings as text, JSON or GitHub annotations.

docs/check.md describes every rule.
"""

from __future__ import annotations

from .checker import CheckOptions, check_notebook, check_path
from .findings import CellRef, Finding, NotebookReport
from .notebook import NotebookError, SavedNotebook, read_notebook
from .rules import RULES, Rule

__all__ = [
    "RULES",
    "CellRef",
    "CheckOptions",
    "Finding",
    "NotebookError",
    "NotebookReport",
    "Rule",
    "SavedNotebook",
    "check_notebook",
    "check_path",
    "read_notebook",
]
