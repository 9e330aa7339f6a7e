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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.render.document import (
    Block,
    CodeBlock,
    Document,
    Heading,
    Inline,
    ListBlock,
    Paragraph,
    Quote,
    is_safe_url,
    parse,
    split_lines,
)
from bot.render.walk import Blocks, TextInlines, marked_items, plain_words

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


class _CardMarkdown(TextInlines):
    """One line of card Markdown; a Break here (inside a list item) is a space."""

    def text(self, text: str) -> str:
        return escape(text)

    def line_break(self) -> str:
        return " "

    def code(self, text: str) -> str:
        return escape(text)

    def strong(self, inner: str) -> str:
        return f"**{inner}**"

    def emphasis(self, inner: str) -> str:
        return f"_{inner}_"

    def strike(self, inner: str) -> str:
        return inner

    def link(self, url: str, children: Sequence[Inline]) -> str:
        return link(url, plain_words(children))


_MARKDOWN = _CardMarkdown()


def _list_lines(block: ListBlock, depth: int) -> list[str]:
    lines: list[str] = []
    for marker, item in marked_items(block, "-"):
        words: list[str] = []
        nested: list[str] = []
        for part in item:
            if isinstance(part, ListBlock):
                nested.extend(_list_lines(part, depth + 1))
            elif isinstance(part, Paragraph | Heading):
                words.append(_MARKDOWN.inlines(part.inlines))
            elif isinstance(part, Quote | CodeBlock):
                words.append(escape(_PLAIN.block(part)))
        lines.append(f"{'   ' * depth}{marker} {' '.join(words)}".rstrip())
        lines.extend(nested)
    return lines


class _Plain(Blocks[str]):
    """A block's words on one line, for inside a list item, which cannot hold blocks."""

    def paragraph(self, inlines: Sequence[Inline]) -> str:
        return plain_words(inlines)

    def heading(self, inlines: Sequence[Inline]) -> str:
        return plain_words(inlines)

    def list_block(self, block: ListBlock) -> str:
        return " ".join(self.block(b) for item in block.items for b in item)

    def quote(self, blocks: Sequence[Block]) -> str:
        return " ".join(self.block(b) for b in blocks)

    def code_block(self, text: str) -> str:
        return text

    def rule(self) -> str:
        return ""


_PLAIN = _Plain()


@dataclass(frozen=True)
class _Card(Blocks[list[TextBlock]]):
    """The TextBlocks of a card's body, each with `style` (a quote's are subtle)."""

    style: Mapping[str, Any] = field(default_factory=dict)

    def blocks(self, blocks: Sequence[Block]) -> list[TextBlock]:
        out: list[TextBlock] = []
        for block in blocks:
            spacing = "Medium" if block.spaced else "Small"
            for index, element in enumerate(self.block(block)):
                if out:
                    element.setdefault("spacing", spacing if index == 0 else "Small")
                out.append(element)
        return out

    def paragraph(self, inlines: Sequence[Inline]) -> list[TextBlock]:
        return [
            text_block(_MARKDOWN.inlines(line) or " ", **self.style)
            for line in split_lines(inlines)
        ]

    def heading(self, inlines: Sequence[Inline]) -> list[TextBlock]:
        return [text_block(_MARKDOWN.inlines(inlines), weight="Bolder", **self.style)]

    def list_block(self, block: ListBlock) -> list[TextBlock]:
        return [text_block("\r".join(_list_lines(block, 0)), **self.style)]

    def quote(self, blocks: Sequence[Block]) -> list[TextBlock]:
        return _Card({"isSubtle": True}).blocks(blocks)

    def code_block(self, text: str) -> list[TextBlock]:
        return [
            text_block(escape(line) or " ", fontType="Monospace", **self.style)
            for line in text.split("\n")
        ]

    def rule(self) -> list[TextBlock]:
        return [text_block(" ", separator=True, **self.style)]


def document_blocks(document: Document) -> list[TextBlock]:
    return _Card().blocks(document.blocks) or [text_block(" ")]


def markdown_blocks(text: str) -> list[TextBlock]:
    """Reply text as the TextBlocks of a card's body."""
    return document_blocks(parse(text))


def inline_markdown(text: str) -> str:
    """Short text (a notice, an error) for one TextBlock: list items and lines kept apart."""
    return "\n\n".join(b["text"] for b in markdown_blocks(text) if b["text"].strip())
