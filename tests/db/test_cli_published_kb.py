"""`evidence-desk ask` answers from the knowledge base the server answers from: the version
published in the database (by the admin console), not the files it was first imported from.
The command runs in this process (tests/cli.py): a process would add seconds of start-up."""

from __future__ import annotations

import asyncio

from bot.db.session import Database
from bot.desk.kb_versions import KbContent, KbVersions
from knowledge import SHIPPED_KB_DIR
from tests.cli import Ran, run_cli
from tests.conftest import entry_text


async def ask(database: Database, question: str) -> Ran:
    """`evidence-desk ask QUESTION` on the test's database; in a thread, since the command runs
    its own event loop as it does in a process."""
    url = database.engine.url.render_as_string(hide_password=False)
    env = {"EVIDENCE_DESK_DATABASE_URL": url, "EVIDENCE_DESK_KB_DIR": str(SHIPPED_KB_DIR)}
    return await asyncio.to_thread(run_cli, "ask", question, env=env)


async def test_ask_answers_from_the_version_published_in_the_admin_console(
    database: Database,
) -> None:
    content = KbContent.from_directory(SHIPPED_KB_DIR).with_entry(
        "parking-permits",
        entry_text(
            "parking-permits",
            title="Staff parking permits",
            questions=("how do I get a staff parking permit", "staff parking permit"),
            body="Parking permits come from the estates office, not the library.",
        ),
    )
    await KbVersions(database).publish(content, "admin@example.nhs.uk", "parking")
    result = await ask(database, "how do I get a staff parking permit")
    assert result.returncode == 0, result.stderr
    assert "Parking permits come from the estates office" in result.stdout
    assert "Traceback" not in result.stderr


async def test_ask_uses_the_files_when_nothing_is_published(database: Database) -> None:
    result = await ask(database, "library opening hours")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip()
