"""The one walk over a parsed reply, shared by every renderer.

Each dialect (HTML, Slack mrkdwn, Teams card Markdown, plain text) says only how it writes each
kind of node, by implementing `Inlines` and `Blocks`; which node is which, and what nests in
what, is decided here once. A new kind of node is then one more abstract method, which mypy makes
every dialect write, rather than one more case in four isinstance chains that one could miss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Final, Generic, TypeVar, assert_never

from bot.render.document import (
    Block,
    Break,
    Code,
    CodeBlock,
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
)

T = TypeVar("T")


class Inlines(ABC, Generic[T]):
    """How a dialect writes the text inside a block: each method is given its node's content,
    formatting methods the already written text inside them."""

    def inlines(self, items: Sequence[Inline]) -> T:
        out: list[T] = []
        for item in items:
            if isinstance(item, Text):
                out.append(self.text(item.text))
            elif isinstance(item, Break):
                out.append(self.line_break())
            elif isinstance(item, Code):
                out.append(self.code(item.text))
            elif isinstance(item, Strong):
                out.append(self.strong(self.inlines(item.children)))
            elif isinstance(item, Emphasis):
                out.append(self.emphasis(self.inlines(item.children)))
            elif isinstance(item, Strike):
                out.append(self.strike(self.inlines(item.children)))
            elif isinstance(item, Link):
                out.append(self.link(item.url, item.children))
            else:
                assert_never(item)
        return self.join(out)

    @abstractmethod
    def join(self, parts: Sequence[T]) -> T: ...

    @abstractmethod
    def text(self, text: str) -> T: ...

    @abstractmethod
    def line_break(self) -> T: ...

    @abstractmethod
    def code(self, text: str) -> T: ...

    @abstractmethod
    def strong(self, inner: T) -> T: ...

    @abstractmethod
    def emphasis(self, inner: T) -> T: ...

    @abstractmethod
    def strike(self, inner: T) -> T: ...

    @abstractmethod
    def link(self, url: str, children: Sequence[Inline]) -> T:
        """`children` unwritten: some dialects can show only a plain label (`plain_words`)."""


class Blocks(ABC, Generic[T]):
    """How a dialect writes one block; how it puts blocks one after another is its own."""

    def block(self, block: Block) -> T:
        if isinstance(block, Paragraph):
            return self.paragraph(block.inlines)
        if isinstance(block, Heading):
            return self.heading(block.inlines)
        if isinstance(block, ListBlock):
            return self.list_block(block)
        if isinstance(block, Quote):
            return self.quote(block.blocks)
        if isinstance(block, CodeBlock):
            return self.code_block(block.text)
        if isinstance(block, Rule):
            return self.rule()
        assert_never(block)

    @abstractmethod
    def paragraph(self, inlines: Sequence[Inline]) -> T: ...

    @abstractmethod
    def heading(self, inlines: Sequence[Inline]) -> T: ...

    @abstractmethod
    def list_block(self, block: ListBlock) -> T: ...

    @abstractmethod
    def quote(self, blocks: Sequence[Block]) -> T: ...

    @abstractmethod
    def code_block(self, text: str) -> T: ...

    @abstractmethod
    def rule(self) -> T: ...


class TextInlines(Inlines[str]):
    """A dialect whose inlines are written as one string."""

    def join(self, parts: Sequence[str]) -> str:
        return "".join(parts)


class Lines(TextInlines, Blocks[str]):
    """A dialect written as lines of text (Slack mrkdwn, plain text): a chat reader's blank
    line between blocks the author spaced apart, a plain line break otherwise."""

    def blocks(self, blocks: Sequence[Block]) -> str:
        parts: list[str] = []
        for index, block in enumerate(blocks):
            if index:
                parts.append("\n\n" if block.spaced else "\n")
            parts.append(self.block(block))
        return "".join(parts)


def marked_items(block: ListBlock, bullet: str) -> Iterator[tuple[str, tuple[Block, ...]]]:
    """Each item of a list with its marker: its number ("3.", counting from the list's start)
    in a numbered list, `bullet` in a bullet list."""
    for number, item in enumerate(block.items, start=block.start or 1):
        yield (f"{number}." if block.ordered else bullet), item


class PlainWords(TextInlines):
    """The characters a reader sees, without any formatting; a link shows its label."""

    def text(self, text: str) -> str:
        return text

    def line_break(self) -> str:
        return "\n"

    def code(self, text: str) -> str:
        return text

    def strong(self, inner: str) -> str:
        return inner

    def emphasis(self, inner: str) -> str:
        return inner

    def strike(self, inner: str) -> str:
        return inner

    def link(self, url: str, children: Sequence[Inline]) -> str:
        return self.inlines(children)


_PLAIN_WORDS: Final = PlainWords()


def plain_words(inlines: Sequence[Inline]) -> str:
    """The characters a reader sees, without any formatting (a link shows its label)."""
    return _PLAIN_WORDS.inlines(inlines)
