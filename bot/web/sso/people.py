"""Who someone is here once the identity provider has vouched for them: an admin of the
console, a knowledge specialist, or a requester.

* Admin: the ID token's `roles` claim has the admin role, its `groups` claim one of the admin
  groups, or the email is on the allow-list; or an account made with `evidence-desk admin add`
  has their email. A deactivated console account is never used (bot/web/auth.py).
* Specialist: an active specialist in `evidence-desk specialists` has their email. Their web
  chat identity is linked to that specialist (beside their Slack and Teams ones), so what
  they do in the web chat is a specialist's; an identity already set for the web is kept.
* Everyone else is a requester.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db.models import Specialist, SpecialistIdentity
from bot.db.session import Database
from bot.web.auth import REQUESTER, SPECIALIST, AdminAccounts, SignedInPerson
from bot.web.sso.client import SignInRefused, VerifiedIdentity
from bot.web.sso.config import OidcSettings

log = logging.getLogger(__name__)

WEB = "web"


class SignInPolicy:
    def __init__(self, settings: OidcSettings, db: Database, accounts: AdminAccounts) -> None:
        self.settings = settings
        self._db = db
        self._accounts = accounts

    def check_domain(self, email: str) -> None:
        domains = self.settings.domains
        if domains and email.rpartition("@")[2] not in domains:
            raise SignInRefused(
                "domain_not_allowed",
                "Accounts from your organisation cannot sign in to this service. Sign in with "
                "your " + " or ".join(sorted(f"@{d}" for d in domains)) + " account.",
                403,
            )

    def admin_granted(self, identity: VerifiedIdentity) -> bool:
        settings = self.settings
        return (
            bool(settings.admin_role and settings.admin_role in identity.roles)
            or bool(settings.admin_group_ids & identity.groups)
            or identity.email in settings.admin_email_list
        )

    async def person(self, identity: VerifiedIdentity) -> SignedInPerson:
        self.check_domain(identity.email)
        admin = await self._accounts.for_sign_in(identity.email, self.admin_granted(identity))
        linked = await self.specialist_identity(identity.email, identity.web_user_id)
        return SignedInPerson(
            user_id=linked or identity.web_user_id,
            email=identity.email,
            role=SPECIALIST if linked else REQUESTER,
            admin=admin,
        )

    async def specialist_identity(self, email: str, user_id: str) -> str | None:
        """The web identity of the active specialist with this email, linking `user_id` to
        them if they have none yet; None if the email is no active specialist's."""
        for _ in range(2):  # once more if a parallel sign-in linked it first
            try:
                async with self._db.transaction() as session:
                    specialist = await session.scalar(
                        select(Specialist)
                        .where(
                            func.lower(Specialist.email) == email, Specialist.is_active.is_(True)
                        )
                        .order_by(Specialist.id)
                        .limit(1)
                    )
                    if specialist is None:
                        return None
                    for known in specialist.identities:
                        if known.platform == WEB:
                            return known.user_id
                    session.add(
                        SpecialistIdentity(
                            specialist_id=specialist.id, platform=WEB, user_id=user_id
                        )
                    )
                    await session.flush()
                    log.info("sign-in: linked a web identity to specialist %s", specialist.id)
                    return user_id
            except IntegrityError:
                continue
        # The identity belongs to another specialist (two specialists share an email).
        log.warning("sign-in: a web identity is already another specialist's; not linked")
        return None
