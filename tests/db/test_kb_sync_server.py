"""The server's one KB sync: a version published in the database reaches every server, whatever
adapters it mounts, and while none is published the files are answered from."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.db.session import Database
from bot.desk.kb_versions import KbContent, KbVersions
from bot.platforms.slack import setup_slack
from tests.conftest import KbFolder, entry_text
from tests.fakes.drain import until


def settings(database: Database, kb_folder: KbFolder) -> Settings:
    return Settings(
        kb_dir=kb_folder.path,
        kb_reload_seconds=0.05,
        database_url=database.engine.url.render_as_string(hide_password=False),
        embedding_model="off",
        allow_no_general_queue=True,
    )


async def entries(client: TestClient[Any, Any]) -> int:
    body = await (await client.get("/healthz")).json()
    return int(body["kb_entries"])


async def test_a_published_version_reaches_a_server_with_no_web_adapter(
    aiohttp_client: Any, database: Database, kb_folder: KbFolder
) -> None:
    app = create_app(settings(database, kb_folder), adapters=(setup_slack,))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    assert not any(r.canonical.startswith("/admin") for r in app.router.resources())
    assert await entries(client) == 1
    content = KbContent.from_directory(kb_folder.path).with_entry(
        "second-entry", entry_text("second-entry", title="Second")
    )
    await KbVersions(database).publish(content, "another worker's console")

    async def two() -> bool:
        return await entries(client) == 2

    await until(two, within=10)


async def test_a_server_starts_on_the_published_version_not_the_files(
    aiohttp_client: Any, database: Database, kb_folder: KbFolder
) -> None:
    content = KbContent.from_directory(kb_folder.path).with_entry(
        "second-entry", entry_text("second-entry", title="Second")
    )
    await KbVersions(database).publish(content, "admin")
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(settings(database, kb_folder).model_copy(update={"kb_reload_seconds": 0}))
    )
    assert await entries(client) == 2


async def test_with_nothing_published_an_edited_file_reaches_the_server(
    aiohttp_client: Any, database: Database, kb_folder: KbFolder
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(settings(database, kb_folder), adapters=())
    )
    assert await entries(client) == 1
    kb_folder.write("faqs/second-entry.md", entry_text("second-entry", title="Second"))

    async def two() -> bool:
        return await entries(client) == 2

    await until(two, within=10)
    assert await KbVersions(database).latest_id() is None
