"""The Teams app package (bot/platforms/teams/package.py) and its command (bot/cli/teams.py)."""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.cli.teams import register_cli
from bot.platforms.teams.package import build_package

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
ENDPOINT = "https://bot.example.nhs.uk/api/messages"


def manifest_of(package: Path) -> dict[str, Any]:
    with zipfile.ZipFile(package) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
        return manifest


def test_package_holds_the_manifest_and_both_icons(tmp_path: Path) -> None:
    package = build_package(APP_ID, ENDPOINT, tmp_path / "app.zip")
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_manifest_is_schema_1_17_with_the_app_id_filled_in(tmp_path: Path) -> None:
    manifest = manifest_of(build_package(APP_ID, ENDPOINT, tmp_path / "app.zip"))
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID


def test_bot_works_in_personal_chats_teams_and_group_chats(tmp_path: Path) -> None:
    (bot,) = manifest_of(build_package(APP_ID, ENDPOINT, tmp_path / "app.zip"))["bots"]
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["commandLists"][0]["commands"]


def test_endpoint_host_is_a_valid_domain(tmp_path: Path) -> None:
    manifest = manifest_of(build_package(APP_ID, ENDPOINT, tmp_path / "app.zip"))
    assert manifest["validDomains"] == ["bot.example.nhs.uk"]
    assert "${{" not in json.dumps(manifest)


def test_app_id_that_is_not_a_guid_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a GUID"):
        build_package("my-bot", ENDPOINT, tmp_path / "app.zip")


def test_endpoint_that_is_not_https_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="https://"):
        build_package(APP_ID, "http://bot.example.nhs.uk/api/messages", tmp_path / "app.zip")


def test_same_inputs_make_the_same_package(tmp_path: Path) -> None:
    first = build_package(APP_ID, ENDPOINT, tmp_path / "a.zip").read_bytes()
    assert build_package(APP_ID, ENDPOINT, tmp_path / "b.zip").read_bytes() == first


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="evidence-desk")
    register_cli(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_teams_package_command_writes_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "evidence-desk-teams.zip"
    args = parse(
        ["teams", "package", "--app-id", APP_ID, "--endpoint", ENDPOINT, "--out", str(out)]
    )
    assert args.func(args) == 0
    assert manifest_of(out)["id"] == APP_ID


def test_teams_package_command_exits_2_on_a_bad_app_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(["teams", "package", "--app-id", "x", "--endpoint", ENDPOINT,
                  "--out", str(tmp_path / "app.zip")])  # fmt: skip
    assert args.func(args) == 2
    assert "not a GUID" in capsys.readouterr().err
