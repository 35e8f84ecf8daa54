"""Quota use cases over the `QuotaStore` port. No boto3, mcp or starlette.

Outage policy (`StoreUnavailable` while checking):
- per-window call and creation counters fail OPEN: the counters bound cost
  over a window, a throttled store for a few seconds does not change that
  materially, and refusing every call because a counter write was throttled
  would turn a DynamoDB hiccup into a full outage. Logged (once per outage by
  the adapter's `OutageLog`).
- the working-task cap fails CLOSED ("busy; retry"): it is the bound on
  worker cost, and creating a task writes to the same store anyway, so the
  creation could not succeed in that moment.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from app.core.errors import StoreUnavailable
from app.quotas import model
from app.quotas.config import QuotaSettings
from app.quotas.port import QuotaStore

logger = logging.getLogger(__name__)

_CAS_ATTEMPTS = 20
#: task id -> still working? (the task store's view; False for terminal, lapsed, expired or unknown)
TaskLiveness = Callable[[str, str], bool]


class QuotaService:
    def __init__(
        self,
        store: QuotaStore,
        settings: QuotaSettings,
        *,
        working: TaskLiveness | None = None,
        clock: Callable[[], float] = time.time,
        poll_s: float = 5.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self._working = working or (lambda _p, _t: True)
        self._clock = clock
        self._poll_s = poll_s

    def now(self) -> float:
        return self._clock()

    def _count(self, principal_id: str, counter: str, limit: int, tool: str | None = None) -> None:
        now = self._clock()
        window = model.window_at(now, self.settings.window_s)
        try:
            counted = self.store.increment(principal_id, counter, window, limit)
        except StoreUnavailable:
            return  # fail open (module docstring)
        if not counted:
            name: model.LimitName = "task_creations" if counter == "task_creations" else "tool_calls"
            raise model.window_refusal(name, limit, window, now, tool)

    def check_call(self, principal_id: str, tool: str) -> None:
        """Count one tool call (and its per-tool override); raises `QuotaExceeded` when over."""
        override = self.settings.tool_overrides.get(tool)
        if override is not None:
            self._count(principal_id, f"tool:{tool}", override, tool)
        self._count(principal_id, "tool_calls", self.settings.tool_calls)

    def check_creation(self, principal_id: str) -> None:
        self._count(principal_id, "task_creations", self.settings.task_creations)

    # --- working-task slots -------------------------------------------------------------

    def reserve(self, principal_id: str) -> str:
        """Take a working-task slot for a task about to be created; returns the reservation key.

        Raises `QuotaExceeded` at the cap, `StoreUnavailable` when the store is out (fail closed).
        """
        limit = self.settings.working_tasks
        key = model.RESERVATION_PREFIX + secrets.token_urlsafe(12)
        for _ in range(_CAS_ATTEMPTS):
            now = self._clock()
            stored, version = self.store.read_slots(principal_id)
            slots = model.live_slots(stored, now)
            if len(slots) >= limit:
                # At the cap: believe the task store, not the slots (a dead task gives its slot back here).
                slots = {
                    k: v for k, v in slots.items() if k.startswith(model.RESERVATION_PREFIX) or self._working(principal_id, k)
                }
                if len(slots) >= limit:
                    if slots != stored:
                        self.store.write_slots(principal_id, slots, version)  # tidy; losing this race is harmless
                    raise model.working_refusal(limit, slots, now, self._poll_s)
            slots[key] = now + model.RESERVATION_S
            if self.store.write_slots(principal_id, slots, version):
                return key
        raise StoreUnavailable("the quota store is busy; retry the same call in a moment")

    def bind(self, principal_id: str, reservation: str, task_id: str | None, expires_at: float) -> None:
        """Turn the reservation into the created task's slot (or give it back: `task_id` None). Best effort:
        a reservation that is never bound lapses after `RESERVATION_S`."""
        for _ in range(_CAS_ATTEMPTS):
            try:
                stored, version = self.store.read_slots(principal_id)
                slots = model.live_slots(stored, self._clock())
                slots.pop(reservation, None)
                if task_id is not None:
                    slots[task_id] = expires_at
                if self.store.write_slots(principal_id, slots, version):
                    return
            except StoreUnavailable:
                return
        logger.warning("quota slot not rebound; it lapses on its own")
