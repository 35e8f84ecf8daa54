"""Helpers shared by the access-control tests (imported relatively: `from .support import ...`)."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SSMProvider
from mcp.server.auth.middleware.auth_context import get_access_token
from starlette.applications import Starlette
from starlette.routing import Mount

from app.auth.authn import build_authenticator
from app.auth.config import AuthSettings
from app.auth.keyring import digest_hex, generate_key
from app.auth.metadata import metadata_routes
from app.auth.middleware import protect
from app.core.principal import current_principal
from app.transport.config import Settings

ISSUER = "https://issuer.example.com/pool"
RESOURCE = "https://mcp.example.com/mcp"
REGION = "eu-west-1"
ORIGIN = "https://app.example.com"
MCP_BODY = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


class FakeClock:
    """Injected time: tests move it instead of sleeping."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ---------------------------------------------------------------- SSM (moto)


@dataclass
class Ssm:
    client: Any
    provider: SSMProvider
    #: Names of GetParameter calls that reached (moto) SSM.
    calls: list[str] = field(default_factory=list)

    def put(self, name: str, value: str) -> None:
        # The operator's `aws ssm put-parameter`, not the server: botocore would
        # log this request body (the value) at DEBUG, so it is kept out of caplog.
        logging.disable(logging.CRITICAL)
        try:
            self.client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        finally:
            logging.disable(logging.NOTSET)

    def delete(self, name: str) -> None:
        self.client.delete_parameter(Name=name)


class FlakyProvider:
    """Wraps a provider; `down = True` simulates an SSM outage."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.calls = 0

    def get(self, name: str, **kwargs: Any) -> Any:
        self.calls += 1
        if self.down:
            raise parameters.exceptions.GetParameterError("simulated outage")
        return self.inner.get(name, **kwargs)


@dataclass
class ApiKey:
    key_id: str
    key: str

    @property
    def secret(self) -> str:
        return self.key.split("_", 2)[2]


def new_key() -> ApiKey:
    key_id, key = generate_key()
    return ApiKey(key_id, key)


def ring_json(*entries: tuple[ApiKey, dict[str, Any]]) -> str:
    return json.dumps({k.key_id: {"sha256": digest_hex(k.key), **extra} for k, extra in entries})


# ---------------------------------------------------------------- JWT / JWKS


@dataclass
class SigningKeyPair:
    kid: str
    alg: str
    private: Any

    def public_jwk(self, kid: str | None = None) -> dict[str, Any]:
        algo = jwt.algorithms.RSAAlgorithm if self.alg == "RS256" else jwt.algorithms.ECAlgorithm
        jwk = algo.to_jwk(self.private.public_key(), as_dict=True)
        jwk.update(kid=kid or self.kid, use="sig", alg=self.alg)
        return jwk


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid access-token claims; pass name=None to drop one."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "user-123",
        "exp": now + 600,
        "iat": now,
        "scope": "mcp:tools mcp:read",
        # Unique per call: identical tokens would be served from the verified-token cache.
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: SigningKeyPair, payload: dict[str, Any], *, kid: str | None = None) -> str:
    return jwt.encode(payload, key.private, algorithm=key.alg, headers={"kid": kid or key.kid})


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(payload).encode())}.{b64u(signature)}"


class JwksServer:
    """A tiny JWKS endpoint on 127.0.0.1 (real loopback HTTP), counting fetches."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.status = 200
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL nobody listens on (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


def random_kid() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- the app under test


class Recorder:
    """Inner ASGI app standing in for the MCP transport: records who it served."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        principal = current_principal()
        self.calls.append({"principal": principal, "access_token": get_access_token(), "path": scope["path"]})
        body = json.dumps({"principal": principal.id}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"mcp-session-id", b"none")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def auth_settings(**env: str) -> AuthSettings:
    return AuthSettings.from_env(env)


def oauth_env(jwks_url: str, **extra: str) -> dict[str, str]:
    env = {
        "MCP_AUTH_MODE": "oauth",
        "MCP_OAUTH_ISSUER": ISSUER,
        "MCP_OAUTH_JWKS_URL": jwks_url,
        "MCP_OAUTH_AUDIENCE": RESOURCE,
    }
    env.update(extra)
    return env


def build_app(
    auth: AuthSettings,
    *,
    settings: Settings | None = None,
    provider: Any = None,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    jwks_loader: Any = None,
) -> tuple[Any, Recorder, Any]:
    """(protected app, recorder, authenticator) with the test seams injected."""
    settings = settings or Settings(allowed_origins=(ORIGIN,))
    recorder = Recorder()
    authenticator = build_authenticator(
        auth, settings, ssm_provider=provider, jwks_loader=jwks_loader, clock=clock, wall_clock=wall
    )
    # As in the product: the metadata routes beside the protected app (here a recorder behind a catch-all).
    inner = Starlette(routes=[*metadata_routes(settings, auth), Mount("", recorder)])
    return protect(inner, settings, auth, authenticator=authenticator), recorder, authenticator


def client(app: Any, *, root_path: str = "", base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path=root_path), base_url=base_url)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
