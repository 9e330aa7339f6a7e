"""The urgent-care signposting file (urgent.yaml): read and checked like the FAQs.

Its wording is clinical content, so it is held as reviewable data with a clinical owner and a
review date, and the loader refuses a file that would leave someone in danger without the numbers
to call (999, NHS 111, 111 option 2, Samaritans 116 123) or without its NHS sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from knowledge import yamlio
from knowledge.models import KnowledgeBaseInvalid, Link, Problem, Severity

#: What each reply must tell people, whoever edits the wording.
REQUIRED_NUMBERS = {
    "emergency": ("999", "111"),
    "mental_health": ("999", "111", "option 2", "116 123"),
}


@dataclass(frozen=True)
class UrgentGuide:
    """The signs of an emergency or a risk to life, and what to say when one is described."""

    owner: str
    reviewed: date
    review_by: date
    emergency_sources: tuple[Link, ...]
    emergency_reply: str
    emergency_signs: tuple[str, ...]
    mental_health_sources: tuple[Link, ...]
    mental_health_reply: str
    first_person: tuple[str, ...]
    mental_health_signs: tuple[str, ...]
    library_words: tuple[str, ...]
    danger_now: tuple[str, ...]


def key_lines(text: str) -> dict[str, int]:
    """1-based line of each key ("owner", "emergency.reply"), so problems point at their line."""
    try:
        root = yamlio.compose(text)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            lines[str(key.value)] = key.start_mark.line + 1
            if isinstance(value, yaml.MappingNode):
                for sub, _ in value.value:
                    lines[f"{key.value}.{sub.value}"] = sub.start_mark.line + 1
    return lines


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _phrases(data: Any, key: str, name: str, problems: list[Problem], line: int) -> tuple[str, ...]:
    values = data.get(key) if isinstance(data, dict) else None
    if not isinstance(values, list) or not values:
        problems.append(Problem(name, line, f"'{key}' must be a non-empty list of phrases"))
        return ()
    phrases = tuple(str(v).strip() for v in values if v is not None and str(v).strip())
    if len(phrases) != len(values):
        problems.append(Problem(name, line, f"'{key}' has an empty phrase"))
    return phrases


def _sources(
    block: Any, section: str, name: str, problems: list[Problem], line: int
) -> tuple[Link, ...]:
    """The public NHS pages a reply follows: shown under it, so anyone can check the wording."""
    found: list[Link] = []
    for source in (block.get("sources") if isinstance(block, dict) else None) or []:
        url = str(source.get("url", "")) if isinstance(source, dict) else ""
        if urlparse(url).scheme != "https" or not source.get("title"):
            problems.append(
                Problem(name, line, f"every {section} source needs a title and an https url")
            )
            continue
        found.append(Link(str(source["title"]), url))
    if not found:
        problems.append(
            Problem(name, line, f"'{section}' must cite the NHS page its wording follows")
        )
    return tuple(found)


def parse_urgent(
    data: Any,
    name: str,
    problems: list[Problem],
    today: date,
    lines: Mapping[str, int] | None = None,
) -> UrgentGuide | None:
    """Check the file; None (with the problems recorded) when it cannot be used. `lines` (from
    `key_lines`) places each problem on its key's line."""
    known = lines or {}

    def at(*keys: str) -> int:
        return next((known[k] for k in keys if k in known), 1)

    before = sum(p.severity is Severity.ERROR for p in problems)
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "urgent-care file must be a mapping"))
        return None
    owner = str(data.get("owner") or "").strip()
    if not owner:
        problems.append(Problem(name, at("owner"), "'owner' (the clinical owner) is required"))
    reviewed, review_by = _date(data.get("reviewed")), _date(data.get("review_by"))
    if reviewed is None or review_by is None:
        problems.append(
            Problem(
                name,
                at("reviewed", "review_by"),
                "'reviewed' and 'review_by' must be dates (YYYY-MM-DD)",
            )
        )
    elif review_by <= reviewed:
        problems.append(Problem(name, at("review_by"), "'review_by' must be after 'reviewed'"))
    elif review_by < today:
        problems.append(
            Problem(
                name, at("review_by"), f"clinical review was due on {review_by}", Severity.WARNING
            )
        )
    replies: dict[str, str] = {}
    sources: dict[str, tuple[Link, ...]] = {}
    for section, numbers in REQUIRED_NUMBERS.items():
        block = data.get(section)
        sources[section] = _sources(
            block, section, name, problems, at(f"{section}.sources", section)
        )
        reply = str(block.get("reply") or "").strip() if isinstance(block, dict) else ""
        if not reply:
            problems.append(Problem(name, at(section), f"'{section}' needs a 'reply'"))
            continue
        for number in numbers:
            if number not in reply:
                problems.append(
                    Problem(
                        name, at(f"{section}.reply"), f"the {section} reply must give '{number}'"
                    )
                )
        replies[section] = reply
    emergency, mental = data.get("emergency"), data.get("mental_health")
    guide = UrgentGuide(
        owner=owner,
        reviewed=reviewed or today,
        review_by=review_by or today,
        emergency_sources=sources["emergency"],
        emergency_reply=replies.get("emergency", ""),
        emergency_signs=_phrases(emergency, "signs", name, problems, at("emergency.signs")),
        mental_health_sources=sources["mental_health"],
        mental_health_reply=replies.get("mental_health", ""),
        first_person=_phrases(
            mental, "first_person", name, problems, at("mental_health.first_person")
        ),
        mental_health_signs=_phrases(mental, "signs", name, problems, at("mental_health.signs")),
        library_words=_phrases(data, "library_words", name, problems, at("library_words")),
        danger_now=_phrases(data, "danger_now", name, problems, at("danger_now")),
    )
    if sum(p.severity is Severity.ERROR for p in problems) > before:
        return None
    return guide


def load_urgent(path: Path, today: date | None = None) -> UrgentGuide:
    """Read the file at start; an unusable file stops the bot (it must never run without it)."""
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
        data = yamlio.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeBaseInvalid(
            [Problem(str(path), 1, f"cannot read urgent-care file: {exc.__class__.__name__}")]
        ) from exc
    guide = parse_urgent(data, str(path), problems, today or date.today(), key_lines(text))
    if guide is None:
        raise KnowledgeBaseInvalid(problems)
    return guide
