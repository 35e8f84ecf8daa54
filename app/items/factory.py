"""Builds the store and the service from settings. Call once per process
(per Lambda execution environment), never per request: the boto3 client and
the SQLite file handles are meant to be reused."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from app.core.errors import ConfigurationError
from app.items.config import ItemStoreSettings
from app.items.cursor import CursorCodec
from app.items.port import ItemStore
from app.items.service import ItemService

if TYPE_CHECKING:  # boto3/botocore are imported when a DynamoDB client is built (~100+ ms of cold start)
    from botocore.client import BaseClient
    from botocore.config import Config

logger = logging.getLogger(__name__)


def dynamodb_client_config() -> Config:
    """Retries with client-side rate limiting ("adaptive") that back off on
    throttling; short timeouts so a call fails inside API Gateway's 29 s."""
    from botocore.config import Config

    return Config(
        retries={"mode": "adaptive", "max_attempts": 4},
        connect_timeout=2,
        read_timeout=5,
    )


def make_dynamodb_client(**overrides: Any) -> BaseClient:
    """A DynamoDB client; region, credentials and endpoint come from the usual
    AWS chain (`AWS_REGION`, the Lambda role, `AWS_ENDPOINT_URL_DYNAMODB`).
    `overrides` are passed to `boto3.client` (tests point it at moto)."""
    import boto3  # here, not at module level: an SQLite store never loads boto3

    from app.core.dynamodb_integrity import verify_responses

    # A damaged response must read as "busy; retry", never as "not found" (app.core.dynamodb_integrity).
    return verify_responses(boto3.client("dynamodb", config=dynamodb_client_config(), **overrides))


def build_item_store(settings: ItemStoreSettings, *, dynamodb_client: BaseClient | None = None) -> ItemStore:
    if settings.backend == "dynamodb":
        assert settings.table_name is not None  # ItemStoreSettings guarantees it
        from app.items.dynamo_store import DynamoItemStore  # imports botocore

        return DynamoItemStore(dynamodb_client or make_dynamodb_client(), settings.table_name)
    from app.items.sqlite_store import SqliteItemStore  # here: a DynamoDB configuration never loads sqlite3

    return SqliteItemStore(settings.sqlite_path)


def build_cursor_codec(
    settings: ItemStoreSettings, key_provider: Callable[[], Sequence[bytes]] | None = None
) -> CursorCodec:
    """`key_provider` (a rotating ring, e.g. derived from the SSM requestState keys) wins over settings."""
    if key_provider is not None:
        return CursorCodec(key_provider, ttl_s=settings.cursor_ttl_s)
    keys = settings.cursor_keys
    if not keys:
        if settings.on_lambda:
            raise ConfigurationError(
                "no cursor key: on Lambda every instance must sign cursors with the same key; "
                "the composition root derives it from the requestState key ring in SSM (MCP_REQUEST_STATE_KEY_PARAM)"
            )
        # Local default: cursors stop working when the process restarts, which
        # only means "start the listing again".
        logger.info("items cursor key generated for this process only")
        keys = (secrets.token_bytes(32),)
    return CursorCodec(keys, ttl_s=settings.cursor_ttl_s)


def build_item_service(
    settings: ItemStoreSettings,
    *,
    store: ItemStore | None = None,
    cursor_keys: Callable[[], Sequence[bytes]] | None = None,
) -> ItemService:
    """The service the tools call. Pass `store` to reuse one already built."""
    return ItemService(
        store if store is not None else build_item_store(settings),
        build_cursor_codec(settings, cursor_keys),
        idempotency_window=timedelta(seconds=settings.idempotency_ttl_s),
    )
