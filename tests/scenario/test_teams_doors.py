"""Teams' local (Emulator) mode checks no token, so it is kept to this machine: it starts only on
a loopback host, and replies only to a loopback serviceUrl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.cli.main import main
from bot.config import Settings
from bot.platforms.teams import MESSAGES_PATH, TEAMS
from tests.app_settings import app_settings
from tests.teams_world import TeamsWorld, without_teams_variables

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - what a container binds; the point of these tests


def _settings(tmp_path: Path, host: str) -> Settings:
    return app_settings(f"sqlite:///{tmp_path / 'desk.sqlite3'}", host=host)


async def test_local_mode_refuses_an_activity_whose_service_url_is_not_this_machine(
    teams: TeamsWorld,
) -> None:
    elsewhere = teams.activity(
        text="forgot my athens password", serviceUrl="https://attacker.invalid/"
    )
    response = await teams.client.post(MESSAGES_PATH, json=elsewhere)
    assert response.status == 403
    assert "serviceUrl must be loopback" in (await response.json())["error"]
    assert await teams.tickets() == 0
    assert not teams.connector.calls
    # The Emulator on this machine is still answered.
    assert await teams.say(teams.activity(text="forgot my athens password"))


def test_local_mode_asked_for_on_a_public_host_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_teams_variables(monkeypatch)
    monkeypatch.setenv("EVIDENCE_DESK_TEAMS_LOCAL_MODE", "true")
    with pytest.raises(ValueError, match=r"EVIDENCE_DESK_TEAMS_LOCAL_MODE.*EVIDENCE_DESK_HOST"):
        create_app(_settings(tmp_path, EVERY_INTERFACE))


def test_serve_names_the_setting_when_local_mode_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    without_teams_variables(monkeypatch)
    monkeypatch.setenv("EVIDENCE_DESK_TEAMS_LOCAL_MODE", "true")
    monkeypatch.setenv("EVIDENCE_DESK_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    monkeypatch.setenv("EVIDENCE_DESK_KB_RELOAD_SECONDS", "0")
    monkeypatch.setenv("EVIDENCE_DESK_GENERAL_QUEUE", "slack:C0LIBRARY")  # not what is refused
    assert main(["serve", "--host", EVERY_INTERFACE]) == 2
    assert "EVIDENCE_DESK_TEAMS_LOCAL_MODE" in capsys.readouterr().err


async def test_without_an_app_id_a_public_host_serves_no_teams_url(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_teams_variables(monkeypatch)
    app = create_app(_settings(tmp_path, EVERY_INTERFACE))
    assert TEAMS not in app
    client = await aiohttp_client(app)
    response = await client.post(MESSAGES_PATH, json={"type": "message"})
    assert response.status == 404
