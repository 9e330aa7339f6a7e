"""The admin commands, run as a person would, against SQLite and PostgreSQL: `main(argv)` in this
process (tests/cli.py; a process of its own would add seconds of start-up to each command), and
one command in a real process on each database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from bot.db.session import Database
from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Actor, ImpactAnswers, ImpactUse, TicketDraft
from tests.cli import Ran, run_cli


def url_of(database: Database) -> dict[str, str]:
    return {"EVIDENCE_DESK_DATABASE_URL": database.engine.url.render_as_string(hide_password=False)}


async def run(database: Database, *args: str) -> Ran:
    """`evidence-desk ARGS` on the test's database; in a thread, since the command runs its own
    event loop as it does in a process."""
    return await asyncio.to_thread(run_cli, *args, env=url_of(database))


def assert_clear_error(result: Ran, *names: str) -> None:
    """Exit 1 with a message naming what was wrong, and no traceback (a crash raises out of
    `run_cli`; one only logged would be in stderr)."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for name in names:
        assert name in result.stderr


def test_db_upgrade_reports_the_schema_is_current(database: Database) -> None:
    """In a process of its own: an admin command's database comes from the environment."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **url_of(database)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "latest schema" in result.stdout


async def test_specialist_and_route_are_added_and_listed(database: Database) -> None:
    added = await run(database, "specialists", "add", "Sam Librarian", "--identity", "slack:U123")
    assert added.returncode == 0, added.stderr
    specialist_id = added.stdout.split()[1].rstrip(":")
    route = await run(database, "routes", "add", "slack", "C_WARD", "Elderly care",
                "--specialist", specialist_id, "--notify", "slack:C_LIB")  # fmt: skip
    assert route.returncode == 0, route.stderr
    routes = json.loads((await run(database, "routes", "list", "--json")).stdout)
    assert routes[0]["specialty"] == "Elderly care"
    assert routes[0]["specialist_ids"] == [int(specialist_id)]
    specialists = json.loads((await run(database, "specialists", "list", "--json")).stdout)
    assert specialists[0]["identities"] == [{"platform": "slack", "user_id": "U123"}]


async def test_malformed_identity_is_a_clear_error(database: Database) -> None:
    result = await run(database, "specialists", "add", "Sam", "--identity", "U123")
    assert_clear_error(result, "PLATFORM:USER_ID")


async def test_removing_an_unknown_route_is_a_clear_error(database: Database) -> None:
    result = await run(database, "routes", "remove", "slack", "C_NOPE")
    assert_clear_error(result, "slack:C_NOPE")


async def test_tickets_list_and_show_with_audit_trail(
    database: Database, service: TicketService, draft: TicketDraft
) -> None:
    ticket = await service.create(draft())  # type: ignore[operator]
    listed = json.loads((await run(database, "tickets", "list", "--json")).stdout)
    assert [t["reference"] for t in listed] == [ticket.reference]
    shown = await run(database, "tickets", "show", ticket.reference)
    assert shown.returncode == 0, shown.stderr
    assert "created" in shown.stdout
    assert ticket.reference in shown.stdout


async def _delivered_with_impact_and_a_note(
    service: TicketService, draft: object, add_specialists: object
) -> str:
    (specialist,) = await add_specialists(1)  # type: ignore[operator]
    ticket = await service.create(draft())  # type: ignore[operator]
    await service.claim(ticket.reference, specialist.id)
    await service.add_note(ticket.reference, Actor.specialist(specialist.id), "Try CINAHL first")
    await service.complete(
        ticket.reference, specialist.id, "Three reviews", ["https://x.example/1"]
    )
    await service.record_impact(
        ticket.reference,
        ImpactAnswers(
            respondent=Actor.person("slack", "U_REQ"),
            helped=True,
            how_used=frozenset({ImpactUse.SERVICE_CHANGE, ImpactUse.TEACHING}),
            time_saved_hours=3.5,
            comment="Changed our falls bundle",
        ),
    )
    return str(ticket.reference)


async def test_tickets_show_as_json_has_history_notes_and_impact_answers(
    database: Database, service: TicketService, draft: object, add_specialists: object
) -> None:
    reference = await _delivered_with_impact_and_a_note(service, draft, add_specialists)
    shown = await run(database, "tickets", "show", reference, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["ticket"]["reference"] == reference
    assert data["events"][0]["details"]["purpose"] == "service_development"
    (impact,) = data["impact"]
    assert impact["helped"] is True
    assert impact["how_used"] == ["service_change", "teaching"]
    assert impact["time_saved_hours"] == 3.5
    assert [m["text"] for m in data["messages"] if m["direction"] == "internal_note"] == [
        "Try CINAHL first"
    ]


async def test_tickets_show_prints_the_impact_answers_and_internal_notes(
    database: Database, service: TicketService, draft: object, add_specialists: object
) -> None:
    reference = await _delivered_with_impact_and_a_note(service, draft, add_specialists)
    shown = await run(database, "tickets", "show", reference)
    assert shown.returncode == 0, shown.stderr
    assert "helped yes; used for: service_change, teaching; hours saved: 3.5" in shown.stdout
    assert "Changed our falls bundle" in shown.stdout
    assert "internal note" in shown.stdout and "Try CINAHL first" in shown.stdout


async def test_escalations_dry_run_lists_what_would_be_escalated_and_changes_nothing(
    database: Database, service: TicketService, draft: object
) -> None:
    ticket = await service.create(draft())  # type: ignore[operator]
    # Created Monday 2 March 2026 10:00; by Wednesday it has waited well over 8 working hours.
    dry = await run(database, "escalations", "run", "--now", "2026-03-04T10:00", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would escalate 1 request(s) at 2026-03-04 10:00 GMT" in dry.stdout
    assert ticket.reference in dry.stdout and "unclaimed" in dry.stdout
    assert "escalated:" not in (await run(database, "tickets", "show", ticket.reference)).stdout
    again = await run(database, "escalations", "run", "--now", "2026-03-04T10:00", "--dry-run")
    assert "would escalate 1 request(s)" in again.stdout


async def test_escalations_run_at_a_given_time_raises_each_once(
    database: Database, service: TicketService, draft: object
) -> None:
    ticket = await service.create(draft())  # type: ignore[operator]
    early = await run(database, "escalations", "run", "--now", "2026-03-02T11:00")
    assert "escalated 0 request(s)" in early.stdout, early.stderr
    first = await run(database, "escalations", "run", "--now", "2026-03-04T10:00")
    assert "escalated 1 request(s)" in first.stdout, first.stderr
    assert (
        "escalated:unclaimed" in (await run(database, "tickets", "show", ticket.reference)).stdout
    )
    second = await run(database, "escalations", "run", "--now", "2026-03-04T10:00")
    assert "escalated 0 request(s)" in second.stdout


async def test_escalations_run_with_a_bad_time_is_a_clear_error(database: Database) -> None:
    result = await run(database, "escalations", "run", "--now", "tomorrow-ish")
    assert result.returncode == 1
    assert "2026-12-03T10:00" in result.stderr


async def test_showing_an_unknown_ticket_is_a_clear_error(database: Database) -> None:
    result = await run(database, "tickets", "show", "KLS-2026-09999")
    assert_clear_error(result, "KLS-2026-09999")


async def test_report_as_csv_has_a_header(database: Database) -> None:
    result = await run(
        database, "report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].count(",") >= 2


async def test_privacy_purge_reports_what_it_did(database: Database) -> None:
    result = await run(database, "privacy", "purge", "--older-than-days", "30")
    assert result.returncode == 0, result.stderr
    assert "purged the free text of 0" in result.stdout
