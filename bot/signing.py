"""HMAC signatures for what the server hands a client and must get back unchanged.

The web chat's identity cookie and a request form's state (where the ticket's replies go) both
travel through the client. Signing them with a server secret (EVIDENCE_DESK_SECRET_KEY) makes
them unforgeable without keeping anything in server memory, so any replica can check what
another issued. Each use signs under its own purpose, so a value signed for one can never be
replayed as the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SEPARATOR = "."


@dataclass(frozen=True)
class Signer:
    key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str | None) -> Signer:
        """The configured secret; unset, a random key for this process only (logged, because
        then replicas disagree and a restart invalidates what was signed before it)."""
        if secret:
            return cls(secret.encode())
        log.warning(
            "EVIDENCE_DESK_SECRET_KEY is not set; using a random one for this process: web chat "
            "identities and open forms do not survive a restart or move between replicas"
        )
        return cls.random()

    @classmethod
    def random(cls) -> Signer:
        return cls(secrets.token_bytes(32))

    def signature(self, purpose: str, value: str) -> str:
        digest = hmac.new(self.key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify(self, purpose: str, value: str, signature: object) -> bool:
        return isinstance(signature, str) and hmac.compare_digest(
            signature.encode(), self.signature(purpose, value).encode()
        )

    def sign(self, purpose: str, value: str) -> str:
        """`value.signature`: the value stays readable; only its integrity is protected."""
        return f"{value}{SEPARATOR}{self.signature(purpose, value)}"

    def unsign(self, purpose: str, signed: str) -> str | None:
        """The value `sign` was given, or None if `signed` was not made by this key and
        purpose (tampered, forged, unsigned or from another purpose)."""
        value, separator, signature = signed.rpartition(SEPARATOR)
        if not separator or not self.verify(purpose, value, signature):
            return None
        return value
