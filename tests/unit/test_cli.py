"""The `evidence-desk` command as a person or a script runs it, on real files: the `ask --json`
stream and an exit status through real processes, the rest in this process (tests/cli.py),
where a process would add only its start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import Ran, run_cli
from tests.conftest import KbFolder, entry_text

ASK_JSON_KEYS = {"intent", "faq_id", "score", "answer", "suggestions", "topic"}


def own_database(scratch: str) -> dict[str, str]:
    """A database of the command's own: `ask` answers from a version published in the
    database, so the developer's `var/evidence-desk.sqlite3` must not leak into a test."""
    return {"EVIDENCE_DESK_DATABASE_URL": f"sqlite:///{Path(scratch) / 'cli.sqlite3'}"}


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Ran:
    """The command in a process of its own: `python -m bot ARGS`."""
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin,
            capture_output=True,
            timeout=120,
            env={**os.environ, **own_database(scratch), **(env or {})},
            check=False,
        )
    return Ran(result.returncode, result.stdout.decode(), result.stderr.decode(errors="replace"))


def cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> Ran:
    """The command in this process (tests/cli.py), on a database of its own."""
    with tempfile.TemporaryDirectory() as scratch:
        return run_cli(
            *args, stdin=stdin, env={**own_database(scratch), **(env or {})}, unset=unset
        )


#: `ask --json`'s input for the tests of its stream, all sent to one process (each test checks
#: its rows): one question a line, with blank lines, stray line endings, a byte that is not
#: UTF-8, and no newline after the last line.
READS_LINES = ["forgot my athens password", "", "hello", "find papers on sepsis"]
URGENT = ["my dad has collapsed and is not breathing"]
ODD_LINES = [
    "forgot my athens password",
    "",
    "   ",
    "hello\r",  # a Windows line ending
    "one line \u2028 with a Unicode line separator",
    "not UTF-8: \udcff",  # written as the raw byte 0xff
    "find papers on sepsis",  # the last line: no newline after it
]
ASK_JSON_INPUT = [*READS_LINES, *URGENT, *ODD_LINES]


@pytest.fixture(scope="module")
def ask_json_rows() -> Iterator[list[dict[str, Any]]]:
    """The rows `ask --json` wrote for ASK_JSON_INPUT, one process for this module."""
    raw = "\n".join(ASK_JSON_INPUT).encode("utf-8", errors="surrogateescape")
    result = run("ask", "--json", stdin=raw)
    assert result.returncode == 0, result.stderr
    yield [json.loads(line) for line in result.stdout.splitlines()]


def rows_for(rows: list[dict[str, Any]], lines: list[str]) -> list[dict[str, Any]]:
    """The rows answering `lines`, a slice of ASK_JSON_INPUT (the first occurrence of it)."""
    for start in range(len(ASK_JSON_INPUT)):
        if ASK_JSON_INPUT[start : start + len(lines)] == lines:
            return rows[start : start + len(lines)]
    raise AssertionError(f"{lines} is not a part of the input")


def test_ask_json_reads_one_question_a_line_and_writes_one_object_a_line(
    ask_json_rows: list[dict[str, Any]],
) -> None:
    rows = rows_for(ask_json_rows, READS_LINES)
    assert all(set(row) == ASK_JSON_KEYS for row in ask_json_rows)
    assert rows[0]["intent"] == "faq"
    assert rows[0]["faq_id"] == "openathens-forgotten-password"
    assert rows[0]["answer"]
    assert rows[1] == {"intent": "unknown", "faq_id": None, "score": None, "answer": None,
                       "suggestions": None, "topic": None}  # fmt: skip
    assert rows[2] == {"intent": "smalltalk", "faq_id": None, "score": 0.0, "answer": None,
                       "suggestions": None, "topic": None}  # fmt: skip
    assert rows[3]["intent"] == "search_request"
    assert rows[3]["topic"] == "sepsis"


