"""Alembic environment for Evidence Desk.

`bot.db.migrate` hands in an open connection (`config.attributes["connection"]`), so the
migrations run on the caller's async engine through `run_sync`. Run any other way (the
`python -m bot.db.migrate` command), this module builds its own async engine for the URL in
`config.attributes["url"]`, or the configured one. The URL travels in `attributes`, not in the
ini-style options, because those treat `%` in a password as interpolation.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from bot.config.database_url import normalize_database_url
from bot.db.models import Base, UTCDateTime
from bot.db.session import create_engine_from_url

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("url")
    if isinstance(url, str) and url:
        return normalize_database_url(url)
    from bot.config import Settings  # only needed when no URL was handed in

    return Settings().database_url


def _render_item(type_: str, obj: object, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our UTC column type as plain DateTime, so revisions never import model code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine_from_url(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline(_database_url())
else:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run_migrations(given)
    else:
        asyncio.run(_run_with_own_engine(_database_url()))
