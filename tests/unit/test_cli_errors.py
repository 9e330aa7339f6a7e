"""What a person sees when `evidence-desk` cannot do what they asked: one clear sentence that
names what to change, never a traceback. A port that is taken and a closed pipe are seen by a
real process; the rest in this process (tests/cli.py), where a process would add only its
start-up (several seconds for `serve`: the imports, MeSH, the drug list, the model)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli import Ran, run_cli

#: `serve`'s errors at start have nothing to do with the matcher: without the embedding model
#: they come sooner (no model run over the whole KB).
NO_MODEL = {"EVIDENCE_DESK_EMBEDDING_MODEL": "off"}


def environment(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The whole environment a run gets: no platform's secrets, a database of its own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft"))}
    return {**clean, "EVIDENCE_DESK_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
            "EVIDENCE_DESK_GENERAL_QUEUE": "slack:C0LIBRARY", **env}  # fmt: skip


def run(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=environment(env, tmp_path),
        check=False,
    )


def in_process(*args: str, env: dict[str, str], tmp_path: Path) -> Ran:
    """The command in this process (tests/cli.py), with the environment `run` gives."""
    whole = environment(env, tmp_path)
    return run_cli(*args, env=whole, unset=set(os.environ) - set(whole))


def test_a_port_already_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), env=NO_MODEL, tmp_path=tmp_path)
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "EVIDENCE_DESK_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_log_level_names_its_environment_variable(tmp_path: Path) -> None:
    result = in_process("serve", env={"EVIDENCE_DESK_LOG_LEVEL": "loud"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "EVIDENCE_DESK_LOG_LEVEL: Value error, must be one of DEBUG, INFO" in result.stderr
    assert "Traceback" not in result.stderr


def test_setting_errors_name_the_variable_the_person_set(tmp_path: Path) -> None:
    result = in_process(
        "ask", "hi", env={"EVIDENCE_DESK_ANSWER_THRESHOLD": "lots"}, tmp_path=tmp_path
    )
    assert result.returncode == 2
    assert "  EVIDENCE_DESK_ANSWER_THRESHOLD: Input should be a valid number" in result.stderr
    assert "answer_threshold" not in result.stderr


def test_a_database_url_error_names_database_url_when_that_is_what_was_set(
    tmp_path: Path,
) -> None:
    result = run_cli(
        "ask", "hi", env={"DATABASE_URL": "mysql://u:secret@db/x"},
        unset=("EVIDENCE_DESK_DATABASE_URL",),
    )  # fmt: skip
    assert result.returncode == 2
    assert "  DATABASE_URL: Value error, unsupported database URL scheme 'mysql'" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_kb_export_into_a_closed_pipe_ends_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "kb", "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head` that has read all it wants
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in errors and "BrokenPipe" not in errors


def test_an_unreachable_database_at_start_is_one_clear_error_after_a_bounded_wait(
    tmp_path: Path,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here
    result = in_process(
        "serve",
        "--port", "0",
        env={"EVIDENCE_DESK_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/desk",
             "EVIDENCE_DESK_DATABASE_WAIT_SECONDS": "1", **NO_MODEL},
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"The database at 127.0.0.1:{port}/desk cannot be reached" in result.stderr
    assert "EVIDENCE_DESK_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


class _Request:
    remote = "127.0.0.1"
    method = "GET"

    def __init__(self, path: str) -> None:
        self.path = path


class _Response:
    def __init__(self, status: int) -> None:
        self.status = status


@pytest.mark.parametrize(
    ("path", "status", "level"),
    [
        ("/chat/api/messages", 200, logging.DEBUG),
        ("/chat/api/messages", 500, logging.INFO),
        ("/chat/api/message", 200, logging.INFO),
    ],
)
def test_chat_polling_is_logged_at_debug_and_everything_else_at_info(
    path: str, status: int, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.observability import QuietPollingAccessLogger

    logger = logging.getLogger("aiohttp.access")
    caplog.set_level(logging.DEBUG, "aiohttp.access")
    request: Any = _Request(path)
    response: Any = _Response(status)
    QuietPollingAccessLogger(logger, "").log(request, response, 0.01)
    (record,) = caplog.records
    assert record.levelno == level


async def test_a_client_gone_mid_request_is_counted_as_499_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from bot.observability import Metrics, metrics_middleware

    async def reads_a_dropped_upload(request: web.Request) -> web.Response:
        raise ConnectionResetError("Connection lost")

    metrics = Metrics()
    request = make_mocked_request("POST", "/admin/kb/preview")
    with caplog.at_level(logging.INFO):
        response = await metrics_middleware(metrics)(request, reads_a_dropped_upload)
    assert response.status == 499
    assert "Traceback" not in caplog.text and not caplog.records
    assert 'status="499"' in metrics.render().decode()
