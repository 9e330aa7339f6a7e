"""The document as Adaptive Card TextBlocks, in the Markdown subset Teams renders.

Teams' card Markdown is **bold**, _italic_, [label](url) and lists written as items separated
by `\\r`; no headings, quotes, code or strikethrough, and a single newline inside a TextBlock
is shown unevenly. So each line of a paragraph is its own TextBlock (a blank line in the source
becomes a larger gap), a list is one TextBlock, and what the subset lacks is shown with the
TextBlock's own properties (a heading bolder, a quote subtle, code monospace). Text escapes the
characters the subset would read as markup, with CommonMark's backslash.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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
    split_lines,
)

TextBlock = dict[str, Any]

#: `*`, `[`, `]`, `` ` `` and `\` anywhere; `_` only where it could open or close emphasis
#: (CommonMark never reads an underscore between two letters as markup, as in "my_file").
_MARKUP = re.compile(r"[\\*\[\]`]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_URL_UNSAFE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"}


def escape(text: str) -> str:
    """Text Teams shows as typed, not as Markdown."""
    return _MARKUP.sub(lambda m: "\\" + m.group(0), text)


def link(url: str, label: str) -> str:
    """`[label](url)`; an address that is not http(s) or mailto shows its label alone."""
    if not is_safe_url(url):
        return escape(label)
    target = "".join(_URL_UNSAFE.get(c, c) for c in url)
    return f"[{escape(label) or target}]({target})"


def text_block(text: str, **extra: Any) -> TextBlock:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def inlines(items: Sequence[Inline]) -> str:
    """One line of card Markdown; a Break here (inside a list item) is a space."""
    out: list[str] = []
    for item in items:
        if isinstance(item, Text):
            out.append(escape(item.text))
        elif isinstance(item, Break):
            out.append(" ")
        elif isinstance(item, Code):
            out.append(escape(item.text))
        elif isinstance(item, Strong):
            out.append(f"**{inlines(item.children)}**")
        elif isinstance(item, Emphasis):
            out.append(f"_{inlines(item.children)}_")
        elif isinstance(item, Strike):
            out.append(inlines(item.children))
        elif isinstance(item, Link):
            out.append(link(item.url, plain_words(item.children)))
    return "".join(out)


def _list_lines(block: ListBlock, depth: int) -> list[str]:
    lines: list[str] = []
    for number, item in enumerate(block.items, start=block.start or 1):
        marker = f"{number}." if block.ordered else "-"
        words: list[str] = []
        nested: list[str] = []
        for part in item:
            if isinstance(part, ListBlock):
                nested.extend(_list_lines(part, depth + 1))
            elif isinstance(part, Paragraph | Heading):
                words.append(inlines(part.inlines))
            elif isinstance(part, Quote | CodeBlock):
                words.append(escape(_plain(part)))
        lines.append(f"{'   ' * depth}{marker} {' '.join(words)}".rstrip())
        lines.extend(nested)
    return lines


def _plain(block: Block) -> str:
    if isinstance(block, Paragraph | Heading):
        return plain_words(block.inlines)
    if isinstance(block, CodeBlock):
        return block.text
    if isinstance(block, Quote):
        return " ".join(_plain(b) for b in block.blocks)
    if isinstance(block, ListBlock):
        return " ".join(_plain(b) for item in block.items for b in item)
    return ""


def _blocks(blocks: Sequence[Block], out: list[TextBlock], **style: Any) -> None:
    for block in blocks:
        spacing = "Medium" if block.spaced else "Small"
        made: list[TextBlock] = []
        if isinstance(block, Paragraph):
            made = [
                text_block(inlines(line) or " ", **style) for line in split_lines(block.inlines)
            ]
        elif isinstance(block, Heading):
            made = [text_block(inlines(block.inlines), weight="Bolder", **style)]
        elif isinstance(block, ListBlock):
            made = [text_block("\r".join(_list_lines(block, 0)), **style)]
        elif isinstance(block, Quote):
            _blocks(block.blocks, made, isSubtle=True)
        elif isinstance(block, CodeBlock):
            made = [
                text_block(escape(line) or " ", fontType="Monospace", **style)
                for line in block.text.split("\n")
            ]
        elif isinstance(block, Rule):
            made = [text_block(" ", separator=True, **style)]
        for index, element in enumerate(made):
            if out:
                element.setdefault("spacing", spacing if index == 0 else "Small")
            out.append(element)


def document_blocks(document: Document) -> list[TextBlock]:
    out: list[TextBlock] = []
    _blocks(document.blocks, out)
    return out or [text_block(" ")]


def markdown_blocks(text: str) -> list[TextBlock]:
    """Reply text as the TextBlocks of a card's body."""
    return document_blocks(parse(text))


def inline_markdown(text: str) -> str:
    """Short text (a notice, an error) for one TextBlock: list items and lines kept apart."""
    return "\n\n".join(b["text"] for b in markdown_blocks(text) if b["text"].strip())
