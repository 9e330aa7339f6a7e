"""The document as HTML, for the web chat and the admin console's preview.

Every character of text goes through `markupsafe.escape`; the only tags are this module's own,
and the only `href`s are the document's links, which are http(s) or mailto by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

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
)

_EMPTY = Markup("")


def link(url: str, label: str | Markup) -> Markup:
    """An outbound link that does not hand our page to the site it opens; an address that is
    not http(s) or mailto (a source link typed by hand) shows its label alone."""
    if not is_safe_url(url):
        return escape(label)
    return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, label)


def inlines(items: Sequence[Inline]) -> Markup:
    out: list[Markup] = []
    for item in items:
        if isinstance(item, Text):
            out.append(escape(item.text))
        elif isinstance(item, Break):
            out.append(Markup("<br>"))
        elif isinstance(item, Code):
            out.append(Markup("<code>{}</code>").format(item.text))
        elif isinstance(item, Strong):
            out.append(Markup("<strong>{}</strong>").format(inlines(item.children)))
        elif isinstance(item, Emphasis):
            out.append(Markup("<em>{}</em>").format(inlines(item.children)))
        elif isinstance(item, Strike):
            out.append(Markup("<s>{}</s>").format(inlines(item.children)))
        elif isinstance(item, Link):
            out.append(link(item.url, inlines(item.children)))
    return _EMPTY.join(out)


def _item(blocks: Sequence[Block]) -> Markup:
    """A list item that is one paragraph is shown without the paragraph's margins."""
    if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
        return inlines(blocks[0].inlines)
    if blocks and isinstance(blocks[0], Paragraph):
        return inlines(blocks[0].inlines) + _blocks(blocks[1:])
    return _blocks(blocks)


def _blocks(blocks: Sequence[Block]) -> Markup:
    out: list[Markup] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append(Markup("<p>{}</p>").format(inlines(block.inlines)))
        elif isinstance(block, Heading):
            # A heading inside one reply is emphasis, not document structure (the reply's own
            # title is the page's heading at that level).
            out.append(Markup("<p><strong>{}</strong></p>").format(inlines(block.inlines)))
        elif isinstance(block, ListBlock):
            body = _EMPTY.join(Markup("<li>{}</li>").format(_item(i)) for i in block.items)
            if not block.ordered:
                out.append(Markup("<ul>{}</ul>").format(body))
            elif block.start == 1:
                out.append(Markup("<ol>{}</ol>").format(body))
            else:
                out.append(Markup('<ol start="{}">{}</ol>').format(block.start, body))
        elif isinstance(block, Quote):
            out.append(Markup("<blockquote>{}</blockquote>").format(_blocks(block.blocks)))
        elif isinstance(block, CodeBlock):
            out.append(Markup("<pre><code>{}</code></pre>").format(block.text))
        elif isinstance(block, Rule):
            out.append(Markup("<hr>"))
    return _EMPTY.join(out)


def document_html(document: Document) -> Markup:
    return _blocks(document.blocks)


def markdown_html(text: str) -> Markup:
    """Reply text as HTML blocks (paragraphs, lists, quotes)."""
    return document_html(parse(text))


def inline_html(text: str) -> Markup:
    """Short text (a warning, a notice) for inside an element: one paragraph stays bare."""
    document = parse(text)
    single = document.single_paragraph()
    return inlines(single) if single is not None else document_html(document)