def test_ask_json_writes_exactly_one_row_for_every_input_line(
    ask_json_rows: list[dict[str, Any]],
) -> None:
    assert len(ask_json_rows) == len(ASK_JSON_INPUT)
    rows = rows_for(ask_json_rows, ODD_LINES)
    assert [row["intent"] for row in rows[:4]] == ["faq", "unknown", "unknown", "smalltalk"]
    assert rows[-1]["topic"] == "sepsis"


def test_ask_json_carries_the_urgent_signposting_text(ask_json_rows: list[dict[str, Any]]) -> None:
    (row,) = rows_for(ask_json_rows, URGENT)
    assert row["intent"] == "urgent"
    assert "call 999 now" in row["answer"] and "NHS 111" in row["answer"]


def test_ask_prints_the_answer_with_its_source() -> None:
    result = cli("ask", "how", "do", "I", "register", "for", "openathens")
    assert result.returncode == 0, result.stderr
    assert "Source:" in result.stdout
    assert "https://" in result.stdout


def test_kb_validate_passes_on_the_shipped_kb() -> None:
    result = cli("kb", "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_kb_validate_exits_1_and_prints_file_and_line(kb_folder: KbFolder) -> None:
    """In a process: the exit status of `python -m bot` is what the command returned."""
    broken = kb_folder.write("faqs/sample-entry.md", entry_text(category="gossip"))
    result = run("kb", "validate", str(kb_folder.path))
    assert result.returncode == 1
    assert f"{broken}:4: category 'gossip'" in result.stdout


def test_kb_validate_exits_0_on_a_valid_folder(kb_folder: KbFolder) -> None:
    result = cli("kb", "validate", str(kb_folder.path))
    assert result.returncode == 0
    assert "1 entries OK" in result.stderr


def test_kb_export_writes_filled_entries_as_json_lines(kb_folder: KbFolder) -> None:
    result = cli("kb", "export", "--format", "jsonl", "--dir", str(kb_folder.path))
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["id"] == "sample-entry"
    assert row["answer"] == "Ask at the desk or email library@test.nhs.uk."
    assert row["links"] == [{"title": "Source", "url": "https://example.nhs.uk/source"}]
    assert row["questions"] == ["how do I borrow a book", "borrowing books from the library"]


def test_ask_refuses_to_start_on_a_broken_kb(kb_folder: KbFolder) -> None:
    kb_folder.write("faqs/sample-entry.md", "no front matter\n")
    result = cli("ask", "hello", env={"EVIDENCE_DESK_KB_DIR": str(kb_folder.path)})
    assert result.returncode == 1
    assert "front matter" in result.stderr


def test_invalid_setting_is_reported_not_a_traceback(tmp_path: Path) -> None:
    result = cli("ask", "hello", env={"EVIDENCE_DESK_ANSWER_THRESHOLD": "lots"})
    assert result.returncode == 2
    assert "Configuration error" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_in_production_with_no_general_queue_refuses_to_start(tmp_path: Path) -> None:
    env = {"EVIDENCE_DESK_WEB_DEMO": "false", "EVIDENCE_DESK_ALLOW_NO_GENERAL_QUEUE": "no",
           "EVIDENCE_DESK_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}  # fmt: skip
    result = cli("serve", "--port", "1", env=env, unset=("EVIDENCE_DESK_GENERAL_QUEUE",))
    assert result.returncode == 2
    assert "EVIDENCE_DESK_GENERAL_QUEUE is not set" in result.stderr
    assert "EVIDENCE_DESK_ALLOW_NO_GENERAL_QUEUE" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "desk.sqlite3").exists()  # refused before anything was started


def test_chat_answers_and_takes_a_vote_through_the_whole_desk() -> None:
    result = cli("chat", "--channel", "ward", stdin="forgot my athens password\n[Helpful]\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "OPENATHENS" in result.stdout
    assert "bot (only you)> Thanks for the feedback." in result.stdout
