"""`evidence-desk admin ...` (console accounts) and `evidence-desk kb import|versions|export
--to` (the knowledge base between its reviewable files and the database).

`register_cli(sub)` adds the `admin` group to the main parser; `extend_kb_parser(kb_sub)`
adds `import` and `versions` to the existing `kb` group and a `--to DIR` option to its
`export`. Commands run through `bot.cli.admin.run_admin`, like the other admin commands.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from bot.cli.admin import run_admin
from bot.config import Settings
from bot.db.session import Database
from bot.desk.kb_versions import KbInvalid, KbVersions
from bot.errors import UserFacingError
from bot.platforms.web.auth import AdminAccounts


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Same password again: ") != first:
        raise UserFacingError("The two passwords are not the same; nothing was changed.")
    return first


async def admin_add(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    # --sso: no password, so the account can only be used by signing in with Microsoft.
    password = None if getattr(args, "sso", False) else _read_password(args)
    admin = await AdminAccounts(db).add(args.email, password)
    how = "with Microsoft" if password is None else "at /admin"
    print(f"admin account {admin.id}: {admin.email}; sign in {how}")
    return 0


async def admin_password(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    await AdminAccounts(db).set_password(args.email, _read_password(args))
    print(f"password changed for {args.email}; its sessions were signed out")
    return 0


async def admin_list(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    for admin in await AdminAccounts(db).list():
        last = f"{admin.last_login_at:%Y-%m-%d %H:%M}" if admin.last_login_at else "never"
        state = "active" if admin.is_active else "disabled"
        print(f"{admin.id:>4}  {admin.email:<40} {state:<9} last sign-in {last}")
    return 0


async def admin_disable(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    await AdminAccounts(db).deactivate(args.email)
    print(f"{args.email} can no longer sign in; its sessions were signed out")
    return 0


async def kb_import(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    directory = Path(args.dir)
    try:
        info, kb = await KbVersions(db).import_directory(
            directory, args.author or getpass.getuser(), args.note or ""
        )
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KbInvalid as exc:
        for problem in exc.problems:
            print(f"{directory}/{problem}" if not problem.file.startswith("/") else problem)
        print(f"{directory}: not imported; nothing changed", file=sys.stderr)
        return 1
    print(
        f"knowledge base version {info.id} published ({len(kb.entries)} entries); "
        "running servers switch to it within a few seconds"
    )
    return 0


async def kb_versions(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    for version in await KbVersions(db).list(limit=args.limit):
        print(
            f"{version.id:>5}  {version.created_at:%Y-%m-%d %H:%M}  {version.author:<28} "
            f"{version.entry_count:>3} entries  {version.note}"
        )
    return 0


async def kb_export_to(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    versions = KbVersions(db)
    found = await (versions.get(args.version) if args.version else versions.latest())
    if found is None:
        print(
            "the database has no such knowledge base version (start the server once, or "
            "run `evidence-desk kb import DIR`)",
            file=sys.stderr,
        )
        return 1
    info, content = found
    written = content.write_directory(Path(args.to))
    print(f"version {info.id} written to {args.to} ({len(written)} files)")
    return 0


def register_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `admin add|password|list|disable` to the main parser."""
    admin = sub.add_parser("admin", help="accounts for the admin console (/admin)")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    for name, command, text in (
        ("add", admin_add, "create an account (the password is asked for, or read from stdin)"),
        ("password", admin_password, "set a new password (signs the account out everywhere)"),
    ):
        parser = admin_sub.add_parser(name, help=text)
        parser.add_argument("email")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
        if name == "add":
            parser.add_argument(
                "--sso",
                action="store_true",
                help="no password: the account signs in only with Microsoft (single sign-on)",
            )
        parser.set_defaults(admin=command)
    admin_sub.add_parser("list", help="list the accounts").set_defaults(admin=admin_list)
    disable = admin_sub.add_parser("disable", help="stop an account signing in")
    disable.add_argument("email")
    disable.set_defaults(admin=admin_disable)


def extend_kb_parser(kb_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kb import DIR` and `kb versions`, and `--to DIR` to `kb export`."""
    imported = kb_sub.add_parser("import", help="publish a KB folder as a new database version")
    imported.add_argument("dir")
    imported.add_argument("--note", help="shown in the history")
    imported.add_argument("--author", help="default: your user name")
    imported.set_defaults(admin=kb_import)
    listing = kb_sub.add_parser("versions", help="the database's KB versions, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(admin=kb_versions)

    export = kb_sub.choices.get("export")
    if export is None:
        export = kb_sub.add_parser("export", help="write the latest database version to files")
        export.add_argument("--to", required=True, help="folder to write (faqs/, *.yaml)")
        export.add_argument("--version", type=int, help="default: the latest")
        export.set_defaults(admin=kb_export_to)
        return
    export.add_argument(
        "--to", metavar="DIR", help="write the database's latest version to this folder as files"
    )
    export.add_argument("--version", type=int, help="with --to: this version, not the latest")
    previous: Callable[[argparse.Namespace], int] | None = export.get_default("func")

    def export_command(args: argparse.Namespace) -> int:
        if args.to:
            return run_admin(kb_export_to, args, _settings())
        if previous is None:
            print("nothing to export: give --to DIR", file=sys.stderr)
            return 2
        return previous(args)

    export.set_defaults(func=export_command)
