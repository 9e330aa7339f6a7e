"""Every shipped KB answer, rendered for every platform, keeps what its author wrote.

What is expected is read from the answer's source text with plain patterns, not from the
parser under test: its addresses, its list items and its words. Each platform's output is then
read back the way that platform shows it (HTML text and hrefs; Slack's `<url|label>`; Teams'
`[label](url)` and `\\r` lists; plain lines) and must show the same words, link the same
addresses, keep every list item, and leave no Markdown marker behind.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.render.html import markdown_html
from bot.render.slack import mrkdwn
from bot.render.teams import markdown_blocks
from bot.render.text import plain_text
from knowledge.loader import load_knowledge_base
from knowledge.models import FaqEntry

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = load_knowledge_base(ROOT / "knowledge").entries

_URL = re.compile(r"https?://[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ITEM = re.compile(r"(?m)^\s*(?:[-*+]|\d{1,3}[.)])\s+\S")
_WORD = re.compile(r"[A-Za-z0-9]+")
_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "br"}


def addresses(answer: str) -> set[str]:
    return set(_URL.findall(answer)) | {"mailto:" + e for e in _EMAIL.findall(answer)}


def words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text))


def source_words(answer: str) -> Counter[str]:
    """The words a reader sees: a `[label](url)` link shows its label only."""
    return words(re.sub(r"\]\([^)]*\)", "]", answer))


class _Page(HTMLParser):
    """What a browser shows: the text, with the numbers it draws beside ordered list items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.hrefs: set[str] = set()
        self.text: list[str] = []
        self.numbers: list[int | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.hrefs.update(value or "" for name, value in attrs if name == "href")
        if tag in {"ul", "ol"}:
            self.numbers.append(int(dict(attrs).get("start") or 1) if tag == "ol" else None)
        elif tag == "li" and self.numbers and self.numbers[-1] is not None:
            self.text.append(f"{self.numbers[-1]}.")
            self.numbers[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"ul", "ol"} and self.numbers:
            self.numbers.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class Shown:
    """One platform's output as its reader gets it."""

    def __init__(self, text: str, links: set[str], items: int, markup: str = "") -> None:
        self.text, self.links, self.items, self.markup = text, links, items, markup or text


def web(answer: str) -> Shown:
    page = _Page()
    page.feed(str(markdown_html(answer)))
    assert set(page.tags) <= _TAGS, f"unexpected tags: {set(page.tags) - _TAGS}"
    return Shown(" ".join(page.text), page.hrefs, page.tags["li"])


def slack(answer: str) -> Shown:
    out = mrkdwn(answer)
    assert not re.search(r"&(?!amp;|lt;|gt;)", out), "a bare & in mrkdwn"
    links = set(re.findall(r"<([^|>]+)(?:\|[^>]*)?>", out))
    visible = re.sub(r"<([^|>]+)>", r"\1", re.sub(r"<[^|>]+\|([^>]*)>", r"\1", out))
    items = len(re.findall(r"(?m)^\s*(?:•|◦|\d+\.) \S", out))
    return Shown(html.unescape(visible), links, items, out)


def teams(answer: str) -> Shown:
    blocks = markdown_blocks(answer)
    assert all(b["type"] == "TextBlock" and b["wrap"] is True for b in blocks)
    out = "\n".join(b["text"] for b in blocks)
    assert all(b["text"].count("**") % 2 == 0 for b in blocks), "unbalanced bold"
    links = set(re.findall(r"\]\(([^)\s]+)\)", out))
    visible = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", out)
    # What Teams shows in bold, then what it shows as typed (its backslash escapes).
    visible = re.sub(r"\\(.)", r"\1", re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"\1", visible))
    items = sum(
        len(b["text"].split("\r"))
        for b in blocks
        if re.match(r"(?:- |\d+\. )", b["text"])
    )  # fmt: skip
    return Shown(visible, links, items, out)


def plain(answer: str) -> Shown:
    out = plain_text(answer)
    items = len(re.findall(r"(?m)^\s*(?:-|\d+\.) \S", out))
    return Shown(out, addresses(out), items)


PLATFORMS: dict[str, Callable[[str], Shown]] = {
    "web": web,
    "slack": slack,
    "teams": teams,
    "plain": plain,
}
CASES = [(entry, name) for entry in ENTRIES for name in PLATFORMS]


def case_id(case: object) -> str:
    return case.id if isinstance(case, FaqEntry) else str(case)


def test_the_shipped_knowledge_base_has_links_and_lists_to_check() -> None:
    assert sum(bool(addresses(e.answer)) for e in ENTRIES) >= 10
    assert sum(bool(_ITEM.search(e.answer)) for e in ENTRIES) >= 10
    assert sum("**" in e.answer for e in ENTRIES) >= 10


@pytest.mark.parametrize(("entry", "platform"), CASES, ids=case_id)
def test_every_address_in_an_answer_is_a_link_to_it(entry: FaqEntry, platform: str) -> None:
    shown = PLATFORMS[platform](entry.answer)
    assert addresses(entry.answer) <= shown.links


@pytest.mark.parametrize(("entry", "platform"), CASES, ids=case_id)
def test_every_list_item_is_kept_as_an_item(entry: FaqEntry, platform: str) -> None:
    assert PLATFORMS[platform](entry.answer).items == len(_ITEM.findall(entry.answer))


@pytest.mark.parametrize(("entry", "platform"), CASES, ids=case_id)
def test_the_reader_sees_every_word_of_the_answer_and_no_other(
    entry: FaqEntry, platform: str
) -> None:
    assert words(PLATFORMS[platform](entry.answer).text) == source_words(entry.answer)


@pytest.mark.parametrize(("entry", "platform"), CASES, ids=case_id)
def test_no_markdown_marker_is_left_for_the_reader(entry: FaqEntry, platform: str) -> None:
    shown = PLATFORMS[platform](entry.answer)
    assert "**" not in shown.text
    assert "](" not in shown.text
    assert not re.search(r"(?m)^\s*[*+] ", shown.markup), "a Markdown bullet left as typed"
    assert not re.search(r"(?m)^#+ ", shown.markup), "a Markdown heading left as typed"
