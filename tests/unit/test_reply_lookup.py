"""Which messages could be a requester's reply to a specialist, so the desk asks the database
only for those (every question would otherwise cost a lookup)."""

from __future__ import annotations

from bot.desk.tickets.lookup import may_be_a_reply
from bot.messages import IncomingMessage, Platform

ROOT = "1700000000.000100"


def message(
    thread_id: str | None, message_id: str | None, *, direct: bool = False
) -> IncomingMessage:
    return IncomingMessage(Platform.SLACK, "U1", "the 2019 audit, please", conversation_id="C1",
                           thread_id=thread_id, message_id=message_id, is_direct=direct)  # fmt: skip


def test_a_channel_message_that_starts_its_own_thread_cannot_be_a_reply() -> None:
    assert not may_be_a_reply(message(ROOT, ROOT))


def test_a_message_in_a_thread_it_did_not_start_may_be_a_reply() -> None:
    assert may_be_a_reply(message(ROOT, "1700000000.000200"))


def test_a_direct_message_may_be_a_reply_even_when_it_is_its_own_thread() -> None:
    assert may_be_a_reply(message(ROOT, ROOT, direct=True))


def test_a_message_outside_any_thread_may_be_a_reply() -> None:
    assert may_be_a_reply(message(None, "1700000000.000200"))
