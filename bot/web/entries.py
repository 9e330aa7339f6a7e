"""An FAQ entry as the admin console edits it: form fields <-> the entry's Markdown file.

The database stores each entry exactly as the reviewable file would hold it (YAML front
matter, then the answer), so this module only converts between that text and the fields of
the edit form, and remembers which lines each field became so that the loader's problems
(reported as FILE:LINE) can be shown beside the field they are about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from knowledge import yamlio

ANSWER = "answer"
FIELD_ORDER = (
    "id",
    "title",
    "category",
    "questions",
    "links",
    "owner",
    "reviewed",
    "review_by",
)


@dataclass(frozen=True)
class EntryForm:
    """The edit form's values, as typed (strings), so they can be shown again unchanged."""

    id: str = ""
    title: str = ""
    category: str = ""
    questions: str = ""  # one phrasing a line
    links: str = ""  # one "Title | https://..." a line
    owner: str = ""
    reviewed: str = ""
    review_by: str = ""
    answer: str = ""

    @classmethod
    def from_post(cls, data: Mapping[str, str]) -> EntryForm:
        def get(name: str) -> str:
            return str(data.get(name) or "").replace("\r\n", "\n")

        return cls(**{name: get(name).strip() for name in (*FIELD_ORDER, ANSWER)})

    def question_list(self) -> list[str]:
        return [line.strip() for line in self.questions.splitlines() if line.strip()]

    def link_list(self) -> list[dict[str, str]]:
        links = []
        for line in self.links.splitlines():
            if not line.strip():
                continue
            title, sep, url = line.rpartition("|")
            if not sep:
                title, url = "", line
            links.append({"title": title.strip(), "url": url.strip()})
        return links

    def with_question(self, question: str) -> EntryForm:
        """The same entry with one more phrasing (unless it is already there)."""
        existing = [q.lower() for q in self.question_list()]
        if question.strip().lower() in existing or not question.strip():
            return self
        questions = "\n".join([*self.question_list(), question.strip()])
        return EntryForm(**{**self.__dict__, "questions": questions})


@dataclass(frozen=True)
class EntryText:
    """An entry's file text and the field each line belongs to (1-based line numbers)."""

    text: str
    line_fields: Mapping[int, str] = field(default_factory=dict)

    def field_at(self, line: int) -> str | None:
        return self.line_fields.get(line)


def _value(raw: str) -> Any:
    """Dates are written as dates (unquoted, like the shipped files); the rest as text."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return raw


def to_markdown(form: EntryForm) -> EntryText:
    """The entry's Markdown file, written the way the shipped KB files are."""
    values: dict[str, Any] = {
        "id": form.id,
        "title": form.title,
        "category": form.category,
        "questions": form.question_list(),
        "links": form.link_list(),
        "owner": form.owner,
        "reviewed": _value(form.reviewed),
        "review_by": _value(form.review_by),
    }
    lines = ["---"]
    line_fields: dict[int, str] = {}
    for name in FIELD_ORDER:
        value = values[name]
        if value in ("", []):
            chunk = f"{name}:"
        else:
            chunk = yaml.safe_dump(
                {name: value}, sort_keys=False, allow_unicode=True, width=1000
            ).rstrip("\n")
        for line in chunk.splitlines():
            lines.append(line)
            line_fields[len(lines)] = name
    lines.append("---")
    for line in form.answer.strip().splitlines() or [""]:
        lines.append(line)
        line_fields[len(lines)] = ANSWER
    return EntryText("\n".join(lines) + "\n", line_fields)


def from_markdown(text: str) -> EntryForm:
    """The form for a stored entry; text that is not a well-formed entry gives what can be read."""
    parts = text.split("\n")
    front: list[str] = []
    body_start = 0
    if parts and parts[0].strip() == "---":
        for index in range(1, len(parts)):
            if parts[index].strip() == "---":
                front = parts[1:index]
                body_start = index + 1
                break
    try:
        data = yamlio.safe_load("\n".join(front)) if front else {}
    except yaml.YAMLError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    raw_questions, raw_links = data.get("questions"), data.get("links")
    questions: list[Any] = raw_questions if isinstance(raw_questions, list) else []
    links: list[Any] = raw_links if isinstance(raw_links, list) else []
    link_lines = [
        f"{link.get('title', '')} | {link.get('url', '')}"
        for link in links
        if isinstance(link, dict)
    ]
    return EntryForm(
        id=str(data.get("id") or ""),
        title=str(data.get("title") or ""),
        category=str(data.get("category") or ""),
        questions="\n".join(str(q) for q in questions),
        links="\n".join(link_lines),
        owner=str(data.get("owner") or ""),
        reviewed=str(data.get("reviewed") or ""),
        review_by=str(data.get("review_by") or ""),
        answer="\n".join(parts[body_start:]).strip() if body_start else text.strip(),
    )
