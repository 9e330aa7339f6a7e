"""The one Markdown parse of reply text, into a small document every platform renders.

KB answers and the bot's own replies are written in light Markdown. Each chat platform shows
a different dialect (HTML, Slack mrkdwn, Teams card Markdown, plain text), so the text is
parsed here once, with markdown-it's CommonMark parser, into frozen dataclasses that carry
meaning rather than syntax; each renderer then only says how it writes each kind of node
(walk.py walks the tree for all of them). Two decisions are made here, for every platform at
once:

- Raw HTML is never markup: with `html` off, `<b>` stays the text "<b>", escaped by each
  renderer as its platform needs.
- Only http(s) and mailto links are links. Any other target (`javascript:`, `data:`, a
  relative path) keeps its label as plain text and loses the address, so no renderer can be
  talked into making one.

An image is a link to the image, labelled by its alt text. Indented code blocks are switched off: in chat text a four-space indent is a person's
layout, not code. Bare web addresses and e-mail addresses become links (linkify, without
"fuzzy" bare domains, so "report.py" stays text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TypeAlias

from markdown_it import MarkdownIt
from markdown_it.token import Token

#: The only link schemes any renderer is given.
SAFE_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Emphasis:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Strike:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Link:
    """A link whose `url` is already known to be http(s) or mailto."""

    url: str
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Break:
    """A line break the author typed inside a paragraph; kept, as chat readers expect."""


Inline: TypeAlias = Text | Strong | Emphasis | Strike | Code | Link | Break


@dataclass(frozen=True)
class Paragraph:
    inlines: tuple[Inline, ...]
    #: A blank line separates this block from the one before it in the source.
    spaced: bool = False


@dataclass(frozen=True)
class Heading:
    level: int
    inlines: tuple[Inline, ...]
    spaced: bool = False


@dataclass(frozen=True)
class ListBlock:
    """A bullet list (`start` None) or a numbered one counting from `start`."""

    items: tuple[tuple[Block, ...], ...]
    start: int | None = None
    spaced: bool = False

    @property
    def ordered(self) -> bool:
        return self.start is not None


@dataclass(frozen=True)
class Quote:
    blocks: tuple[Block, ...]
    spaced: bool = False


@dataclass(frozen=True)
class CodeBlock:
    text: str
    spaced: bool = False


@dataclass(frozen=True)
class Rule:
    spaced: bool = False


Block: TypeAlias = Paragraph | Heading | ListBlock | Quote | CodeBlock | Rule


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]

    def single_paragraph(self) -> tuple[Inline, ...] | None:
        """The inlines when the text is one plain paragraph (a warning, a notice)."""
        if len(self.blocks) == 1 and isinstance(self.blocks[0], Paragraph):
            return self.blocks[0].inlines
        return None


@cache
def _parser() -> MarkdownIt:
    """Made on first use: compiling linkify's patterns is most of the cost of importing this."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["linkify", "strikethrough"]).disable(["code"])
    md.linkify.set({"fuzzy_link": False})  # type: ignore[union-attr]
    # Every target parses as a link, so that an unsafe one can keep its label as text here
    # (markdown-it's own check would leave the raw "[label](javascript:...)" in the text).
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


#: Line ends as markdown-it counts them, so that token line numbers index this split.
_LINES = re.compile(r"\r\n|\r|\n")


def is_safe_url(url: str) -> bool:
    return url.lower().startswith(SAFE_SCHEMES) and len(url) > len("mailto:")


def _inlines(tokens: Sequence[Token]) -> tuple[Inline, ...]:
    """Inline tokens as a tree: each *_open gathers the tokens up to its matching *_close."""
    out: list[Inline] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind.endswith("_open"):
            depth, end = 1, index + 1
            while end < len(tokens):
                if tokens[end].type == kind:
                    depth += 1
                elif tokens[end].type == kind.removesuffix("_open") + "_close":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            children = _inlines(tokens[index + 1 : end])
            if kind == "strong_open":
                out.append(Strong(children))
            elif kind == "em_open":
                out.append(Emphasis(children))
            elif kind == "s_open":
                out.append(Strike(children))
            elif kind == "link_open":
                url = str(token.attrs.get("href", ""))
                out.extend([Link(url, children)] if is_safe_url(url) else children)
            else:
                out.extend(children)
            index = end + 1
            continue
        if kind == "text" and token.content:
            out.append(Text(token.content))
        elif kind == "image":
            # No platform here shows images inline: an image is a link to it, named by its alt.
            url = str(token.attrs.get("src", ""))
            alt = _inlines(token.children or []) or (Text(url),)
            out.extend([Link(url, alt)] if is_safe_url(url) else alt)
        elif kind == "code_inline":
            out.append(Code(token.content))
        elif kind in {"softbreak", "hardbreak"}:
            out.append(Break())
        index += 1
    return _merge_text(out)


