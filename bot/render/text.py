"""The document as plain text: for the terminal, notifications and anything without markup.

No formatting characters survive; what Markdown shows by layout stays layout (bullets, numbers,
indents, blank lines), and a link shows its label followed by its address, as a reader of plain
text needs both.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from bot.render.document import Block, Document, Inline, ListBlock, parse
from bot.render.walk import Lines, PlainWords, marked_items, plain_words

_INDENT = "  "


class _PlainText(PlainWords, Lines):
    """Plain words, with what Markdown shows by layout kept as layout."""

    def link(self, url: str, children: Sequence[Inline]) -> str:
        label = plain_words(children)
        address = url.removeprefix("mailto:")
        return label if label in {url, address} else f"{label} <{address}>"

    def paragraph(self, inlines: Sequence[Inline]) -> str:
        return self.inlines(inlines)

    def heading(self, inlines: Sequence[Inline]) -> str:
        return self.inlines(inlines)

    def list_block(self, block: ListBlock) -> str:
        lines: list[str] = []
        for marker, item in marked_items(block, "-"):
            first, *rest = self.blocks(item).split("\n")
            lines.append(f"{marker} {first}")
            hang = " " * (len(marker) + 1)
            lines.extend(hang + line if line else line for line in rest)
        return "\n".join(lines)

    def quote(self, blocks: Sequence[Block]) -> str:
        return "\n".join(f"> {line}".rstrip() for line in self.blocks(blocks).split("\n"))

    def code_block(self, text: str) -> str:
        return "\n".join(_INDENT + line for line in text.split("\n"))

    def rule(self) -> str:
        return "---"


_PLAIN_TEXT = _PlainText()


def document_text(document: Document) -> str:
    return _PLAIN_TEXT.blocks(document.blocks)


@lru_cache(maxsize=1024)
def plain_text(text: str) -> str:
    """Reply text as a reader of plain text should see it (cached, as `parse` is)."""
    return document_text(parse(text))
