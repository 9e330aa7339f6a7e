"""`evidence-desk ask` answers from the knowledge base the server answers from: the version
published in the database (by the admin console), not the files it was first imported from."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.db.session import Database
from bot.desk.kb_versions import KbContent, KbVersions
from knowledge import SHIPPED_KB_DIR
from tests.conftest import entry_text


def ask(database: Database, question: str) -> subprocess.CompletedProcess[str]:
    url = database.engine.url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", question],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "EVIDENCE_DESK_DATABASE_URL": url,
             "EVIDENCE_DESK_KB_DIR": str(SHIPPED_KB_DIR)},
        check=False,
    )  # fmt: skip


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
    result = ask(database, "how do I get a staff parking permit")
    assert result.returncode == 0, result.stderr
    assert "Parking permits come from the estates office" in result.stdout
    assert "Traceback" not in result.stderr


async def test_ask_uses_the_files_when_nothing_is_published(database: Database) -> None:
    result = ask(database, "library opening hours")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip()
