"""The web server built by `create_app`: health check and KB hot reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.db.migrate import head_revision, upgrade
from bot.keys import DESK, KB_SYNC, KNOWLEDGE
from bot.messages import IncomingMessage, Platform
from bot.platforms.teams import MESSAGES_PATH
from tests.conftest import KbFolder, entry_text


def kb_app(kb_folder: KbFolder, db: str = "t.sqlite3", **settings: Any) -> web.Application:
    """The app on the test's KB folder, with its SQLite database `db` in it."""
    db_url = f"sqlite:///{kb_folder.path}/{db}"
    return create_app(
        Settings(kb_dir=kb_folder.path, kb_reload_seconds=0, database_url=db_url, **settings)
    )


async def test_healthz_reports_the_kb_version(aiohttp_client, kb_folder: KbFolder) -> None:  # type: ignore[no-untyped-def]
    app = kb_app(kb_folder)
    client: TestClient = await aiohttp_client(app)
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["kb_entries"] == 1
    assert body["kb_version"] == app[KNOWLEDGE].current.kb.version


async def test_imported_kb_is_served_without_a_restart(aiohttp_client, kb_folder: KbFolder) -> None:  # type: ignore[no-untyped-def]
    # The database holds the KB the bot answers from; edited files arrive by `kb import`.
    app = kb_app(kb_folder)
    client: TestClient = await aiohttp_client(app)
    before = (await (await client.get("/healthz")).json())["kb_version"]
    kb_folder.write("faqs/second-entry.md", entry_text("second-entry", title="Second"))
    sync = app[KB_SYNC]
    await sync.versions.import_directory(kb_folder.path, "test", "second entry")
    await sync.poll()
    after = await (await client.get("/healthz")).json()
    assert after["kb_entries"] == 2
    assert after["kb_version"] != before


async def test_readyz_is_ok_when_the_database_answers(aiohttp_client, kb_folder: KbFolder) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(kb_app(kb_folder))
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["database"] == "ok"


async def test_readyz_reports_the_schema_is_this_releases(
    aiohttp_client, kb_folder: KbFolder
) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(kb_app(kb_folder))
    body = await (await client.get("/readyz")).json()
    assert body["checks"]["migrations"] == f"current ({head_revision()})"


async def test_readyz_says_the_hybrid_matcher_is_on_by_default(
    aiohttp_client, kb_folder: KbFolder
) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(kb_app(kb_folder))
    body = await (await client.get("/readyz")).json()
    assert body["checks"]["matcher"] == "hybrid (lexical + semantic)"


async def test_readyz_says_when_the_bot_answers_with_the_lexical_index_alone(
    aiohttp_client, kb_folder: KbFolder
) -> None:  # type: ignore[no-untyped-def]
    app = kb_app(kb_folder, embedding_model=str(kb_folder.path / "no-model-here"))
    client: TestClient = await aiohttp_client(app)
    response = await client.get("/readyz")
    assert response.status == 200  # degraded, not down
    assert (await response.json())["checks"]["matcher"] == "lexical only"


async def test_readyz_is_503_on_a_schema_behind_this_release(
    aiohttp_client, kb_folder: KbFolder
) -> None:  # type: ignore[no-untyped-def]
    await upgrade(f"sqlite:///{kb_folder.path}/t.sqlite3", "0004")
    client: TestClient = await aiohttp_client(kb_app(kb_folder, auto_migrate=False))
    response = await client.get("/readyz")
    assert response.status == 503
    assert "at 0004" in (await response.json())["checks"]["migrations"]
    assert "db upgrade" in (await response.json())["checks"]["migrations"]


async def test_readyz_is_503_on_a_database_never_migrated(
    aiohttp_client, kb_folder: KbFolder
) -> None:  # type: ignore[no-untyped-def]
    app = kb_app(kb_folder, "empty.sqlite3", auto_migrate=False)
    client: TestClient = await aiohttp_client(app)
    response = await client.get("/readyz")
    assert response.status == 503
    assert "not migrated" in (await response.json())["checks"]["migrations"]


async def test_readyz_is_503_when_the_database_is_unreachable(
    aiohttp_client, kb_folder: KbFolder
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        kb_dir=kb_folder.path,
        kb_reload_seconds=0,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/nowhere",
        database_wait_seconds=0,  # start without waiting for it
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable"
    assert "unavailable" in body["checks"]["database"]


async def test_metrics_count_requests_and_answers(aiohttp_client, kb_folder: KbFolder) -> None:  # type: ignore[no-untyped-def]
    app = kb_app(kb_folder)
    client: TestClient = await aiohttp_client(app)
    await client.get("/healthz")
    await app[DESK].on_message(IncomingMessage(Platform.WEB, "u1", "how do I borrow a book"))
    body = await (await client.get("/metrics")).text()
    assert (
        'evidence_desk_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in body
    )
    assert 'evidence_desk_answers_total{intent="faq"} 1.0' in body


def test_json_log_lines_carry_the_request_id_and_no_extras() -> None:
    import json
    import logging

    from bot.observability import REQUEST_ID, JsonFormatter

    REQUEST_ID.set("abc123")
    record = logging.LogRecord(
        "bot", logging.INFO, __file__, 1, "ticket %s claimed", ("KLS-2026-00001",), None
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc123"
    assert line["message"] == "ticket KLS-2026-00001 claimed"
    assert set(line) == {"at", "level", "logger", "message", "request_id"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/slack/events"),
        ("POST", MESSAGES_PATH),
        ("GET", "/"),
        ("POST", "/chat/api/message"),
        ("GET", "/chat/api/messages"),
        ("GET", "/admin/login"),
    ],
)
def test_create_app_itself_mounts_every_platforms_routes(
    method: str, path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scenario, web and browser fixtures use create_app as it is: nothing mounts for it.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'desk.sqlite3'}"))
    mounted = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }
    assert (method, path) in mounted
