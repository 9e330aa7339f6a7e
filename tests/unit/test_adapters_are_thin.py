"""The chat adapters translate, render and deliver; the journal, the outbox's tables and the
database are the core's. Checked on the import statements themselves, so a new shortcut
through SQLAlchemy in an adapter fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTER_MODULES = sorted(
    [*(ROOT / "bot" / "platforms" / "slack").glob("*.py"), *(ROOT / "bot" / "platforms" / "teams").glob("*.py"),
     ROOT / "bot" / "platforms" / "web" / "chat.py", ROOT / "bot" / "platforms" / "web" / "__init__.py"]
)  # fmt: skip
CORE_ONLY = ("sqlalchemy", "bot.db.models", "bot.delivery.journal", "bot.delivery.group_commit")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ADAPTER_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_an_adapter_module_imports_no_database_or_journal_code(module: Path) -> None:
    leaks = {
        name for name in imported(module) for core in CORE_ONLY
        if name == core or name.startswith(core + ".")
    }  # fmt: skip
    assert leaks == set(), f"{module.name} reaches past the core: {sorted(leaks)}"
