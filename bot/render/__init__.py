"""Reply text, parsed once and shown on every platform.

`document` parses the light Markdown of KB answers and replies into a neutral tree (the one
place that decides what is a link and what is markup); `walk` walks that tree once for every
platform, and `html`, `slack`, `teams` and `text` each say only how their platform writes each
kind of node. The adapters call these and add only their own frame
(Block Kit sections, card bodies, the chat page's article).
"""
