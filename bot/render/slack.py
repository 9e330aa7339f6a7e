"""The document as Slack mrkdwn, for Block Kit text objects and message text.

Slack reads `&`, `<` and `>` as its own control characters, so text escapes exactly those
three; links become `<url|label>` and formatting Slack's single-character markers. Slack has no
nested lists or headings: nesting is shown by indenting, a heading in bold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.render.document import Block, Document, Inline, ListBlock, is_safe_url, parse
from bot.render.walk import Lines, marked_items, plain_words

_INDENT = "    "


def escape(text: str) -> str:
    """Text Slack shows as typed: its three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """`<url|label>`; a `|` or `>` in the address would end it early, so they are encoded."""
    if not is_safe_url(url):
        return escape(label)
    target = escape(url).replace("|", "%7C")
    if not label.strip() or label == url:
        return f"<{target}>"
    return f"<{target}|{escape(label)}>"


@dataclass(frozen=True)
class _Mrkdwn(Lines):
    """Slack mrkdwn at a list nesting `depth`, which only the bullets and indents show."""

    depth: int = 0

    def text(self, text: str) -> str:
        return escape(text)

    def line_break(self) -> str:
        return "\n"

    def code(self, text: str) -> str:
        return f"`{escape(text)}`"

    def strong(self, inner: str) -> str:
        return f"*{inner}*"

    def emphasis(self, inner: str) -> str:
        return f"_{inner}_"

    def strike(self, inner: str) -> str:
        return f"~{inner}~"

    def link(self, url: str, children: Sequence[Inline]) -> str:
        return link(url, plain_words(children))

    def paragraph(self, inlines: Sequence[Inline]) -> str:
        return self.inlines(inlines)

    def heading(self, inlines: Sequence[Inline]) -> str:
        return f"*{self.inlines(inlines)}*"

    def list_block(self, block: ListBlock) -> str:
        lines: list[str] = []
        inner = _Mrkdwn(self.depth + 1)
        for marker, item in marked_items(block, "•" if self.depth == 0 else "◦"):
            first, *rest = inner.blocks(item).split("\n")
            lines.append(f"{_INDENT * self.depth}{marker} {first.lstrip()}")
            lines.extend(rest)
        return "\n".join(lines)

    def quote(self, blocks: Sequence[Block]) -> str:
        return "\n".join(f"> {line}" for line in _MRKDWN.blocks(blocks).split("\n"))

    def code_block(self, text: str) -> str:
        return f"```\n{escape(text)}\n```"

    def rule(self) -> str:
        return "───"


_MRKDWN = _Mrkdwn()


def document_mrkdwn(document: Document) -> str:
    return _MRKDWN.blocks(document.blocks)


@lru_cache(maxsize=1024)
def mrkdwn(text: str) -> str:
    """Reply text as Slack mrkdwn; cached like `parse`, as the same KB answer is sent many
    times (walking the document was most of rendering a message)."""
    return document_mrkdwn(parse(text))
