"""Bring a database to the latest schema, from code: `await upgrade(settings.database_url)`.

Alembic is configured here rather than by an `alembic.ini`, so an installed bot (where no ini
file exists) can migrate itself at start. The sync Alembic command runs inside the async
engine's connection (`run_sync`), in one transaction: PostgreSQL and SQLite both have
transactional DDL, so a failed upgrade leaves the schema as it was.

`python -m bot.db.migrate` upgrades the configured database;
`python -m bot.db.migrate revision "what changed"` autogenerates a new revision against it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bot.config.database_url import normalize_database_url
from bot.db.session import create_engine_from_url

__all__ = ["MIGRATIONS_DIR", "alembic_config", "head_revision", "upgrade"]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for our migrations, with no ini file behind it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = normalize_database_url(url)
    return config


def head_revision() -> str:
    """The newest revision this code's migrations define: what a ready database must be at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found under {MIGRATIONS_DIR}")
    return head


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (default: the latest)."""
    engine = create_engine_from_url(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, alembic_config(url), revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def main(argv: list[str] | None = None) -> int:
    from bot.config import Settings  # the CLI path only; upgrade() takes its URL as given

    args = sys.argv[1:] if argv is None else argv
    url = Settings().database_url
    if args[:1] == ["revision"] and len(args) == 2:
        command.revision(alembic_config(url), message=args[1], autogenerate=True)
    elif not args or args == ["upgrade"]:
        asyncio.run(upgrade(url))
    else:
        sys.stderr.write('usage: python -m bot.db.migrate [upgrade | revision "message"]\n')
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
