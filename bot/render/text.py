"""The document as plain text: for the terminal, notifications and anything without markup.

No formatting characters survive; what Markdown shows by layout stays layout (bullets, numbers,
indents, blank lines), and a link shows its label followed by its address, as a reader of plain
text needs both.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.document import (
    Block,
    Break,
    Code,
    CodeBlock,
    Document,
    Heading,
    Inline,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
    Text,
    parse,
    plain_words,
)

_INDENT = "  "


def inlines(items: Sequence[Inline]) -> str:
    out: list[str] = []
    for item in items:
        if isinstance(item, Text | Code):
            out.append(item.text)
        elif isinstance(item, Break):
            out.append("\n")
        elif isinstance(item, Link):
            label = plain_words(item.children)
            address = item.url.removeprefix("mailto:")
            out.append(label if label in {item.url, address} else f"{label} <{address}>")
        else:
            out.append(inlines(item.children))
    return "".join(out)


def _list(block: ListBlock) -> list[str]:
    lines: list[str] = []
    for number, item in enumerate(block.items, start=block.start or 1):
        marker = f"{number}." if block.ordered else "-"
        body = _blocks(item).split("\n") if item else [""]
        lines.append(f"{marker} {body[0]}")
        hang = " " * (len(marker) + 1)
        lines.extend(hang + line if line else line for line in body[1:])
    return lines


def _blocks(blocks: Sequence[Block]) -> str:
    parts: list[str] = []
    for index, block in enumerate(blocks):
        text = ""
        if isinstance(block, Paragraph | Heading):
            text = inlines(block.inlines)
        elif isinstance(block, ListBlock):
            text = "\n".join(_list(block))
        elif isinstance(block, Quote):
            text = "\n".join(f"> {line}".rstrip() for line in _blocks(block.blocks).split("\n"))
        elif isinstance(block, CodeBlock):
            text = "\n".join(_INDENT + line for line in block.text.split("\n"))
        elif isinstance(block, Rule):
            text = "---"
        if index:
            parts.append("\n\n" if block.spaced else "\n")
        parts.append(text)
    return "".join(parts)


def document_text(document: Document) -> str:
    return _blocks(document.blocks)


def plain_text(text: str) -> str:
    """Reply text as a reader of plain text should see it."""
    return document_text(parse(text))
