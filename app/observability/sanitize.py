"""Client-supplied text cannot forge or flood a log line.

Ids, method, tool, prompt and client names, resource URIs, error messages:
much of what a log line carries came from the caller. `SanitizingFilter`,
installed on the app's log handler (both formats, and the SDK's loggers
routed to it), cleans every record once, before any formatter sees it, so a
call site added tomorrow is covered too:

* Characters that are not printable (newline, carriage return, escape
  sequences, NEL, U+2028, ...) are written as backslash escapes, so one
  record is one line on a terminal as in CloudWatch.
* Each value is capped (`MAX_VALUE` characters, the message `MAX_MESSAGE`)
  with a marker telling the original length: a 1,000,000-character id
  costs a 200-character field, not a 1 MB line.

The common record (short, printable strings, numbers) costs one
`isprintable()` and one `len()` per string: no copy, no regex.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

#: Longest client-suppliable value kept in a log field or message argument.
MAX_VALUE: Final = 200
#: Longest message (it may hold several values, or an f-string's text).
MAX_MESSAGE: Final = 2000
#: Longest structured value (dict or list, e.g. opted-in tool arguments), as JSON text.
MAX_STRUCTURE: Final = 2000
#: Longest line of a traceback, and longest traceback.
MAX_TRACEBACK_LINE: Final = 1000
MAX_TRACEBACK: Final = 20_000
#: Integers wider than this many bits are logged as a size, not as digits.
_MAX_INT_BITS: Final = 256

_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SCALARS: Final = (bool, float, type(None))


def _escape(char: str) -> str:
    known = _ESCAPES.get(char)
    if known is not None:
        return known
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean_text(text: str, limit: int = MAX_VALUE) -> str:
    """`text` on one line, non-printable characters escaped, at most `limit` characters plus a marker."""
    if len(text) <= limit and text.isprintable():
        return text
    head = text[:limit]
    if not head.isprintable():
        head = "".join(char if char.isprintable() else _escape(char) for char in head)[:limit]
    if len(text) > limit:
        head = f"{head}…[truncated, {len(text)} chars]"
    return head


def clean_value(value: Any, limit: int = MAX_VALUE) -> Any:
    """A log field's value made safe: text cleaned, huge numbers and structures bounded."""
    cls = value.__class__
    if cls is str:
        return value if len(value) <= limit and value.isprintable() else clean_text(value, limit)
    if cls in _SCALARS:
        return value
    if cls is int:
        return value if value.bit_length() <= _MAX_INT_BITS else f"<integer of {value.bit_length()} bits>"
    if cls in (dict, list, tuple):
        try:
            text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return clean_text(repr(value), MAX_STRUCTURE)
        # json escapes C0 controls; non-printable non-ASCII (U+2028, NEL) and size are checked here.
        if len(text) <= MAX_STRUCTURE and text.isprintable():
            return value
        return clean_text(text, MAX_STRUCTURE)
    if isinstance(value, str):  # str subclasses (enums): plain text from here on
        return clean_text(str.__str__(value), limit)
    if isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return clean_value(int(value), limit)
    return clean_text(str(value), limit)


def clean_traceback(text: str) -> str:
    """A traceback with each line escaped and capped, and the whole capped; newlines kept (they are ours)."""
    if len(text) > MAX_TRACEBACK:
        text = text[:MAX_TRACEBACK] + f"\n…[traceback truncated, {len(text)} chars]"
    return "\n".join(clean_text(line, MAX_TRACEBACK_LINE) for line in text.split("\n"))


class SanitizingFilter(logging.Filter):
    """Clean each record's message, arguments and extra fields in place. Never drops a record."""

    def __init__(self, standard_attrs: frozenset[str]) -> None:
        super().__init__()
        self._standard = standard_attrs

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        for key in fields.keys() - self._standard:  # a set difference in C: only the extra fields remain
            value = fields[key]
            cls = value.__class__
            if cls is str:
                if len(value) <= MAX_VALUE and value.isprintable():
                    continue
            elif cls in _SCALARS or (cls is int and value.bit_length() <= _MAX_INT_BITS):
                continue
            cleaned = clean_value(value)
            if cleaned is not value:
                fields[key] = cleaned
        args = record.args
        if args:
            if args.__class__ is not tuple:
                return self._format_now(record)
            dirty = False
            for arg in args:
                cls = arg.__class__
                if cls is str:
                    if len(arg) > MAX_VALUE or not arg.isprintable():
                        dirty = True
                elif not (cls in _SCALARS or (cls is int and arg.bit_length() <= _MAX_INT_BITS)):
                    return self._format_now(record)
            if dirty:
                record.args = tuple(clean_text(arg) if arg.__class__ is str else arg for arg in args)
        msg = record.msg
        if msg.__class__ is str:
            if len(msg) > MAX_MESSAGE or not msg.isprintable():
                record.msg = clean_text(msg, MAX_MESSAGE)
        elif isinstance(msg, (dict, list)):
            record.msg = clean_value(msg)
        else:
            record.msg = clean_text(str(msg), MAX_MESSAGE)
        return True

    @staticmethod
    def _format_now(record: logging.LogRecord) -> bool:
        # Arguments whose str/repr we cannot vouch for: format once here, then clean the result.
        record.msg = clean_text(_message(record), MAX_MESSAGE)
        record.args = ()
        return True


#: The SDK's log templates that quote the caller's data, and which argument does (mcp 2.3,
#: `mcp.server.mcpserver.server`): a failed tool's or resource's message, which may echo
#: the arguments. A test fails if a template changes, so a new SDK cannot quietly bring values back.
SDK_ARGUMENT_TEMPLATES: Final = {"Tool %r failed: %r": 1, "Resource %r failed: %r": 1}
WITHHELD: Final = "<withheld: MCP_LOG_ARGUMENTS is off>"


class SdkArgumentFilter(logging.Filter):
    """Withhold the caller's data the SDK's own lines would quote (installed while arguments are not logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        position = SDK_ARGUMENT_TEMPLATES.get(record.msg) if record.msg.__class__ is str else None
        if position is not None and record.name.startswith("mcp.") and isinstance(record.args, tuple):
            args = list(record.args)
            if position < len(args):
                args[position] = WITHHELD
                record.args = tuple(args)
        return True


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format call must not lose the record
        return f"{record.msg} (arguments could not be formatted)"
