"""The server secret the tests run with, and request-form state signed with it, as the bot
signs it (handlers/intake.py `FormState`)."""

from __future__ import annotations

from bot.signing import Signer
from handlers.intake import FormState

TEST_SECRET_KEY = "evidence-desk-test-secret-key"
TEST_SIGNER = Signer(TEST_SECRET_KEY.encode())


def form_state(channel: str, thread: str | None) -> str:
    return FormState(channel, thread).encode(TEST_SIGNER)
