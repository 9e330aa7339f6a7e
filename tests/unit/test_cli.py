"""The `evidence-desk` command as a person or a script runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import KbFolder, entry_text

ASK_JSON_KEYS = {"intent", "faq_id", "score", "answer", "suggestions", "topic"}


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command, on a database of its own: `ask` answers from a version published in the
    database, so the developer's `var/evidence-desk.sqlite3` must not leak into a test."""
    with tempfile.TemporaryDirectory() as scratch:
        database = {"EVIDENCE_DESK_DATABASE_URL": f"sqlite:///{Path(scratch) / 'cli.sqlite3'}"}
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **database, **(env or {})},
            check=False,
        )


def test_ask_json_reads_one_question_a_line_and_writes_one_object_a_line() -> None:
    result = run(
        "ask", "--json", stdin="forgot my athens password\n\nhello\nfind papers on sepsis\n"
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4
    assert all(set(row) == ASK_JSON_KEYS for row in rows)
    assert rows[0]["intent"] == "faq"
    assert rows[0]["faq_id"] == "openathens-forgotten-password"
    assert rows[0]["answer"]
    assert rows[1] == {"intent": "unknown", "faq_id": None, "score": None, "answer": None,
                       "suggestions": None, "topic": None}  # fmt: skip
    assert rows[2] == {"intent": "smalltalk", "faq_id": None, "score": 0.0, "answer": None,
                       "suggestions": None, "topic": None}  # fmt: skip
    assert rows[3]["intent"] == "search_request"
    assert rows[3]["topic"] == "sepsis"


def test_ask_json_writes_exactly_one_row_for_every_input_line() -> None:
    lines = [
        "forgot my athens password",
        "",
        "   ",
        "hello\r",  # a Windows line ending
        "one line \u2028 with a Unicode line separator",
        "not UTF-8: \udcff",  # written as the raw byte 0xff below
        "find papers on sepsis",  # no newline after the last line
    ]
    raw = "\n".join(lines).encode("utf-8", errors="surrogateescape")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"], input=raw, capture_output=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(rows) == len(lines)
    assert [row["intent"] for row in rows[:4]] == ["faq", "unknown", "unknown", "smalltalk"]
    assert rows[-1]["topic"] == "sepsis"


def test_ask_json_carries_the_urgent_signposting_text() -> None:
    result = run("ask", "--json", stdin="my dad has collapsed and is not breathing\n")
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["intent"] == "urgent"
    assert "call 999 now" in row["answer"] and "NHS 111" in row["answer"]


def test_ask_prints_the_answer_with_its_source() -> None:
    result = run("ask", "how", "do", "I", "register", "for", "openathens")
    assert result.returncode == 0, result.stderr
    assert "Source:" in result.stdout
    assert "https://" in result.stdout


def test_kb_validate_passes_on_the_shipped_kb() -> None:
    result = run("kb", "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_kb_validate_exits_1_and_prints_file_and_line(kb_folder: KbFolder) -> None:
    broken = kb_folder.write("faqs/sample-entry.md", entry_text(category="gossip"))
    result = run("kb", "validate", str(kb_folder.path))
    assert result.returncode == 1
    assert f"{broken}:4: category 'gossip'" in result.stdout


def test_kb_validate_exits_0_on_a_valid_folder(kb_folder: KbFolder) -> None:
    result = run("kb", "validate", str(kb_folder.path))
    assert result.returncode == 0
    assert "1 entries OK" in result.stderr


def test_kb_export_writes_filled_entries_as_json_lines(kb_folder: KbFolder) -> None:
    result = run("kb", "export", "--format", "jsonl", "--dir", str(kb_folder.path))
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["id"] == "sample-entry"
    assert row["answer"] == "Ask at the desk or email library@test.nhs.uk."
    assert row["links"] == [{"title": "Source", "url": "https://example.nhs.uk/source"}]
    assert row["questions"] == ["how do I borrow a book", "borrowing books from the library"]


def test_ask_refuses_to_start_on_a_broken_kb(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", "no front matter\n")
    result = run("ask", "hello", env={"EVIDENCE_DESK_KB_DIR": str(kb_folder.path)})
    assert result.returncode == 1
    assert "front matter" in result.stderr


def test_invalid_setting_is_reported_not_a_traceback(tmp_path: Path) -> None:
    result = run("ask", "hello", env={"EVIDENCE_DESK_ANSWER_THRESHOLD": "lots"})
    assert result.returncode == 2
    assert "Configuration error" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_in_production_with_no_general_queue_refuses_to_start(tmp_path: Path) -> None:
    env = {"EVIDENCE_DESK_WEB_DEMO": "false", "EVIDENCE_DESK_ALLOW_NO_GENERAL_QUEUE": "no",
           "EVIDENCE_DESK_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}  # fmt: skip
    result = run("serve", "--port", "1", env=env)
    assert result.returncode == 2
    assert "EVIDENCE_DESK_GENERAL_QUEUE is not set" in result.stderr
    assert "EVIDENCE_DESK_ALLOW_NO_GENERAL_QUEUE" in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_answers_and_takes_a_vote_through_the_whole_desk() -> None:
    result = run("chat", "--channel", "ward", stdin="forgot my athens password\n[Helpful]\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "OPENATHENS" in result.stdout
    assert "bot (only you)> Thanks for the feedback." in result.stdout
