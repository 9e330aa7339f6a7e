"""The document as Slack mrkdwn, for Block Kit text objects and message text.

Slack reads `&`, `<` and `>` as its own control characters, so text escapes exactly those
three; links become `<url|label>` and formatting Slack's single-character markers. Slack has no
nested lists or headings: nesting is shown by indenting, a heading in bold.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.document import (
    Block,
    Break,
    Code,
    CodeBlock,
    Document,
    Emphasis,
    Heading,
    Inline,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
    Strike,
    Strong,
    Text,
    is_safe_url,
    parse,
    plain_words,
)

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


def inlines(items: Sequence[Inline]) -> str:
    out: list[str] = []
    for item in items:
        if isinstance(item, Text):
            out.append(escape(item.text))
        elif isinstance(item, Break):
            out.append("\n")
        elif isinstance(item, Code):
            out.append(f"`{escape(item.text)}`")
        elif isinstance(item, Strong):
            out.append(f"*{inlines(item.children)}*")
        elif isinstance(item, Emphasis):
            out.append(f"_{inlines(item.children)}_")
        elif isinstance(item, Strike):
            out.append(f"~{inlines(item.children)}~")
        elif isinstance(item, Link):
            out.append(link(item.url, plain_words(item.children)))
    return "".join(out)


def _list(block: ListBlock, depth: int) -> list[str]:
    lines: list[str] = []
    for number, item in enumerate(block.items, start=block.start or 1):
        marker = f"{number}." if block.ordered else ("•" if depth == 0 else "◦")
        body = _blocks(item, depth + 1)
        first, *rest = body.split("\n") if body else [""]
        lines.append(f"{_INDENT * depth}{marker} {first.lstrip()}")
        lines.extend(rest)
    return lines


def _blocks(blocks: Sequence[Block], depth: int = 0) -> str:
    parts: list[str] = []
    for index, block in enumerate(blocks):
        text = ""
        if isinstance(block, Paragraph):
            text = inlines(block.inlines)
        elif isinstance(block, Heading):
            text = f"*{inlines(block.inlines)}*"
        elif isinstance(block, ListBlock):
            text = "\n".join(_list(block, depth))
        elif isinstance(block, Quote):
            text = "\n".join(f"> {line}" for line in _blocks(block.blocks).split("\n"))
        elif isinstance(block, CodeBlock):
            text = f"```\n{escape(block.text)}\n```"
        elif isinstance(block, Rule):
            text = "───"
        if index:
            parts.append("\n\n" if block.spaced else "\n")
        parts.append(text)
    return "".join(parts)


def document_mrkdwn(document: Document) -> str:
    return _blocks(document.blocks)


def mrkdwn(text: str) -> str:
    """Reply text as Slack mrkdwn."""
    return document_mrkdwn(parse(text))
