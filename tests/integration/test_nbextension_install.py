"""The nbclassic nbextension is installed with the package and enabled with no user step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def test_nbclassic_extension_list_shows_it_enabled_and_valid(tmp_path: Path) -> None:
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("JUPYTER_PREFER_ENV_PATH", None)
    script = Path(sys.executable).with_name("jupyter-nbclassic-extension")
    listing = subprocess.run(
        [str(script), "list"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the list and the validation lines, in the order printed
        text=True,
        timeout=60,
        check=True,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout)
    assert re.search(r"jupyter-cascade/main\s+enabled\s*\n\s*- Validating: OK", text), text


def test_the_enable_file_and_the_module_are_installed() -> None:
    prefix = Path(sys.prefix)
    enable = prefix / "etc/jupyter/nbconfig/notebook.d/jupyter-cascade.json"
    assert json.loads(enable.read_text()) == {"load_extensions": {"jupyter-cascade/main": True}}
    nbextension = prefix / "share/jupyter/nbextensions/jupyter-cascade"
    assert (nbextension / "main.js").is_file() and (nbextension / "main.css").is_file()
