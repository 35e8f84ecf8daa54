"""Translate domain errors once, at the MCP edge.

Tools, resources and prompts each have their own failure channel in the SDK:

- tool: raise `ToolError(message)` -> an `isError` result showing the message
  (the SDK prefixes "Error executing tool <name>: ").
- resource: `ResourceNotFoundError` -> JSON-RPC -32602, `ResourceError` -> -32603,
  both carrying the message.
- prompt: `MCPError(code, message)` passes through as that JSON-RPC error.

A `DomainError` (or an `AuthError`, whose reason is written to be shown)
keeps its message. Anything else is a bug or an outage: it is logged here
with its traceback and an incident id, and the caller sees only
"internal error" and the id, never the exception text.

A team adding tools of its own copies this module's `tool_errors` pattern.
"""

from __future__ import annotations

import functools
import inspect
import logging
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from app.core.errors import AuthError, DomainError, InvalidInput, NotFound
from app.core.principal import peek_principal

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def _incident(surface: str, name: str) -> str:
    incident = secrets.token_hex(6)
    principal = peek_principal()
    logger.exception(
        "item surface crashed",
        extra={"surface": surface, "handler": name, "incident": incident, "principal_id": principal and principal.id},
    )
    return f"internal error (incident {incident}); try again later or report the incident id"


def _sync_only(fn: Callable[..., object]) -> None:
    # The item surfaces are sync on purpose (see tools.py); an async function
    # here would return an un-awaited coroutine past the try block.
    if inspect.iscoroutinefunction(fn):
        raise TypeError(f"{fn.__name__}: the item error wrappers take sync functions")


def tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a sync tool so its failures reach the agent as actionable `isError` results."""
    _sync_only(fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (ToolError, MCPError):
            raise
        except DomainError as exc:
            raise ToolError(str(exc)) from exc
        except AuthError as exc:
            raise ToolError(exc.reason) from exc
        except Exception as exc:
            raise ToolError(_incident("tool", fn.__name__)) from exc

    return wrapper


def resource_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a sync resource function: unknown and foreign items read as "not found"."""
    _sync_only(fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (ResourceError, MCPError):
            raise
        except (NotFound, InvalidInput) as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        except (DomainError, AuthError) as exc:
            raise ResourceError(str(exc)) from exc
        except Exception as exc:
            raise ResourceError(_incident("resource", fn.__name__)) from exc

    return wrapper


def prompt_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a sync prompt function: bad arguments are -32602, the rest -32603."""
    _sync_only(fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except MCPError:
            raise
        except (InvalidInput, NotFound) as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
        except (DomainError, AuthError) as exc:  # StoreUnavailable among them: retryable
            raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from exc
        except Exception as exc:
            raise MCPError(code=INTERNAL_ERROR, message=_incident("prompt", fn.__name__)) from exc

    return wrapper
