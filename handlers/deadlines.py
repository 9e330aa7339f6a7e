"""Deadline words in a request ("by Friday", "before the MDT on the 3rd") and the date they mean.

The ticket form is prefilled with the date, and the requester confirms it, so a best guess
here saves typing without ever deciding a deadline on its own.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MONTH_RE = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DAY_RE = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?"
_DATE_WORDS = (
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?"
    rf"|(?:(?:this|next|coming)\s+)?{_DAY_RE}(?:\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?)?"
    rf"|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)(?:\s+(?:of\s+)?{_MONTH_RE})?"
    rf"|\d{{1,2}}\s+{_MONTH_RE}|{_MONTH_RE}\s+\d{{1,2}}(?:st|nd|rd|th)?"
    r"|tomorrow|today|tonight|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|week|month)"
    r"|(?:next|this)\s+(?:week|month)|monday|midday|noon"
)
DEADLINE = re.compile(
    r"(?:\b(?:by|before|for|due|deadline(?:\s+is)?|no\s+later\s+than|until|ahead\s+of)\s*:?\s+"
    r"(?:(?:the|our|my|next|a)\s+)?(?:(?:mdt|meeting|teaching|session|audit|presentation|"
    r"journal\s+club|panel|committee|board|clinic)\s+(?:on\s+)?)?"
    rf"(?:{_DATE_WORDS})\b"
    r"|\b(?:asap|urgently|urgent|as\s+soon\s+as\s+possible)\b"
    r"|\bwithin\s+(?:a|one|two|three|\d+)\s+(?:working\s+)?(?:days?|weeks?)\b)",
    re.IGNORECASE,
)


def find_deadline(text: str) -> tuple[str | None, str]:
    """Return (the deadline phrase, the text without it)."""
    match = DEADLINE.search(text)
    if match is None:
        return None, text
    phrase = match.group(0).strip()
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    return phrase, re.sub(r"\s{2,}", " ", rest)


def _next_weekday(today: date, weekday: int) -> date:
    """The coming such day: "next Tuesday" on a Sunday is in two days, as most people mean it."""
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def resolve_deadline(phrase: str, today: date) -> date | None:
    """The calendar date a deadline phrase most likely means, or None when it names no date."""
    text = phrase.lower()
    if re.search(r"\b(?:asap|urgent|urgently|as soon as possible|today|tonight)\b", text):
        return today
    if "tomorrow" in text:
        return today + timedelta(days=1)
    if m := re.search(r"within\s+(a|one|two|three|\d+)\s+(working\s+)?(day|week)", text):
        number = {"a": 1, "one": 1, "two": 2, "three": 3}.get(m.group(1)) or int(m.group(1))
        return today + timedelta(days=number * (7 if m.group(3) == "week" else 1))
    if m := re.search(r"(\d{4})-(\d{2})-(\d{2})", text):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := re.search(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b", text):
        year = int(m.group(3)) if m.group(3) else today.year
        year += 2000 if year < 100 else 0
        found = _safe_date(year, int(m.group(2)), int(m.group(1)))
        if found and not m.group(3) and found < today:
            found = _safe_date(year + 1, found.month, found.day)
        return found
    if "end of" in text:
        if "week" in text:
            return today + timedelta(days=(4 - today.weekday()) % 7)
        if "month" in text:
            first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
            return first_next - timedelta(days=1)
        return today
    month = next((i for i, name in enumerate(_MONTHS) if re.search(rf"\b{name[:3]}", text)), None)
    day_match = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", text)
    if month is not None and day_match:
        found = _safe_date(today.year, month + 1, int(day_match.group(1)))
        if found and found < today:
            found = _safe_date(today.year + 1, month + 1, int(day_match.group(1)))
        return found
    for index, name in enumerate(_WEEKDAYS):
        if re.search(rf"\b{name[:3]}", text):
            return _next_weekday(today, index)
    if day_match:
        day = int(day_match.group(1))
        found = _safe_date(today.year, today.month, day)
        if found and found < today:
            following = today.replace(day=28) + timedelta(days=4)
            found = _safe_date(following.year, following.month, day)
        return found
    if "next week" in text:
        return today + timedelta(days=7 - today.weekday())
    if "next month" in text:
        return (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
