"""No patient identifier, however it is written, is kept anywhere, whichever way it came in.

Hypothesis makes NHS/CHI/H&C numbers (every range, plain, 3-3-4 with spaces or dashes, with and
without the words that call them patient numbers), UK phone numbers (unallocated drama ranges
included), dates of birth and postcodes, and sends them over HTTP to the real app (Slack, Teams
and the web chat mounted together) through every door a person can use: a Slack mention, a DM, a
reply in a request's thread, a form submission and a feedback vote; a Teams message; a web chat
message and action. Display names carry them too. Afterwards no table of the database and no
log line (every logger, DEBUG and up) may hold any of them as written, or as bare digits.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from bot.app import create_app
from bot.db.session import Database
from bot.keys import DATABASE
from bot.platforms.teams import MESSAGES_PATH
from tests.app_settings import app_settings
from tests.databases import MigratedPostgres, empty_postgres
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.drain import drain, until
from tests.fakes.slack_api import FakeSlackApi
from tests.scenario.conftest import (
    LIBRARY,
    REQUESTER,
    SPECIALIST,
    WARD,
    connect_slack,
    route_the_ward,
    signed_headers,
)
from tests.scenario.slack_payloads import button, select_value, text_value, view_submission
from tests.signed import TEST_SECRET_KEY, form_state
from tests.teams_world import BOT, PERSONAL, TENANT, without_teams_variables

# ---- identifiers -----------------------------------------------------------------------------

_WEIGHTS = range(10, 1, -1)


def _check_digit(nine: str) -> int:
    return (11 - sum(int(d) * w for d, w in zip(nine, _WEIGHTS, strict=True)) % 11) % 11


@st.composite
def nhs_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, digits): any range; a wrong check digit only where words call it one."""
    labelled = draw(st.booleans())
    nine = draw(st.integers(0, 999_999_999)).__format__("09d")
    check = _check_digit(nine)
    if check == 10:
        labelled = True  # no valid number starts so; only the label can make it one
    last = draw(st.integers(0, 9)) if labelled else check
    digits = nine + str(last)
    layout = draw(st.sampled_from(["{}{}{}", "{} {} {}", "{}-{}-{}"]))
    written = layout.format(digits[:3], digits[3:6], digits[6:])
    if labelled:
        label = draw(st.sampled_from(["NHS number", "NHS no:", "CHI", "H&C number", "patient number",
                                      "hospital no."]))  # fmt: skip
        written_in_text = f"{label} {written}"
    else:
        written_in_text = written
    return written_in_text, digits


_PHONE_LAYOUTS = [
    ("07700 900{:03d}", "07700900{:03d}"),
    ("01632 960{:03d}", "01632960{:03d}"),
    ("020 7946 0{:03d}", "02079460{:03d}"),
    ("+44 7700 900{:03d}", "+447700900{:03d}"),
    ("0113 496 0{:03d}", "01134960{:03d}"),
]


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    spaced, tight = draw(st.sampled_from(_PHONE_LAYOUTS))
    return draw(st.sampled_from([spaced, tight])).format(draw(st.integers(0, 999)))


@st.composite
def dates_of_birth(draw: st.DrawFn) -> str:
    day, month, year = (
        draw(st.integers(1, 28)),
        draw(st.integers(1, 12)),
        draw(st.integers(1920, 2020)),
    )
    return draw(st.sampled_from(["{:02d}/{:02d}/{}", "{}/{}/{}", "{:02d}.{:02d}.{}"])).format(
        day, month, year
    )


_AREAS = ["LS", "M", "B", "SW", "EC", "NE", "G", "EH", "BT", "CF"]


@st.composite
def postcodes(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(_AREAS))
    district, sector = draw(st.integers(1, 9)), draw(st.integers(0, 9))
    unit = "".join(draw(st.lists(st.sampled_from("ABDEFGHJLNPQRSTUWXYZ"), min_size=2, max_size=2)))
    return f"{area}{district} {sector}{unit}"


