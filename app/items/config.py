"""Item store configuration, parsed once from the environment.

Like `app.transport.config.Settings`: a frozen value a test builds from a dict.
The cursor signing key is a secret, so on Lambda it is not a setting: the
composition root derives it from the requestState key ring in SSM and passes a
key provider to `build_item_service(cursor_keys=...)` (`with_cursor_keys` sets
static keys, for tests). `ITEMS_CURSOR_KEYS` exists for local runs only and is
refused on Lambda, so the key never ends up in a template or a deployed environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from app.core import env as env_values
from app.core.errors import ConfigurationError
from app.items.cursor import MIN_KEY_BYTES

Backend = Literal["sqlite", "dynamodb"]

#: Environment variables understood by `ItemStoreSettings.from_env`, with their meaning.
ENV_DOC: dict[str, str] = {
    "ITEMS_BACKEND": "Item storage: 'sqlite' (default locally) or 'dynamodb' (default and only choice on Lambda).",
    "ITEMS_SQLITE_PATH": "SQLite file for local runs (default .data/items.sqlite3, created on demand).",
    "ITEMS_TABLE_NAME": "DynamoDB table holding items; required when ITEMS_BACKEND is dynamodb.",
    "ITEMS_CURSOR_KEYS": "Local only: comma-separated cursor signing keys (>= 32 chars each), newest first. "
    "On Lambda the key comes from SSM and is injected by the app; unset locally means a per-process key.",
    "ITEMS_CURSOR_TTL_S": "Lifetime of a pagination cursor in seconds (default 3600).",
    "ITEMS_IDEMPOTENCY_TTL_S": "How long an idempotency key of items_add is remembered, in seconds (default 86400).",
}

DEFAULT_SQLITE_PATH = Path(".data/items.sqlite3")


def _check_keys(keys: tuple[bytes, ...], source: str) -> tuple[bytes, ...]:
    if any(len(key) < MIN_KEY_BYTES for key in keys):
        raise ConfigurationError(f"{source}: every cursor key must be at least {MIN_KEY_BYTES} bytes")
    return keys


@dataclass(frozen=True)
class ItemStoreSettings:
    """Where items live and how cursors are signed. Immutable once built."""

    backend: Backend = "sqlite"
    sqlite_path: Path = DEFAULT_SQLITE_PATH
    table_name: str | None = None
    #: Newest first: the first signs, all verify. Empty: a per-process key
    #: (local only; `build_item_service` refuses it on Lambda).
    cursor_keys: tuple[bytes, ...] = field(default=(), repr=False)
    cursor_ttl_s: int = 3600
    idempotency_ttl_s: int = 86400
    #: True inside AWS Lambda, where state must not live in the function.
    on_lambda: bool = False

    def __post_init__(self) -> None:
        if self.backend not in ("sqlite", "dynamodb"):
            raise ConfigurationError(f"ITEMS_BACKEND must be 'sqlite' or 'dynamodb', got {self.backend!r}")
        if self.backend == "dynamodb" and not self.table_name:
            raise ConfigurationError("ITEMS_TABLE_NAME is required when ITEMS_BACKEND is dynamodb")
        if self.on_lambda and self.backend == "sqlite":
            raise ConfigurationError(
                "ITEMS_BACKEND=sqlite on Lambda would keep items in one instance's /tmp; use dynamodb"
            )
        _check_keys(self.cursor_keys, "cursor keys")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ItemStoreSettings:
        """Parse settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        on_lambda = env_values.on_lambda(env)
        backend = env.get("ITEMS_BACKEND", "").strip() or ("dynamodb" if on_lambda else "sqlite")
        raw_keys = tuple(part.strip() for part in env.get("ITEMS_CURSOR_KEYS", "").split(",") if part.strip())
        if raw_keys and on_lambda:
            raise ConfigurationError(
                "ITEMS_CURSOR_KEYS is for local runs only; on Lambda cursor keys are derived from the "
                "requestState key ring in SSM (MCP_REQUEST_STATE_KEY_PARAM)"
            )
        return cls(
            backend=backend,  # type: ignore[arg-type]  # checked in __post_init__
            sqlite_path=Path(env.get("ITEMS_SQLITE_PATH", "").strip() or DEFAULT_SQLITE_PATH),
            table_name=env.get("ITEMS_TABLE_NAME", "").strip() or None,
            cursor_keys=_check_keys(tuple(key.encode("utf-8") for key in raw_keys), "ITEMS_CURSOR_KEYS"),
            cursor_ttl_s=env_values.positive_int(env, "ITEMS_CURSOR_TTL_S", 3600),
            idempotency_ttl_s=env_values.positive_int(env, "ITEMS_IDEMPOTENCY_TTL_S", 86400),
            on_lambda=on_lambda,
        )

    def with_cursor_keys(self, *keys: bytes) -> ItemStoreSettings:
        """A copy signing cursors with `keys` (newest first), e.g. fetched from SSM."""
        return replace(self, cursor_keys=_check_keys(tuple(keys), "with_cursor_keys"))
