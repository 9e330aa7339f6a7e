"""Who someone is here once the identity provider has vouched for them: an admin of the
console, a knowledge specialist, or a requester.

* Admin: the ID token's `roles` claim has the admin role, its `groups` claim one of the admin
  groups, or the email is on the allow-list; or an account made with `evidence-desk admin add`
  has their email. A deactivated console account is never used (bot/platforms/web/auth.py).
* Specialist: an active specialist in `evidence-desk specialists` has their email. Their web
  chat identity is linked to that specialist (beside their Slack and Teams ones), so what
  they do in the web chat is a specialist's; an identity already set for the web is kept.
* Everyone else is a requester.
"""

from __future__ import annotations

import logging

from bot.config.oidc import OidcSettings
from bot.db.session import Database
from bot.desk.tickets.routing import RoutingService
from bot.platforms.web.auth import REQUESTER, SPECIALIST, AdminAccounts, SignedInPerson
from bot.platforms.web.sso.client import SignInRefused, VerifiedIdentity

log = logging.getLogger(__name__)

WEB = "web"


class SignInPolicy:
    def __init__(self, settings: OidcSettings, db: Database, accounts: AdminAccounts) -> None:
        self.settings = settings
        self._routing = RoutingService(db)
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
        """The web identity of the active specialist with this email (linked now if they had
        none); None if the email is no active specialist's."""
        linked = await self._routing.link_by_email(email, WEB, user_id)
        if linked is not None:
            log.info("sign-in: a specialist signed in (web identity linked)")
        return linked
