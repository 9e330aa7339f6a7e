"""`evidence-desk db|routes|specialists|tickets|report|privacy`: the service's admin commands.

Each command opens the configured database, does one thing, and closes it; output is a plain
table for people or JSON for scripts (`--json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import textwrap
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar

from bot.clock import utc_now
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.delivery.outbox import Destination, Outbox
from bot.desk.privacy import PrivacyScanner
from bot.desk.tickets.calendar import OFFICE_HOURS
from bot.desk.tickets.lifecycle import TicketStatus
from bot.desk.tickets.report import build_report
from bot.desk.tickets.routing import (
    Identity,
    NewSpecialist,
    RouteView,
    RoutingService,
    SpecialistView,
)
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.strategy import load_strategy
from bot.desk.tickets.views import TicketView
from bot.errors import UserFacingError
from handlers.strategy import StrategyStarter

Command = Callable[[argparse.Namespace, Settings, Database], Awaitable[int]]
_Row = TypeVar("_Row")


def _jsonable(value: Any) -> Any:
    # Field by field, not dataclasses.asdict: asdict deep-copies every value, and an event's
    # details are a read-only mapping (MappingProxyType), which cannot be copied.
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_jsonable(value), indent=2, default=str))


def _print_rows(rows: Sequence[_Row], as_json: bool, line: Callable[[_Row], str]) -> int:
    """A listing: the rows as JSON for scripts (--json), else one line each for people."""
    if as_json:
        _print_json(rows)
    else:
        for row in rows:
            print(line(row))
    return 0


_MESSAGE_LABELS = {
    "to_requester": "question to requester",
    "from_requester": "reply from requester",
    "internal_note": "internal note",
    "deliverable": "delivered",
}


def _identities(raw: list[str]) -> tuple[Identity, ...]:
    result = []
    for item in raw:
        platform, sep, user_id = item.partition(":")
        if not sep or not user_id:
            raise UserFacingError(f"identity {item!r} should be PLATFORM:USER_ID, e.g. slack:U0123")
        result.append(Identity(platform, user_id))
    return tuple(result)


async def db_upgrade(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    await upgrade(settings.database_url)
    print("database is at the latest schema")
    return 0


async def routes_add(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    notify_platform = notify_channel = None
    if args.notify:
        notify_platform, _, notify_channel = args.notify.partition(":")
        if not notify_channel:
            raise UserFacingError("--notify should be PLATFORM:CHANNEL_ID, e.g. slack:C0456")
    routing = RoutingService(db)
    route = await routing.add_route(
        args.platform, args.channel, args.specialty,
        notify_platform=notify_platform, notify_channel_id=notify_channel,
    )  # fmt: skip
    for specialist_id in args.specialist or []:
        await routing.link(route.id, specialist_id)
    route = await routing.route_for(args.platform, args.channel) or route
    print(
        f"route {route.id}: {route.platform}:{route.channel_id} -> {route.specialty}, specialists {list(route.specialist_ids)}"
    )
    return 0


async def routes_list(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    def line(r: RouteView) -> str:
        notify = f" notify {r.notify_platform}:{r.notify_channel_id}" if r.notify_channel_id else ""
        return f"{r.id:>4}  {r.platform}:{r.channel_id:<24} {r.specialty:<24} specialists {list(r.specialist_ids)}{notify}"

    return _print_rows(await RoutingService(db).list_routes(), args.json, line)


async def routes_remove(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    if not await RoutingService(db).remove_route(args.platform, args.channel):
        print(f"no route for {args.platform}:{args.channel}", file=sys.stderr)
        return 1
    print("route removed")
    return 0


async def specialists_add(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    specialist = await RoutingService(db).add_specialist(
        NewSpecialist(
            display_name=args.name,
            email=args.email,
            is_lead=args.lead,
            hours=OFFICE_HOURS,
            identities=_identities(args.identity or []),
        )
    )
    print(f"specialist {specialist.id}: {specialist.display_name}")
    return 0


async def specialists_list(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    def line(s: SpecialistView) -> str:
        ids = ", ".join(f"{i.platform}:{i.user_id}" for i in s.identities)
        flags = ("lead " if s.is_lead else "") + ("" if s.is_active else "inactive")
        return f"{s.id:>4}  {s.display_name:<28} {ids:<40} {flags}"

    return _print_rows(await RoutingService(db).list_specialists(), args.json, line)


async def specialists_deactivate(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    specialist = await RoutingService(db).deactivate_specialist(args.id)
    print(f"specialist {specialist.id} ({specialist.display_name}) deactivated")
    return 0


async def tickets_list(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    service = TicketService.from_settings(db, settings)
    status = TicketStatus(args.status) if args.status else None
    tickets = await service.list(status=status, assignee=args.assignee, limit=args.limit)

    def line(t: TicketView) -> str:
        who = t.assignee_name or "-"
        return (
            f"{t.reference:<16} {t.status.value:<19} due {t.due_date}  {who:<20} {t.question[:60]}"
        )

    return _print_rows(tickets, args.json, line)


async def tickets_show(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    service = TicketService.from_settings(db, settings)
    ticket = await service.get(args.reference)
    events = await service.events(args.reference)
    messages = await service.messages(args.reference)
    impacts = await service.impacts(args.reference)
    if args.json:
        _print_json({"ticket": ticket, "events": events, "messages": messages, "impact": impacts})
        return 0
    print(
        f"{ticket.reference}  {ticket.status.value}  due {ticket.due_date}  purpose {ticket.purpose.value}"
    )
    print(f"question: {ticket.question}")
    print(
        f"requester: {ticket.requester.display_name or ticket.requester.user_id} ({ticket.requester.platform})"
    )
    print(f"assignee: {ticket.assignee_name or '-'}")
    strategy = await load_strategy(db, ticket.reference)
    if strategy is not None:
        print(textwrap.indent(StrategyStarter.from_json(strategy).to_text(), "  ").lstrip())
    if messages:
        print("messages:")
        for m in messages:
            label = _MESSAGE_LABELS.get(m.direction.value, m.direction.value)
            print(f"  {m.at:%Y-%m-%d %H:%M}  {label:<22} {m.author:<24} {m.text}")
    print("impact:" if impacts else "impact: no answers yet")
    for i in impacts:
        uses = ", ".join(sorted(use.value for use in i.how_used)) or "-"
        hours = "-" if i.time_saved_hours is None else f"{i.time_saved_hours:g}"
        print(
            f"  {i.at:%Y-%m-%d %H:%M}  helped {'yes' if i.helped else 'no'}; used for: {uses}; "
            f"hours saved: {hours}" + (f"; comment: {i.comment}" if i.comment else "")
        )
    print("history:")
    for e in events:
        change = f" {e.from_status} -> {e.to_status}" if e.to_status else ""
        print(f"  {e.at:%Y-%m-%d %H:%M}  {e.actor:<24} {e.action}{change}")
    return 0


def _moment(text: str | None) -> datetime:
    """--now as given: an ISO date-time; without an offset it is the desk's local time."""
    if text is None:
        return utc_now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserFacingError(
            f"--now {text!r} is not a date and time; write it like 2026-12-03T10:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OFFICE_HOURS.zone)
    return moment.astimezone(UTC)


async def escalations_run(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Raise the escalations due at --now (default: now), as the server's scheduler does; the
    messages go out through the outbox (a running server delivers them). --dry-run only lists
    them."""
    from handlers.escalations import run_escalations
    from handlers.ticket_desk import TicketDesk

    now = _moment(args.now)
    general_queue = None
    if settings.general_queue:
        platform, _, channel = settings.general_queue.partition(":")
        general_queue = Destination(platform, channel)
    tickets = TicketService.from_settings(db, settings)
    requests = TicketDesk(
        tickets,
        RoutingService(db),
        Outbox(db),
        PrivacyScanner(settings.hospital_number_pattern),
        general_queue=general_queue,
    )
    raised = await run_escalations(
        db, requests, now, settings.unclaimed_escalation_working_hours, dry_run=args.dry_run
    )
    verb = "would escalate" if args.dry_run else "escalated"
    when = f"{now.astimezone(OFFICE_HOURS.zone):%Y-%m-%d %H:%M %Z}"
    if args.json:
        _print_json({"now": now, "dry_run": args.dry_run, "escalations": raised})
        return 0
    print(f"{verb} {len(raised)} request(s) at {when}")
    for e in raised:
        to = ", ".join(f"specialist {i}" for i in e.specialist_ids) or "the queue"
        print(f"  {e.reference:<16} {e.kind.value:<13} due {e.due_date}  to {to}")
    return 0


async def report(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    result = await build_report(db, date.fromisoformat(args.from_), date.fromisoformat(args.to))
    print(result.to_csv() if args.format == "csv" else result.to_table(), end="")
    return 0


async def privacy_purge(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    from bot.delivery.retention import Retention, RetentionPolicy

    policy = RetentionPolicy.from_settings(settings, ticket_text_days=args.older_than_days)
    print(await Retention(db, policy).purge())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the admin commands to the main parser."""
    db_parser = sub.add_parser("db", help="database schema")
    db_sub = db_parser.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to the latest schema").set_defaults(
        admin=db_upgrade
    )

    routes = sub.add_parser("routes", help="map chat channels to a specialty and its specialists")
    routes_sub = routes.add_subparsers(dest="routes_command", required=True)
    add = routes_sub.add_parser("add", help="route a channel (again to update it)")
    add.add_argument("platform", choices=["slack", "teams", "web", "cli"])
    add.add_argument("channel")
    add.add_argument("specialty")
    add.add_argument("--specialist", type=int, action="append", help="specialist id (repeatable)")
    add.add_argument("--notify", help="where new tickets are posted: PLATFORM:CHANNEL_ID")
    add.set_defaults(admin=routes_add)
    listing = routes_sub.add_parser("list")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(admin=routes_list)
    remove = routes_sub.add_parser("remove")
    remove.add_argument("platform")
    remove.add_argument("channel")
    remove.set_defaults(admin=routes_remove)

    specialists = sub.add_parser("specialists", help="the knowledge specialists who take requests")
    specialists_sub = specialists.add_subparsers(dest="specialists_command", required=True)
    sp_add = specialists_sub.add_parser("add")
    sp_add.add_argument("name")
    sp_add.add_argument("--email")
    sp_add.add_argument("--lead", action="store_true", help="receives overdue escalations")
    sp_add.add_argument("--identity", action="append", help="PLATFORM:USER_ID (repeatable)")
    sp_add.set_defaults(admin=specialists_add)
    sp_list = specialists_sub.add_parser("list")
    sp_list.add_argument("--json", action="store_true")
    sp_list.set_defaults(admin=specialists_list)
    sp_off = specialists_sub.add_parser("deactivate")
    sp_off.add_argument("id", type=int)
    sp_off.set_defaults(admin=specialists_deactivate)

    tickets = sub.add_parser("tickets", help="look at requests")
    tickets_sub = tickets.add_subparsers(dest="tickets_command", required=True)
    t_list = tickets_sub.add_parser("list")
    t_list.add_argument("--status", choices=[s.value for s in TicketStatus])
    t_list.add_argument("--assignee", type=int, help="specialist id")
    t_list.add_argument("--limit", type=int, default=50)
    t_list.add_argument("--json", action="store_true")
    t_list.set_defaults(admin=tickets_list)
    t_show = tickets_sub.add_parser("show")
    t_show.add_argument("reference")
    t_show.add_argument("--json", action="store_true")
    t_show.set_defaults(admin=tickets_show)

    escalations = sub.add_parser("escalations", help="unclaimed, nearly due and overdue requests")
    escalations_sub = escalations.add_subparsers(dest="escalations_command", required=True)
    e_run = escalations_sub.add_parser(
        "run", help="raise the escalations due now (or at --now), as the server does"
    )
    e_run.add_argument(
        "--now", help="the moment to run at, e.g. 2026-12-03T10:00 (local time unless an offset)"
    )
    e_run.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be escalated; record and send nothing",
    )
    e_run.add_argument("--json", action="store_true")
    e_run.set_defaults(admin=escalations_run)

    rep = sub.add_parser("report", help="activity and impact between two dates")
    rep.add_argument("--from", dest="from_", required=True, help="YYYY-MM-DD")
    rep.add_argument("--to", required=True, help="YYYY-MM-DD")
    rep.add_argument("--format", choices=["table", "csv"], default="table")
    rep.set_defaults(admin=report)

    privacy = sub.add_parser("privacy", help="retention")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = privacy_sub.add_parser(
        "purge",
        help="remove free text of old closed tickets, old delivered messages, web chat history "
        "and unanswered questions (the server does it every hour)",
    )
    purge.add_argument("--older-than-days", type=int, help="default: EVIDENCE_DESK_RETENTION_DAYS")
    purge.set_defaults(admin=privacy_purge)


def run_admin(command: Command, args: argparse.Namespace, settings: Settings) -> int:
    """Run one admin command against the configured database, with clear errors."""

    async def go() -> int:
        if command is not db_upgrade and settings.database_url.startswith("sqlite"):
            await upgrade(settings.database_url)  # the embedded default migrates itself
        db = Database.from_url(settings.database_url)
        try:
            return await command(args, settings, db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except UserFacingError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot reach the database: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 3
