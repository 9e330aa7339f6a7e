"""`evidence-desk ask` loads only what answering needs: not the web server, Teams' SDK, the
admin console or the migrations (issue #17: they were most of its start-up time), nor
SQLAlchemy when there is no database file to read a published KB from."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.cli.main import LAZY_COMMANDS, build_parser

HEAVY = (
    "botbuilder",
    "aiohttp.web",
    "bot.app",
    "bot.platforms",
    "alembic",
    "bot.db.migrate",
    "sqlalchemy",
)

PROBE = """
import json, sys
from bot.cli.main import main
code = main(["ask", "library opening hours"])
print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)
"""


def test_ask_imports_no_web_server_teams_console_migrations_or_sqlalchemy(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "EVIDENCE_DESK_DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}",
        "EVIDENCE_DESK_EMBEDDING_MODEL": "off",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    code, modules = json.loads(result.stderr.strip().splitlines()[-1])
    assert code == 0
    assert "opening hours" in result.stdout.lower()
    loaded = [m for m in modules if m.startswith(HEAVY)]
    assert loaded == []


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {action.dest: action.help or "" for action in sub._choices_actions}


def test_the_lazy_commands_are_listed_with_their_modules_own_help() -> None:
    full = _helps(build_parser())  # every group registered by its own module
    assert {name: full[name] for name in LAZY_COMMANDS} == {
        name: help_line for name, (help_line, _) in LAZY_COMMANDS.items()
    }


def test_a_lazy_command_is_parsed_by_its_own_module() -> None:
    args = build_parser(["routes", "list"]).parse_args(["routes", "list"])
    assert args.admin.__module__ == "bot.cli.admin"
