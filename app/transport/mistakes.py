"""A client's mistake is a `-32602` naming what was wrong, never a logged crash.

The MCP SDK reports some client mistakes as plain exceptions, which the
exchange would otherwise answer `-32603 Internal error` and log with a
traceback:

- `prompts/get` of an unknown prompt, or without a required argument:
  `MCPServer.get_prompt` raises `ValueError("Unknown prompt: …")` /
  `ValueError("Missing required arguments: …")`;
- a prompt argument its function refuses (pydantic `validate_call`): a
  `ValueError` whose cause chain holds the `ValidationError`;
- `completion/complete` naming a prompt or resource template that does not
  exist is answered with an empty completion, where the spec (2025-11-25,
  completion, "Error Handling") asks for `-32602`.

`ClientMistakeGuard` checks those requests against the server's public
listings *before* the handler runs, and translates the prompt-argument
validation failure it cannot see in advance. `error_data` is the one
exception-to-wire mapping (the exchange's replies, a failed task's stored
error, the access log's outcome code): the SDK's own, plus the names of the
fields a malformed request got wrong (never their values).

Only SDK types and SDK behaviour are known here, never a product's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, ErrorData
from pydantic import ValidationError

#: Client-supplied text echoed in an error is cut to this many characters (a
#: 1 MB prompt name must not come back as a 1 MB error).
ECHO_MAX_CHARS: Final = 200
#: At most this many field names in one "Invalid request parameters" message.
FIELDS_MAX: Final = 5


def echo(value: object) -> str:
    """Client-supplied text as it may appear in an error message: capped."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= ECHO_MAX_CHARS else text[:ECHO_MAX_CHARS] + "…"


def _field_names(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for err in errors:
        name = echo(".".join(str(part) for part in err.get("loc", ())) or "params")
        if name not in names:
            names.append(name)
    return names


#: A server bug on the wire: no detail (whoever caught it logs the traceback).
INTERNAL: Final = ErrorData(code=INTERNAL_ERROR, message="Internal error")


def error_data(exc: BaseException) -> ErrorData | None:
    """The wire error for a handler's exception, or None for a server bug (use `INTERNAL`).

    As the SDK's `handler_exception_to_error_data`, except that a malformed
    request's `-32602` names the fields it got wrong (locations only: the
    rejected values are the caller's data).
    """
    error = handler_exception_to_error_data(exc)
    if error is not None and isinstance(exc, ValidationError):
        names = _field_names(exc.errors(include_url=False, include_input=False))
        if names:
            shown = ", ".join(names[:FIELDS_MAX]) + (", …" if len(names) > FIELDS_MAX else "")
            error = ErrorData(code=error.code, message=f"{error.message}: {shown}", data=error.data)
    return error


def _mistake(message: str, **data: Any) -> MCPError:
    return MCPError(code=INVALID_PARAMS, message=message, data=data)


def _validation_error_in_chain(exc: BaseException) -> ValidationError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ValidationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class ClientMistakeGuard:
    """Server middleware: unknown prompts, prompt arguments and completion refs answer `-32602`.

    Reads only `MCPServer`'s public listings (`list_prompts`,
    `list_resource_templates`, `list_resources`), on the requests that need
    them; every other request passes straight through.
    """

    def __init__(self, server: MCPServer[Any]) -> None:
        self._server = server

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "prompts/get":
            return await self._get_prompt(ctx, call_next)
        if ctx.method == "completion/complete":
            await self._check_completion_ref(ctx.params)
        return await call_next(ctx)

    async def _prompt_arguments(self, name: str) -> dict[str, bool] | None:
        """Argument name -> required, or None when there is no such prompt."""
        for prompt in await self._server.list_prompts():
            if prompt.name == name:
                return {arg.name: bool(arg.required) for arg in prompt.arguments or ()}
        return None

    async def _get_prompt(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params or {}
        name = params.get("name")
        arguments = params.get("arguments")
        if not isinstance(name, str) or not (arguments is None or isinstance(arguments, Mapping)):
            return await call_next(ctx)  # malformed: the SDK's params validation answers -32602
        declared = await self._prompt_arguments(name)
        if declared is None:
            raise _mistake(f"Unknown prompt: {echo(name)}", name=echo(name))
        given = arguments or {}
        missing = sorted(arg for arg, required in declared.items() if required and arg not in given)
        if missing:
            raise _mistake(
                f"Prompt {echo(name)!r} is missing required argument(s): {', '.join(missing)}",
                name=echo(name),
                missing=missing,
            )
        unknown = sorted(echo(arg) for arg in given if arg not in declared)
        if unknown:
            raise _mistake(
                f"Prompt {echo(name)!r} has no argument(s): {', '.join(unknown[:FIELDS_MAX])}",
                name=echo(name),
                unknown=unknown[:FIELDS_MAX],
            )
        try:
            return await call_next(ctx)
        except ValueError as exc:
            # MCPServer wraps the prompt function's argument validation (pydantic
            # `validate_call`) in ValueErrors. Only failures located at a declared
            # argument are the caller's; anything else stays a server error.
            invalid = _validation_error_in_chain(exc)
            if invalid is None:
                raise
            bad = _field_names(invalid.errors(include_url=False, include_input=False))
            if not bad or any(field.split(".", 1)[0] not in declared for field in bad):
                raise
            raise _mistake(
                f"Invalid argument(s) for prompt {echo(name)!r}: {', '.join(bad[:FIELDS_MAX])}",
                name=echo(name),
                invalid=bad[:FIELDS_MAX],
            ) from exc

    async def _check_completion_ref(self, params: Mapping[str, Any] | None) -> None:
        ref = (params or {}).get("ref")
        argument = (params or {}).get("argument")
        if not isinstance(ref, Mapping):
            return  # malformed: the SDK's params validation answers -32602
        kind = ref.get("type")
        if kind == "ref/prompt" and isinstance(name := ref.get("name"), str):
            declared = await self._prompt_arguments(name)
            if declared is None:
                raise _mistake(f"Unknown prompt: {echo(name)}", name=echo(name))
            arg_name = argument.get("name") if isinstance(argument, Mapping) else None
            if isinstance(arg_name, str) and arg_name not in declared:
                raise _mistake(
                    f"Prompt {echo(name)!r} has no argument {echo(arg_name)!r}",
                    name=echo(name),
                    argument=echo(arg_name),
                )
        elif kind == "ref/resource" and isinstance(uri := ref.get("uri"), str):
            templates = {t.uri_template for t in await self._server.list_resource_templates()}
            if uri not in templates and uri not in {str(r.uri) for r in await self._server.list_resources()}:
                raise _mistake(f"Unknown resource template: {echo(uri)}", uri=echo(uri))
