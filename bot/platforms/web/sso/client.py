"""The OpenID Connect relying party: the authorization code flow with PKCE, state and nonce.

Authlib supplies the protocol pieces (the authorization URL, the PKCE challenge, the ID token's
OpenID claims check) and joserfc, its JOSE library, the signature check; this module fetches
the discovery document, the signing keys (JWKS) and the token with aiohttp, which the server
already runs on (Authlib has no aiohttp client of its own).

An ID token is believed only when its RS256 signature verifies with one of the tenant's keys,
its issuer is the discovery document's, its audience is our client id, it carries the nonce
this browser's sign-in started with, and it has not expired. Anything else is a
`SignInRefused`, whose `reason` is a short code for the log: never the token, never an email.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from bot.config.oidc import OidcSettings

log = logging.getLogger(__name__)

SCOPE: Final = "openid profile email"
#: Clock difference tolerated between us and the identity provider, in seconds.
LEEWAY: Final = 120
METADATA_TTL: Final = 3600.0
#: A token signed with a key we have not seen makes us fetch the keys again, at most this often.
KEY_REFRESH_SECONDS: Final = 60.0
HTTP_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)
ALGORITHMS: Final = ("RS256",)


class SignInRefused(Exception):
    """A sign-in that did not prove who someone is: `reason` is for the log, `message` for
    the person, `status` the HTTP status of the page that says so."""

    def __init__(self, reason: str, message: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


NOT_VERIFIED: Final = (
    "Your sign-in could not be verified. Please try again; if it keeps happening, tell the "
    "library team."
)
UNAVAILABLE: Final = "Microsoft sign-in cannot be reached just now. Please try again shortly."


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what its callback must match (kept in its flow cookie)."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a verified ID token says about the person."""

    issuer: str
    #: Stable for the person in this tenant: Entra's object id (`oid`), else `sub`.
    subject: str
    email: str
    name: str | None
    roles: frozenset[str]
    groups: frozenset[str]

    @property
    def web_user_id(self) -> str:
        """The person's web chat identity: derived from issuer and subject, so it is the same
        at every sign-in and names nobody in the tickets and logs it appears in."""
        digest = hashlib.sha256(f"{self.issuer}\x00{self.subject}".encode()).hexdigest()
        return f"sso-{digest[:24]}"


class OidcClient:
    def __init__(
        self,
        settings: OidcSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._http

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._session().get(url) as response:
                response.raise_for_status()
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("sign-in: could not fetch %s: %s", url, type(exc).__name__)
            raise SignInRefused("provider_unreachable", UNAVAILABLE, 502) from exc
        if not isinstance(body, dict):
            raise SignInRefused("provider_bad_document", UNAVAILABLE, 502)
        return body

    async def metadata(self) -> dict[str, Any]:
        """The tenant's discovery document, fetched once an hour at most."""
        async with self._lock:
            now = self._clock()
            if self._metadata is None or now - self._metadata_at > METADATA_TTL:
                document = await self._get_json(self.settings.discovery_url)
                missing = [
                    k
                    for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                    if not isinstance(document.get(k), str)
                ]
                if missing or "{tenantid}" in document["issuer"]:
                    # A multi-tenant document's issuer cannot be checked against one tenant.
                    log.error("sign-in: the discovery document is not a single tenant's")
                    raise SignInRefused("provider_bad_document", UNAVAILABLE, 502)
                self._metadata, self._metadata_at = document, now
            return self._metadata

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        metadata = await self.metadata()
        async with self._lock:
            now = self._clock()
            stale = refresh and now - self._keys_at > KEY_REFRESH_SECONDS
            if self._keys is None or stale or now - self._keys_at > METADATA_TTL:
                document = await self._get_json(metadata["jwks_uri"])
                try:
                    self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (JoseError, ValueError, KeyError, TypeError) as exc:
                    raise SignInRefused("provider_bad_keys", UNAVAILABLE, 502) from exc
                self._keys_at = now
            return self._keys

    async def authorization(self, redirect_uri: str) -> AuthorizationRequest:
        """A new sign-in: fresh state, nonce and PKCE verifier, and the URL to send the
        browser to."""
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            self.settings.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=SCOPE,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            response_mode="query",
        )
        return AuthorizationRequest(url, state, nonce, verifier)

    async def sign_in(
        self, code: str, redirect_uri: str, verifier: str, nonce: str
    ) -> VerifiedIdentity:
        """Exchange the code for tokens and verify the ID token; the identity it proves."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.get_secret_value(),
            "code_verifier": verifier,
        }
        try:
            async with self._session().post(metadata["token_endpoint"], data=form) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("sign-in: the token endpoint failed: %s", type(exc).__name__)
            raise SignInRefused("token_endpoint_unreachable", UNAVAILABLE, 502) from exc
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            error = body.get("error") if isinstance(body, dict) else None
            log.warning("sign-in: the token endpoint refused the code (%s, %s)", status, error)
            raise SignInRefused("token_refused", NOT_VERIFIED)
        access_token = body.get("access_token")
        claims = await self._verify(
            body["id_token"], str(metadata["issuer"]), nonce,
            access_token if isinstance(access_token, str) else None,
        )  # fmt: skip
        return _identity(claims)

    async def _verify(
        self, id_token: str, issuer: str, nonce: str, access_token: str | None
    ) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), algorithms=list(ALGORITHMS))
            except InvalidKeyIdError:  # the tenant may have rolled its keys over
                token = jwt.decode(
                    id_token, await self._key_set(refresh=True), algorithms=list(ALGORITHMS)
                )
        except (BadSignatureError, InvalidKeyIdError) as exc:
            raise SignInRefused("bad_signature", NOT_VERIFIED) from exc
        except (JoseError, ValueError) as exc:
            raise SignInRefused("malformed_token", NOT_VERIFIED) from exc
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.settings.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": self.settings.client_id},
                "exp": {"essential": True},
            },
            params,
        )
        try:
            claims.validate(now=int(self._clock()), leeway=LEEWAY)
        except ExpiredTokenError as exc:
            raise SignInRefused("expired", NOT_VERIFIED) from exc
        except ClaimError as exc:
            raise SignInRefused(f"claim_{exc.claim}", NOT_VERIFIED) from exc
        except JoseError as exc:
            raise SignInRefused("claims", NOT_VERIFIED) from exc
        return dict(claims)


def _identity(claims: dict[str, Any]) -> VerifiedIdentity:
    email = claims.get("email") or claims.get("preferred_username") or claims.get("upn")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused(
            "no_email", "Your account did not give an email address, so it cannot be used here."
        )
    subject = claims.get("oid") or claims.get("sub")
    name = claims.get("name")
    return VerifiedIdentity(
        issuer=str(claims["iss"]),
        subject=str(subject),
        email=email.strip().lower(),
        name=name if isinstance(name, str) else None,
        roles=_strings(claims.get("roles")),
        groups=frozenset(g.lower() for g in _strings(claims.get("groups"))),
    )


def _strings(value: object) -> frozenset[str]:
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()
