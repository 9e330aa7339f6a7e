"""What the bot would say unasked (handlers/listening.py `Listener.verdict`): pure, no storage."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.messages import Intent
from handlers.answers import Answerer
from handlers.listening import Listener


@pytest.fixture
def listener(answerer: Answerer) -> Listener:
    # The store is not touched by `verdict`; the threshold is the shipped default.
    return Listener(
        answerer, store=None, unasked_threshold=Settings().unasked_threshold, per_hour=5
    )  # type: ignore[arg-type]


def test_a_clear_faq_question_gets_the_answer_with_the_listening_controls(
    listener: Listener,
) -> None:
    reply = listener.verdict("anyone know how to reset an athens password?")
    assert reply is not None and reply.intent is Intent.FAQ
    assert [b.label for b in reply.buttons][-2:] == ["Not now", "Stop listening here"]


def test_chatter_gets_nothing(listener: Listener) -> None:
    assert listener.verdict("bed 4 handed over, all stable, thanks team") is None


def test_a_question_carrying_an_nhs_number_gets_nothing(listener: Listener) -> None:
    assert listener.verdict("anyone know how to reset athens? my NHS no is 943 476 5919") is None


def test_a_search_request_carrying_a_date_of_birth_gets_nothing(listener: Listener) -> None:
    assert (
        listener.verdict("can anyone find evidence on sepsis for a man DOB 01/02/1960 by Friday?")
        is None
    )
