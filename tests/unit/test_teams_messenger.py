"""Reading the connector's Retry-After header (bot/platforms/teams/messenger.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.platforms.teams.messenger import retry_after_seconds

NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def test_retry_after_in_seconds() -> None:
    assert retry_after_seconds("30", NOW) == 30.0


def test_retry_after_as_an_http_date() -> None:
    assert retry_after_seconds("Mon, 02 Mar 2026 10:00:45 GMT", NOW) == 45.0


def test_retry_after_in_the_past_means_now() -> None:
    assert retry_after_seconds("Mon, 02 Mar 2026 09:00:00 GMT", NOW) == 0.0


def test_missing_or_unreadable_retry_after_leaves_the_backoff_to_the_outbox() -> None:
    assert retry_after_seconds(None, NOW) is None
    assert retry_after_seconds("soon", NOW) is None


def test_absurd_retry_after_is_capped_at_a_day() -> None:
    assert retry_after_seconds("99999999999", NOW) == 86_400.0


def test_non_numeric_retry_after_values_are_ignored() -> None:
    assert retry_after_seconds("inf", NOW) is None
    assert retry_after_seconds("nan", NOW) is None
