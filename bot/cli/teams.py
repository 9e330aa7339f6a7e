"""`evidence-desk teams package`: build the Teams app package to upload.

Wired into the main parser with `register_cli(sub)`; the command's function takes the parsed
arguments and returns the exit code (0, or 2 for a bad argument), like bot/cli/admin.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.platforms.teams.package import ASSETS, build_package


def cmd_teams_package(args: argparse.Namespace) -> int:
    try:
        path = build_package(args.app_id, args.endpoint, Path(args.out), Path(args.assets))
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"evidence-desk teams package: {exc}\n")
        return 2
    sys.stdout.write(
        f"{path}\nUpload it in Teams (Apps > Manage your apps > Upload an app), or in the Teams "
        "admin centre to publish it to your organisation.\n"
    )
    return 0


def register_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `teams package` to the main parser."""
    teams = sub.add_parser("teams", help="Microsoft Teams: build the app package")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True)
    package = teams_sub.add_parser(
        "package", help="zip manifest.json and icons for upload to Teams (sideloading)"
    )
    package.add_argument(
        "--app-id", required=True, help="the Azure Bot's Microsoft App ID (a GUID)"
    )
    package.add_argument(
        "--endpoint",
        required=True,
        help="the bot's messaging endpoint, e.g. https://bot.example.nhs.uk/api/messages",
    )
    package.add_argument(
        "--out",
        default="evidence-desk-teams.zip",
        help="where to write the zip (default: %(default)s)",
    )
    package.add_argument(
        "--assets",
        default=str(ASSETS),
        help="folder with manifest.template.json, color.png and outline.png (default: deploy/teams)",
    )
    package.set_defaults(func=cmd_teams_package)
