"""The quota model: fixed windows, working-task slots and the refusal a caller sees. Pure: no I/O.

Windows are fixed and aligned to the epoch (`window_start = now - now % window_s`):
one counter per (principal, limit, window), incremented by a conditional atomic
write that refuses once the counter reached the limit. A burst at a window's
edge can see up to 2x the limit across two adjacent windows; that is the
price of one write per call (a sliding log would cost a read and a write).

Working-task slots: a principal holds at most N slots; a slot is a task id
(or a short-lived reservation while the task is being created) with an
expiry. Slots are never trusted blindly: when a principal is at its cap, each
held task is looked up in the task store and the ones no longer working
(terminal, lapsed, expired, gone) are dropped. So a task that died without
anyone releasing its slot gives it back at the next creation attempt: no leak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

LimitName = Literal["tool_calls", "task_creations", "working_tasks"]

#: A reservation taken before the task exists; becomes the task id once created.
RESERVATION_PREFIX: Final = "reservation:"
#: How long a reservation lives if its creator died before binding or releasing it.
RESERVATION_S: Final = 60.0


@dataclass(frozen=True)
class Window:
    """One fixed window: [start, start + length)."""

    start: int
    length: int

    @property
    def resets_at(self) -> int:
        return self.start + self.length


def window_at(now_s: float, length_s: int) -> Window:
    start = int(now_s) - int(now_s) % length_s
    return Window(start, length_s)


@dataclass(eq=False)  # not frozen: raising sets __traceback__
class QuotaExceeded(Exception):
    """A refusal: which limit, its value, when it resets (epoch s), and how long to wait."""

    limit_name: LimitName
    limit: int
    resets_at: float
    retry_after_s: int
    #: The tool whose own override applied (None: the principal-wide limit).
    tool: str | None = None

    @property
    def message(self) -> str:
        what = {
            "tool_calls": f"tool calls per window{f' for {self.tool}' if self.tool else ''}",
            "task_creations": "task creations per window",
            "working_tasks": "tasks working at once",
        }[self.limit_name]
        return (
            f"quota exceeded: {what} (limit {self.limit}); "
            f"retry after {self.retry_after_s} s"
        )

    def data(self) -> dict[str, object]:
        data: dict[str, object] = {
            "quota": self.limit_name,
            "limit": self.limit,
            "resets_at": _iso(self.resets_at),
            "retry_after_s": self.retry_after_s,
        }
        if self.tool is not None:
            data["tool"] = self.tool
        return data


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_refusal(name: LimitName, limit: int, window: Window, now_s: float, tool: str | None = None) -> QuotaExceeded:
    return QuotaExceeded(name, limit, window.resets_at, max(1, math.ceil(window.resets_at - now_s)), tool)


def live_slots(slots: dict[str, float], now_s: float) -> dict[str, float]:
    """Slots whose expiry has not passed."""
    return {key: expiry for key, expiry in slots.items() if expiry > now_s}


def working_refusal(limit: int, slots: dict[str, float], now_s: float, poll_s: float) -> QuotaExceeded:
    """At the cap: the earliest a slot can come back is unknown (tasks end when they end); the
    hint is the sooner of the earliest slot expiry and one poll interval, at least 1 s."""
    earliest = min(slots.values(), default=now_s + poll_s)
    wait = max(1, math.ceil(min(earliest - now_s, poll_s)))
    return QuotaExceeded("working_tasks", limit, now_s + wait, wait)
