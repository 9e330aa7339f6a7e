"""A local stand-in for Microsoft Entra ID's OpenID Connect endpoints, at the wire.

It serves what the sign-in uses, at Entra's paths under one tenant: the discovery document,
the signing keys (JWKS), the authorization endpoint and the token endpoint. The authorization
endpoint does what Microsoft does once the person has signed in there: it redirects back with
a one-time code and the state. The token endpoint checks the code, the client's secret, the
redirect URI and the PKCE verifier (S256) as Entra does, and answers with an RS256-signed ID
token carrying the nonce the authorization request sent.

A test picks who signs in (`user`) and can make the next ID token wrong in one way:
`claims` overrides (a wrong `aud`, `iss` or `nonce`, an `exp` in the past; None removes a
claim) or `sign_with_other_key` (a valid-looking token signed with a key the provider does
not publish). `deny` makes the authorization endpoint refuse (access_denied).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

TENANT = "72f988bf-0000-4000-8000-0000000e5d00"
CLIENT_ID = "9d3f0c55-1b1c-4a7e-9f10-evidence-desk"
CLIENT_SECRET = "fake-client-secret-for-tests"
KID = "fake-key-1"


@cache
def signing_key(name: str) -> RSAKey:
    """A 2048-bit RSA key made once per process for each name (the provider's own, "other"):
    a key takes ~0.1 s of CPU to make, and no test needs one that no other test has seen."""
    return RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})


@dataclass
class FakeUser:
    email: str = "jo.bloggs@nhs.net"
    name: str = "Jo Bloggs"
    oid: str = field(default_factory=lambda: f"oid-{secrets.token_hex(8)}")
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    user: FakeUser


@dataclass
class FakeOidcProvider:
    user: FakeUser = field(default_factory=FakeUser)
    #: Overrides for the next ID tokens' claims (None removes the claim).
    claims: dict[str, Any] = field(default_factory=dict)
    sign_with_other_key: bool = False
    deny: bool = False
    server: TestServer | None = None
    #: The query of every authorization request, as the browser brought it.
    authorizations: list[dict[str, str]] = field(default_factory=list)
    #: The form of every token request.
    token_requests: list[dict[str, str]] = field(default_factory=list)
    discovery_fetches: int = 0
    key_fetches: int = 0
    _codes: dict[str, Grant] = field(default_factory=dict)
    _key: RSAKey = field(default_factory=lambda: signing_key("provider"))
    _other_key: RSAKey = field(default_factory=lambda: signing_key("other"))

    @property
    def url(self) -> str:
        assert self.server is not None, "start() the provider first"
        return str(self.server.make_url("")).rstrip("/")

    @property
    def issuer(self) -> str:
        return f"{self.url}/{TENANT}/v2.0"

    def settings_env(self) -> dict[str, str]:
        """The EVIDENCE_DESK_OIDC_* settings that point the server at this provider."""
        return {
            "EVIDENCE_DESK_OIDC_CLIENT_ID": CLIENT_ID,
            "EVIDENCE_DESK_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "EVIDENCE_DESK_OIDC_TENANT": TENANT,
            "EVIDENCE_DESK_OIDC_AUTHORITY": self.url,
        }

    async def start(self) -> None:
        app = web.Application()
        base = f"/{TENANT}"
        app.router.add_get(f"{base}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_get(f"{base}/discovery/v2.0/keys", self._keys)
        app.router.add_get(f"{base}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post(f"{base}/oauth2/v2.0/token", self._token)
        # No access log: its lines (Microsoft's, in real life) are not the server's own log.
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server(access_log=None)

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _discovery(self, request: web.Request) -> web.Response:
        self.discovery_fetches += 1
        base = f"{self.url}/{TENANT}"
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "code_challenge_methods_supported": ["plain", "S256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.key_fetches += 1
        return web.json_response(KeySet([self._key]).as_dict(private=False))

    async def _authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorizations.append(query)
        required = ("client_id", "redirect_uri", "state", "nonce", "code_challenge")
        if (
            query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or any(not query.get(name) for name in required)
            or "openid" not in query.get("scope", "").split()
        ):
            return web.Response(status=400, text="AADSTS900144: a required parameter is missing")
        if query["client_id"] != CLIENT_ID:
            return web.Response(status=400, text="AADSTS700016: application not found")
        if self.deny:
            target = {"error": "access_denied", "state": query["state"]}
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = Grant(
                query["client_id"], query["redirect_uri"], query["nonce"],
                query["code_challenge"], self.user,
            )  # fmt: skip
            target = {"code": code, "state": query["state"]}
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(target)}")

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.token_requests.append(form)
        grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
            or _s256(form.get("code_verifier", "")) != grant.challenge
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": "openid profile email",
                "expires_in": 3600,
                "access_token": secrets.token_urlsafe(32),
                "id_token": self.id_token(grant),
            }
        )

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        user = grant.user
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": f"pairwise-{hashlib.sha256(user.oid.encode()).hexdigest()[:20]}",
            "oid": user.oid,
            "tid": TENANT,
            "email": user.email,
            "preferred_username": user.email,
            "name": user.name,
            "nonce": grant.nonce,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
        }
        if user.roles:
            claims["roles"] = list(user.roles)
        if user.groups:
            claims["groups"] = list(user.groups)
        for name, value in self.claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self._other_key if self.sign_with_other_key else self._key
        return jwt.encode({"alg": "RS256", "kid": KID, "typ": "JWT"}, claims, key)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
