"""The impact questions a requester answers after the evidence is delivered: did it help, how
was it used, how much time did it save.

Asked by the button on the completion message (handlers/specialist.py); the answers are stored
by `TicketService.record_impact` and add up in the monthly report (bot/desk/tickets/report.py),
which is how the library shows the difference it makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.desk.tickets.service import TicketService
from bot.desk.tickets.values import Actor, ImpactAnswers, ImpactUse, Person
from bot.errors import UserFacingError
from bot.messages import Choice, Form, FormField, Intent, Outcome, Reply
from handlers.actions import SUBMIT_IMPACT

IMPACT_USES: tuple[Choice, ...] = (
    Choice(ImpactUse.PATIENT_CARE_DECISION.value, "A decision about a patient's care"),
    Choice(ImpactUse.SERVICE_CHANGE.value, "A change to a service or pathway"),
    Choice(ImpactUse.TEACHING.value, "Teaching or learning"),
    Choice(ImpactUse.RESEARCH.value, "Research or audit"),
    Choice(ImpactUse.POLICY.value, "A policy or guideline"),
    Choice(ImpactUse.OTHER.value, "Something else"),
)


class ImpactQuestions:
    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    def impact_form(self, reference: str) -> Form:
        return Form(
            form_id=SUBMIT_IMPACT,
            title=f"How did {reference} help?",
            submit_label="Send",
            fields=(
                FormField(
                    "helped",
                    "Did the evidence help?",
                    "choice",
                    True,
                    choices=(Choice("yes", "Yes"), Choice("no", "No")),
                ),
                FormField(
                    "how_used", "How did you use it?", "multichoice", False, choices=IMPACT_USES
                ),
                FormField(
                    "time_saved_hours",
                    "Roughly how many hours did it save you?",
                    "text",
                    False,
                    max_length=10,
                ),
                FormField("comment", "Anything else?", "textarea", False, max_length=1000),
            ),
            state=reference,
        )

    async def record_impact(
        self, reference: str, person: Person, values: Mapping[str, str]
    ) -> Outcome:
        """Store the requester's answers; only the person who asked may give them."""
        helped = values.get("helped")
        hours_raw = (values.get("time_saved_hours") or "").strip()
        errors: dict[str, str] = {}
        if helped not in {"yes", "no"}:
            errors["helped"] = "Please choose yes or no."
        hours: float | None = None
        if hours_raw:
            try:
                hours = float(hours_raw)
                if hours < 0 or hours > 1000:
                    raise ValueError
            except ValueError:
                errors["time_saved_hours"] = "Please give a number of hours, like 2 or 1.5."
        uses = {u for u in (values.get("how_used") or "").split(",") if u}
        if not uses <= {c.value for c in IMPACT_USES}:
            errors["how_used"] = "Please choose from the list."
        if errors:  # shown again with what the person chose, so nothing is lost
            return Outcome(form=_refilled(self.impact_form(reference), values, errors))
        ticket = await self.tickets.get(reference)
        if ticket.requester != Person(
            person.platform, person.user_id, ticket.requester.display_name
        ):
            raise UserFacingError(
                "Only the person who asked for this search can answer these questions."
            )
        await self.tickets.record_impact(
            reference,
            ImpactAnswers(
                respondent=Actor.person(person.platform, person.user_id),
                helped=helped == "yes",
                how_used=frozenset(ImpactUse(u) for u in uses),
                time_saved_hours=hours,
                comment=(values.get("comment") or "").strip() or None,
            ),
        )
        return Outcome(
            reply=Reply(
                text="Thank you, that helps the library show the difference it makes.",
                intent=Intent.SMALLTALK,
                ephemeral=True,
            )
        )


def _refilled(form: Form, values: Mapping[str, str], errors: Mapping[str, str]) -> Form:
    """The form again with the person's answers in it and the errors beside them."""
    fields = tuple(replace(f, value=values.get(f.name, f.value)) for f in form.fields)
    return replace(form, fields=fields, errors=tuple(errors.items()))
