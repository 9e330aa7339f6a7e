"""The document as HTML, for the web chat and the admin console's preview.

Every character of text goes through `markupsafe.escape`; the only tags are this module's own,
and the only `href`s are the document's links, which are http(s) or mailto by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from bot.render.document import Block, Document, Inline, ListBlock, Paragraph, is_safe_url, parse
from bot.render.walk import Blocks, Inlines

_EMPTY = Markup("")


def link(url: str, label: str | Markup) -> Markup:
    """An outbound link that does not hand our page to the site it opens; an address that is
    not http(s) or mailto (a source link typed by hand) shows its label alone."""
    if not is_safe_url(url):
        return escape(label)
    return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, label)


class _Html(Inlines[Markup], Blocks[Markup]):
    def join(self, parts: Sequence[Markup]) -> Markup:
        return _EMPTY.join(parts)

    def text(self, text: str) -> Markup:
        return escape(text)

    def line_break(self) -> Markup:
        return Markup("<br>")

    def code(self, text: str) -> Markup:
        return Markup("<code>{}</code>").format(text)

    def strong(self, inner: Markup) -> Markup:
        return Markup("<strong>{}</strong>").format(inner)

    def emphasis(self, inner: Markup) -> Markup:
        return Markup("<em>{}</em>").format(inner)

    def strike(self, inner: Markup) -> Markup:
        return Markup("<s>{}</s>").format(inner)

    def link(self, url: str, children: Sequence[Inline]) -> Markup:
        return link(url, self.inlines(children))

    def blocks(self, blocks: Sequence[Block]) -> Markup:
        return _EMPTY.join(self.block(block) for block in blocks)

    def paragraph(self, inlines: Sequence[Inline]) -> Markup:
        return Markup("<p>{}</p>").format(self.inlines(inlines))

    def heading(self, inlines: Sequence[Inline]) -> Markup:
        # A heading inside one reply is emphasis, not document structure (the reply's own
        # title is the page's heading at that level).
        return Markup("<p><strong>{}</strong></p>").format(self.inlines(inlines))

    def list_block(self, block: ListBlock) -> Markup:
        body = _EMPTY.join(Markup("<li>{}</li>").format(self._item(i)) for i in block.items)
        if not block.ordered:
            return Markup("<ul>{}</ul>").format(body)
        if block.start == 1:
            return Markup("<ol>{}</ol>").format(body)
        return Markup('<ol start="{}">{}</ol>').format(block.start, body)

    def _item(self, blocks: Sequence[Block]) -> Markup:
        """A list item that is one paragraph is shown without the paragraph's margins."""
        if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
            return self.inlines(blocks[0].inlines)
        if blocks and isinstance(blocks[0], Paragraph):
            return self.inlines(blocks[0].inlines) + self.blocks(blocks[1:])
        return self.blocks(blocks)

    def quote(self, blocks: Sequence[Block]) -> Markup:
        return Markup("<blockquote>{}</blockquote>").format(self.blocks(blocks))

    def code_block(self, text: str) -> Markup:
        return Markup("<pre><code>{}</code></pre>").format(text)

    def rule(self) -> Markup:
        return Markup("<hr>")


_HTML = _Html()


def document_html(document: Document) -> Markup:
    return _HTML.blocks(document.blocks)


def markdown_html(text: str) -> Markup:
    """Reply text as HTML blocks (paragraphs, lists, quotes)."""
    return document_html(parse(text))


def inline_html(text: str) -> Markup:
    """Short text (a warning, a notice) for inside an element: one paragraph stays bare."""
    document = parse(text)
    single = document.single_paragraph()
    return _HTML.inlines(single) if single is not None else document_html(document)
