"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.db.session import Database

EXPECTED_TABLES = {
    "routes",
    "specialists",
    "specialist_identities",
    "route_specialists",
    "reference_counters",
    "tickets",
    "ticket_events",
    "ticket_messages",
    "ticket_impacts",
    "escalations",
    "conversation_refs",
    "faq_feedback",
    "unanswered_questions",
    "outbox",
    "posted_messages",
    "listening_channels",
    "listening_audit",
    "listening_replies",
    "inbound_events",
    "kb_versions",
    "kb_entries",
    "web_messages",
    "admin_users",
    "admin_sessions",
    "login_failures",
}


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_create_every_table_on_a_fresh_database(database: Database) -> None:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(_table_names)
    assert tables == EXPECTED_TABLES | {"alembic_version"}


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_upgrading_an_up_to_date_database_changes_nothing(database: Database) -> None:
    await upgrade(database.engine.url.render_as_string(hide_password=False))
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_table_names) == EXPECTED_TABLES | {"alembic_version"}