@dataclass(frozen=True)
class Identifiers:
    nhs: tuple[str, str]
    phone: str
    dob: str
    postcode: str

    def sentence(self) -> str:
        return (
            f"evidence on falls for {self.nhs[0]}, DOB {self.dob}, lives at {self.postcode}, "
            f"ring {self.phone}"
        )

    def raw_forms(self) -> set[str]:
        """Every way each identifier could survive: as written, and as its bare digits."""
        digits = self.nhs[1]
        forms = {
            digits,
            f"{digits[:3]} {digits[3:6]} {digits[6:]}",
            f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
        }
        forms |= {self.phone, "".join(c for c in self.phone if c.isdigit() or c == "+")}
        forms |= {self.dob, self.postcode, self.postcode.replace(" ", "")}
        return forms | {form.replace(" ", "&nbsp;") for form in forms}


identifiers = st.builds(Identifiers, nhs_numbers(), phone_numbers(), dates_of_birth(), postcodes())


# ---- the app, with every platform connected ------------------------------------------------------


@dataclass
class World:
    client: TestClient[Any, Any]
    app: web.Application
    slack: FakeSlackApi
    connector: FakeBotConnector
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def database(self) -> Database:
        return self.app[DATABASE]

    def next_id(self) -> int:
        return next(self.ids)

    async def slack_event(self, event: dict[str, Any]) -> None:
        body = json.dumps({"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
                           "event_id": f"EvP{self.next_id()}", "event_time": 1, "event": event})  # fmt: skip
        headers = {"Content-Type": "application/json", **signed_headers(body)}
        response = await self.client.post("/slack/events", data=body, headers=headers)
        assert response.status == 200

    async def slack_interaction(self, payload: dict[str, Any]) -> str:
        if "view" in payload:  # each submission its own view, as each opened modal is
            payload["view"]["id"] = f"V0VIEW{self.next_id()}"
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        response = await self.client.post("/slack/events", data=body, headers=headers)
        assert response.status == 200, await response.text()
        return await response.text()

    async def teams(self, activity: dict[str, Any]) -> None:
        response = await self.client.post(MESSAGES_PATH, json=activity)
        assert response.status == 200

    async def web(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.client.post(path, json=body)
        assert response.status == 200, await response.text()
        return await response.json()

    async def settle(self) -> None:
        """Until every journalled event is finished and every queued message is sent."""
        await drain(self.database)

    async def dump(self) -> str:
        async with self.database.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            rows = []
            for table in tables:
                result = await connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
                rows.extend(f"{table}: {row}" for row in result.all())
        return "\n".join(rows)

    async def ticket_in(self, thread: str) -> str:
        """The reference of the request made in `thread`, once the form's handler stored it
        (Bolt runs it after acknowledging the submission)."""

        async def stored() -> str | None:
            async with self.database.engine.connect() as connection:
                found = (await connection.execute(
                    text("SELECT reference FROM tickets WHERE origin_thread_id = :t"), {"t": thread}
                )).scalar()  # fmt: skip
            return None if found is None else str(found)

        return await until(stored)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def world(
    request: pytest.FixtureRequest,
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    slack, connector = FakeSlackApi(), FakeBotConnector()
    await slack.start()
    await connector.start()
    connect_slack(monkeypatch, slack)
    monkeypatch.setenv("EVIDENCE_DESK_WEB_DEMO", "true")
    without_teams_variables(monkeypatch)
    if request.param == "sqlite":
        url, migrate = request.getfixturevalue("sqlite_url"), True
    else:
        postgres: MigratedPostgres = request.getfixturevalue("migrated_postgres")
        url, migrate = postgres.url, False
        scratch = Database.from_url(url)
        await empty_postgres(scratch, postgres.reset)
        await scratch.dispose()
    app = create_app(
        app_settings(
            url, auto_migrate=migrate, outbox_interval_seconds=0.05, secret_key=TEST_SECRET_KEY
        )
    )
    client = await aiohttp_client(app)
    await route_the_ward(app)
    try:
        yield World(client, app, slack, connector)
    finally:
        await slack.close()
        await connector.close()


# ---- every door ----------------------------------------------------------------------------------


async def through_slack(world: World, ids: Identifiers) -> None:
    said, n = ids.sentence(), world.next_id()
    await world.slack_event({"type": "app_mention", "user": REQUESTER, "channel": WARD,
                             "ts": f"1700000{n:03d}.000100", "text": f"<@UBOTUSER> {said}"})  # fmt: skip
    await world.slack_event({"type": "message", "channel_type": "im", "user": REQUESTER,
                             "channel": "D0REQUESTER", "ts": f"1700001{n:03d}.000100", "text": said})  # fmt: skip
    # A request through the form, sent with the details removed ...
    thread = f"1700002{n:03d}.000100"
    state = form_state(WARD, thread)
    answer = await world.slack_interaction(
        view_submission("request_submit", {
            "question": text_value(said), "purpose": select_value("direct_patient_care"),
            "population": text_value(f"patient {ids.nhs[0]}"), "notes": text_value(said),
            "privacy_ack": select_value("remove_and_send")}, state)
        | {"user": {"id": REQUESTER, "name": f"Dr {ids.nhs[0]}"}}
    )  # fmt: skip
    assert answer in ("", "{}"), answer  # accepted, not sent back with errors
    await world.settle()
    reference = await world.ticket_in(thread)
    # ... claimed, asked about (the specialist's question carries them too) ...
    await world.slack_interaction(button("ticket_claim|0", reference, SPECIALIST, channel=LIBRARY))
    await world.slack_interaction(
        view_submission("ticket_ask_submit", {"question": text_value(f"Is it {ids.nhs[0]}?")},
                        reference, user=SPECIALIST)
    )  # fmt: skip
    await world.settle()
    # ... and answered by a reply in the request's thread.
    await world.slack_event({"type": "message", "channel_type": "channel", "user": REQUESTER,
                             "channel": WARD, "ts": f"1700003{n:03d}.000100", "thread_ts": thread,
                             "text": said})  # fmt: skip
    # A feedback vote whose value is not an FAQ id at all.
    vote = button("faq_not_helpful|0", said, REQUESTER)
    vote["user"]["name"] = said
    await world.slack_interaction(vote)


async def through_teams(world: World, ids: Identifiers) -> None:
    n = world.next_id()
    await world.teams({
        "type": "message", "id": f"f:p{n:06d}", "timestamp": "2026-03-02T10:00:00.000Z",
        "channelId": "msteams", "serviceUrl": world.connector.url,
        "from": {"id": "29:alex", "name": f"Alex {ids.nhs[0]}", "aadObjectId": "aad-alex"},
        "recipient": BOT, "conversation": PERSONAL, "channelData": {"tenant": {"id": TENANT}},
        # Teams sends what people paste with &nbsp; for its spaces.
        "locale": "en-GB", "textFormat": "plain", "text": ids.sentence().replace(" ", "&nbsp;")})  # fmt: skip


async def through_web(world: World, ids: Identifiers) -> None:
    said, n = ids.sentence(), world.next_id()
    user = f"web-p{n}"
    await world.web("/chat/api/message", {"user": user, "user_name": said, "text": said})
    await world.web("/chat/api/action", {
        "user": user, "user_name": said, "action": "request_submit", "submission_id": f"s{n}",
        "values": {"question": said, "purpose": "research", "notes": said,
                   "privacy_ack": "remove_and_send"},
        "form_state": form_state("web-chat", user)})  # fmt: skip
    await world.web("/chat/api/action", {"user": user, "action": "faq_helpful", "value": said})


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ids=identifiers)
async def test_no_identifier_is_kept_in_any_table_or_log_line(
    world: World, caplog: pytest.LogCaptureFixture, ids: Identifiers
) -> None:
    caplog.set_level(logging.DEBUG)
    first_record = len(caplog.records)
    await through_slack(world, ids)
    await through_teams(world, ids)
    await through_web(world, ids)
    await world.settle()
    stored = await world.dump()
    logged = "\n".join(r.getMessage() for r in caplog.records[first_record:])
    for raw in ids.raw_forms():
        assert raw not in stored, f"{raw!r} was stored:\n" + "\n".join(
            line for line in stored.splitlines() if raw in line
        )
        assert raw not in logged, f"{raw!r} was logged:\n" + "\n".join(
            line for line in logged.splitlines() if raw in line
        )
    # The doors were really used: the work reached the database.
    assert "[NHS number removed]" in stored