def _merge_text(inlines: list[Inline]) -> tuple[Inline, ...]:
    """Adjacent Text runs (markdown-it splits text at every candidate marker) as one."""
    merged: list[Inline] = []
    for inline in inlines:
        if isinstance(inline, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + inline.text)
        else:
            merged.append(inline)
    return tuple(merged)


def _closing(tokens: Sequence[Token], index: int) -> int:
    """The index of the token that closes the block opened at `index`."""
    depth = 0
    for end in range(index, len(tokens)):
        depth += tokens[end].nesting
        if depth == 0:
            return end
    return len(tokens) - 1


def _blocks(tokens: Sequence[Token], lines: Sequence[str]) -> tuple[Block, ...]:
    out: list[Block] = []
    last_line: int | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        end = _closing(tokens, index) if token.nesting == 1 else index
        spaced = bool(token.map and last_line is not None and token.map[0] > last_line)
        inner = tokens[index + 1 : end]
        block: Block | None = None
        if token.type == "paragraph_open":
            block = Paragraph(_inline_of(inner), spaced)
        elif token.type == "heading_open":
            block = Heading(int(token.tag.removeprefix("h") or 1), _inline_of(inner), spaced)
        elif token.type in {"bullet_list_open", "ordered_list_open"}:
            start = int(token.attrs.get("start", 1)) if token.type == "ordered_list_open" else None
            block = ListBlock(_items(inner, lines), start, spaced)
        elif token.type == "blockquote_open":
            block = Quote(_blocks(inner, lines), spaced)
        elif token.type in {"fence", "code_block"}:
            block = CodeBlock(token.content.rstrip("\n"), spaced)
        elif token.type == "hr":
            block = Rule(spaced)
        if block is not None:
            out.append(block)
        if token.map:
            # A list's range takes in the blank lines after it; the gap starts after its text.
            last_line = token.map[1]
            while last_line > token.map[0] and not lines[last_line - 1].strip():
                last_line -= 1
        index = end + 1
    return tuple(out)


def _inline_of(tokens: Sequence[Token]) -> tuple[Inline, ...]:
    return _inlines([c for t in tokens if t.type == "inline" for c in t.children or ()])


def _items(tokens: Sequence[Token], lines: Sequence[str]) -> tuple[tuple[Block, ...], ...]:
    items: list[tuple[Block, ...]] = []
    index = 0
    while index < len(tokens):
        end = _closing(tokens, index)
        if tokens[index].type == "list_item_open":
            items.append(_blocks(tokens[index + 1 : end], lines))
        index = end + 1
    return tuple(items)


@lru_cache(maxsize=1024)
def parse(text: str) -> Document:
    """The document for a reply's text; cached, as the same KB answer is shown many times."""
    return Document(_blocks(_parser().parse(text), _LINES.split(text)))


def split_lines(inlines: Sequence[Inline]) -> list[tuple[Inline, ...]]:
    """The inlines cut at each Break, with formatting that spans a break closed and reopened
    on both sides, for platforms that show each line as its own element."""
    lines: list[list[Inline]] = [[]]
    for inline in inlines:
        if isinstance(inline, Break):
            lines.append([])
        elif isinstance(inline, Strong | Emphasis | Strike | Link):
            parts = split_lines(inline.children)
            for number, part in enumerate(parts):
                if number:
                    lines.append([])
                if part:
                    lines[-1].append(_with_children(inline, part))
        else:
            lines[-1].append(inline)
    return [tuple(line) for line in lines]


def _with_children(
    inline: Strong | Emphasis | Strike | Link, children: tuple[Inline, ...]
) -> Inline:
    if isinstance(inline, Link):
        return Link(inline.url, children)
    return type(inline)(children)
