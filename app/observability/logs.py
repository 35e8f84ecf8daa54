"""The app's log output: Powertools JSON on Lambda, plain text elsewhere, correlation fields on both.

Correlation fields travel in two context variables, set once per Lambda
invocation (request ids) and once per MCP request (method, tool, ...), and a
handler filter copies them onto every record the app logs inside that scope.
A context variable is what asyncio copies into each task, so the fields of
one request never show up on another's lines, and setting one costs a
fraction of a microsecond: no per-request `append_keys` on a shared formatter.
Fields passed with `extra=` win over the context's.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import IO, Any, Final

from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from app.core.env import xray_trace_header
from app.observability.config import ObservabilitySettings
from app.observability.sanitize import SanitizingFilter, SdkArgumentFilter, clean_traceback

#: Every logger of the app hangs below this one.
APP_LOGGER: Final = "app"
#: Mangum's one INFO line per HTTP request ("POST /mcp 200"): the access log says more, and API
#: Gateway's access log has every status; on Lambda it is silenced while the access log is on.
MANGUM_LOGGER: Final = "mangum.http"
#: The MCP SDK's loggers (`mcp.server...`, `mcp.shared...`): routed to the app's handler, not the root's.
SDK_LOGGER: Final = "mcp"
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})

#: Lambda request id, API Gateway request id, cold start: one invocation's fields.
invocation_fields: ContextVar[Mapping[str, Any]] = ContextVar("mcp_invocation_fields", default=_EMPTY)
#: JSON-RPC id, method, tool, protocol version, client, principal: one MCP request's fields.
request_fields: ContextVar[Mapping[str, Any]] = ContextVar("mcp_request_fields", default=_EMPTY)

# The LogRecord's own attributes on this Python (3.12 added taskName), and Powertools' reserved names.
_STANDARD_ATTRS: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_NOT_EXTRAS: Final = _STANDARD_ATTRS | frozenset(RESERVED_LOG_ATTRS)


class CorrelationFilter(logging.Filter):
    """Copy the current invocation's and request's fields onto each record (explicit extras win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        for scope in (invocation_fields.get(), request_fields.get()):
            for key, value in scope.items():
                if key not in fields:
                    fields[key] = value
        return True


def _plain_field(value: Any) -> str:
    # A value with a space, quote or '=' is quoted, so it cannot pose as another key=value pair.
    if value.__class__ is str and (" " in value or '"' in value or "=" in value or not value):
        return '"' + value.replace('"', '\\"') + '"'
    return str(value)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...` for a terminal; the traceback, if any, last.

    Every line a record adds after its first (traceback, stack) is indented,
    so only a record's own first line starts at column 0.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = [
            f"{key}={_plain_field(value)}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRS and value is not None
        ]
        if extras:
            line = line + " " + " ".join(extras)
        if record.exc_info:
            line = line + "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line = line + "\n" + _indented(clean_traceback(self.formatStack(record.stack_info)))
        return line

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return _indented(clean_traceback(super().formatException(ei)))


def _indented(text: str) -> str:
    return "  " + text.replace("\n", "\n  ")


class JsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log format, with a fast path for the common record.

    A plain message without exception or stack info (the access log line,
    nearly every app line) is built directly: the same keys in the same
    order as Powertools' `format` (level, location, message, timestamp, the
    formatter's keys, the record's extras, xray_trace_id), in a third of its
    time. It only skips what such a record does not need: exception fields,
    and decoding a message that happens to be JSON text. Everything else goes
    through Powertools' own `format`.
    """

    def __init__(self, settings: ObservabilitySettings) -> None:
        keys: dict[str, Any] = {"service": settings.service, "name": "%(name)s", **dict(settings.function_keys)}
        super().__init__(utc=True, use_rfc3339=True, **keys)
        self._service = settings.service
        self._function_keys = dict(settings.function_keys)
        # Powertools' serializer settings, with the encoder built once instead of per line.
        self._dumps = json.JSONEncoder(default=str, separators=(",", ":"), ensure_ascii=False).encode
        self._second: tuple[int, str] = (-1, "")

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        # JSON escapes the newlines; this bounds the size (an exception message may quote a caller).
        return clean_traceback(super().formatException(ei))

    def _timestamp(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        cached = self._second  # one attribute, so a thread never pairs a second with another's text
        if cached[0] != second:  # one strftime per second, not per line
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        return f"{cached[1]}.{int(record.msecs):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info or not isinstance(record.msg, str):
            return super().format(record)
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage() if record.args else record.msg,
            "timestamp": self._timestamp(record),
            "service": self._service,
            "name": record.name,
            **self._function_keys,
        }
        for key, value in record.__dict__.items():
            if value is not None and key not in _NOT_EXTRAS:
                line[key] = value
        trace = xray_trace_header()
        if trace:
            line["xray_trace_id"] = trace.split(";", 1)[0].replace("Root=", "")
        return self._dumps(line)


class _AppLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs: its own type, so `reset_logging` removes only it."""


#: Whether `configure_logging` quieted Mangum's logger (so `reset_logging` gives it its level back).
_mangum_quieted = False


def reset_logging() -> None:
    """Undo `configure_logging`: the app's and the SDK's loggers propagate to the root again (tests)."""
    for name in (APP_LOGGER, SDK_LOGGER):
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if isinstance(h, _AppLogHandler)]:
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    global _mangum_quieted
    if _mangum_quieted:
        logging.getLogger(MANGUM_LOGGER).setLevel(logging.NOTSET)
        _mangum_quieted = False


def configure_logging(
    settings: ObservabilitySettings, *, stream: IO[str] | None = None, terminal: bool = False
) -> logging.Handler | None:
    """Give the app's and the SDK's loggers their output; a second call replaces the first.

    On Lambda: Powertools' JSON formatter on stdout, not propagated (the
    runtime's root handler would print each line again, as plain text
    without the correlation fields). Elsewhere, with `terminal` (`make run`)
    or an explicit `stream`: plain text, on stderr by default. Otherwise the
    host's configuration is left alone (tests, `make invoke`, an embedding
    app): records propagate to the root logger. Returns the handler
    installed, or None.

    The SDK's loggers (`mcp.*`) share the handler, so their lines carry the
    same format, correlation fields and cleaning; unless
    `MCP_LOG_ARGUMENTS` is on, the caller's data they would quote (a
    failed tool's message) is withheld.
    """
    reset_logging()
    if not settings.on_lambda and stream is None and not terminal:
        return None
    global _mangum_quieted
    handler = _AppLogHandler(stream or (sys.stdout if settings.on_lambda else sys.stderr))
    handler.setFormatter(JsonFormatter(settings) if settings.on_lambda else PlainFormatter())
    if not settings.log_arguments:
        handler.addFilter(SdkArgumentFilter())
    handler.addFilter(CorrelationFilter())
    handler.addFilter(SanitizingFilter(_STANDARD_ATTRS))  # after the correlation fields are copied in
    for name in (APP_LOGGER, SDK_LOGGER):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(settings.log_level)
        logger.propagate = False
    if settings.on_lambda and settings.access_log:
        mangum = logging.getLogger(MANGUM_LOGGER)
        mangum.setLevel(logging.WARNING)
        _mangum_quieted = True
    return handler
