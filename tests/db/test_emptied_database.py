"""The PostgreSQL test database, emptied between tests (tests/databases.py), is as empty as a
fresh one: no row left in any table of the real schema, and ids counting from 1 again."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from bot.db.session import Database
from bot.desk.tickets.routing import RoutingService
from tests.databases import MigratedPostgres, empty_postgres


@pytest.mark.postgres
async def test_emptying_leaves_no_row_in_any_table_and_restarts_the_ids(
    migrated_postgres: MigratedPostgres,
) -> None:
    db = Database.from_url(migrated_postgres.url)
    try:
        routing = RoutingService(db)
        await routing.add_route("slack", "C_ONE", "One")
        await routing.add_route("slack", "C_TWO", "Two")
        await empty_postgres(db, migrated_postgres.reset)

        async with db.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            counts = {
                table: (await connection.execute(text(f'SELECT count(*) FROM "{table}"'))).scalar()  # noqa: S608
                for table in tables
                if table != "alembic_version"
            }
        assert counts and set(counts.values()) == {0}
        assert (await routing.add_route("slack", "C_THREE", "Three")).id == 1
    finally:
        await db.dispose()
