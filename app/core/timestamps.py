"""The one timestamp text of the product: ISO 8601 in UTC with milliseconds and a `Z`.

Items and tasks store and show their times in it (it sorts as text and reads in any language),
so both use these two functions rather than each formatting its own.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc(dt: datetime) -> datetime:
    """Refuse naive datetimes: every timestamp in the domain is UTC."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime; use an aware UTC datetime")
    return dt.astimezone(UTC)


def format_timestamp(dt: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`: sorts as text, reads in any language."""
    return utc(dt).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
