"""Keep Slack request and response bodies out of the log.

slack-bolt logs the whole body of a request whose signature check fails, at INFO
(`RequestVerification._debug_log_error`), and the body of a request no listener handled;
slack_sdk logs every Web API call's parameters and response at DEBUG. After a secret is rotated,
or with clock skew, every message people send would go to the log, patient identifiers and all.
The filter here keeps each such line (that it happened is worth knowing) but cuts it where the
payload starts.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["WithholdPayloads", "bolt_logger", "install"]

#: The loggers Bolt and the Slack SDK write payloads to. A logging.Filter applies only to the
#: logger it is added to, not to its children, so each is named.
PAYLOAD_LOGGERS: Final = (
    "slack_bolt.AsyncRequestVerification",
    "slack_bolt.RequestVerification",
    "slack_bolt.AsyncApp",
    "slack_bolt.App",
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.base_client",
    "slack_sdk.socket_mode.aiohttp",
    "slack_sdk.socket_mode.builtin.client",
)
#: Where a payload starts in Bolt's and the SDK's messages: "body: ...", "body_params: ...",
#: "payload: ...", or a dict or JSON object printed inline.
_PAYLOAD_START: Final = re.compile(r"(?:\b(?:body|body_params|payload|message)\s*[:=]|[{\[])", re.I)
WITHHELD: Final = "[payload withheld]"
BOLT_LOGGER: Final = "evidence_desk.slack_bolt"


class WithholdPayloads(logging.Filter):
    """Cut a log record's message where a request or response payload begins."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        found = _PAYLOAD_START.search(message)
        if found is not None:
            record.msg = message[: found.start()] + WITHHELD
            record.args = None
        return True


_FILTER: Final = WithholdPayloads()


def install() -> None:
    """Add the filter to every logger that writes payloads (once; safe to call again)."""
    for name in (*PAYLOAD_LOGGERS, BOLT_LOGGER):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def bolt_logger() -> logging.Logger:
    """The logger to hand to Bolt's app: filtered, and copied by Bolt to the loggers it makes."""
    install()
    return logging.getLogger(BOLT_LOGGER)
