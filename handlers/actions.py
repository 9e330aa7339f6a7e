"""The names of a ticket's buttons and forms: what a click or a submitted form means, the same
on every platform.

Adapters carry these strings out on buttons and back in on `UserAction.action`;
`handlers/desk.py` (`EvidenceDesk._dispatch`) maps each one to the step it starts. They live
apart from the code that uses them so that an adapter can name a button without importing the
ticket desk.
"""

from __future__ import annotations

OPEN_REQUEST = "request_open"
SUBMIT_REQUEST = "request_submit"
CLAIM = "ticket_claim"
ASK = "ticket_ask"
SUBMIT_ASK = "ticket_ask_submit"
COMPLETE = "ticket_complete"
SUBMIT_COMPLETE = "ticket_complete_submit"
IMPACT = "ticket_impact"
SUBMIT_IMPACT = "ticket_impact_submit"
NOTE = "ticket_note"
SUBMIT_NOTE = "ticket_note_submit"
UPDATE = "ticket_update"
SUBMIT_UPDATE = "ticket_update_submit"
REASSIGN = "ticket_reassign"
SUBMIT_REASSIGN = "ticket_reassign_submit"
CANCEL = "ticket_cancel"
SUBMIT_CANCEL = "ticket_cancel_submit"
REOPEN = "ticket_reopen"
STRATEGY = "ticket_strategy"
SUBMIT_STRATEGY = "ticket_strategy_submit"
