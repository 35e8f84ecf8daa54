"""Audit records: one structured line per tool call and per task transition, apart from the access log.

The access log (`app.access`) says how each request went, for whoever debugs the
service. The audit log (`app.audit`, every line `log_type: "audit"`) says who did
what, for whoever answers "which caller ran items_delete yesterday, with which
scopes?": one line per `tools/call` (the principal, the tool, the scopes the tool
declares and the caller therefore used, the outcome, the duration, a keyed hash of
the arguments, the task it started) and one per task transition (created, started,
input_required, completed, failed, cancelled), from the API function and the worker.

Argument values never appear unless `MCP_AUDIT_ARGUMENTS=true`: they may hold user
data. `args_hmac` lets an auditor tell identical calls apart from different ones
(a retry from a new request) without the values. It is an HMAC-SHA256, not a plain
hash, because arguments are often short and guessable (an id, a title): a plain
hash of `{"id": "…"}` could be reversed by trying candidates. The key is derived
from the requestState key ring (the same SSM secret every instance shares, so hashes
agree across instances; they change when that key is rotated); without a ring
(local runs) it is a per-process random key.

Client-controlled values (tool names, argument values when configured) pass the
handler's sanitizing filter like every other line: escaped and capped.

`TasksFailed` (EMF, Count, dimension `service`) is printed when a transition ends
`failed` and metrics are on: one standalone document per failure (rare), so the
worker, which flushes no per-invocation metrics, counts its failures too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from app.core.principal import Principal
    from app.tasks.model import TaskRecord

audit_logger = logging.getLogger("app.audit")
logger = logging.getLogger(__name__)

#: The value of `log_type` on every audit line (Logs Insights: `filter log_type = "audit"`).
LOG_TYPE: Final = "audit"
#: Label under which the audit key is derived from the requestState ring.
AUDIT_KEY_LABEL: Final = b"mcp-lambda/audit-arguments/v1"


def _canonical(arguments: Any) -> bytes:
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


class TaskFailureMetric:
    """Prints one EMF `TasksFailed` document (Count 1, dimension service) to `stream` per failed task."""

    def __init__(self, namespace: str, service: str, stream: IO[str] | None = None) -> None:
        self._stream = stream
        # The document is laid out once; only the timestamp changes.
        self._head = json.dumps(
            {
                "_aws": {
                    "Timestamp": 0,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": [["service"]],
                            "Metrics": [{"Name": "TasksFailed", "Unit": "Count", "StorageResolution": 60}],
                        }
                    ],
                },
                "service": service,
                "TasksFailed": 1,
            },
            separators=(",", ":"),
        ).replace('"Timestamp":0', '"Timestamp":{timestamp}', 1)

    def document(self, now_ms: int) -> str:
        return self._head.replace("{timestamp}", str(now_ms), 1)

    def emit(self) -> None:
        stream = self._stream or sys.stdout
        stream.write(self.document(int(time.time() * 1000)) + "\n")
        stream.flush()


class AuditLog:
    """Writes the audit lines. Built once by the composition root; cheap per call when disabled."""

    def __init__(
        self,
        *,
        enabled: bool,
        log_arguments: bool = False,
        keys: Callable[[], Sequence[bytes]] | None = None,
        tool_scopes: Callable[[str], frozenset[str] | None] = lambda _name: None,
        failures: TaskFailureMetric | None = None,
        in_task_run: Callable[[], bool] = lambda: False,
    ) -> None:
        self.enabled = enabled
        self._log_arguments = log_arguments
        self._keys = keys
        self._fallback_key = secrets.token_bytes(32)
        self.tool_scopes = tool_scopes
        self._failures = failures
        #: True while a task's run executes its tool: that call is audited by the task's transitions
        #: (started, completed/failed), not as a second tools/call.
        self.in_task_run = in_task_run
        #: While True (SnapStart priming), nothing is audited: those requests are no caller's, and
        #: hashing their arguments would fetch the key ring into the snapshot.
        self.suspended = False

    def _key(self) -> bytes | None:
        if self._keys is None:
            return self._fallback_key
        try:
            keys = self._keys()
        except Exception:  # noqa: BLE001 - the ring could not load: the line goes out without a hash
            return None
        return keys[0] if keys else None

    def arguments_hmac(self, arguments: Any) -> str | None:
        """HMAC-SHA256 (hex, first 32 chars) of the arguments' canonical JSON; None without a key."""
        key = self._key()
        if key is None:
            return None
        return hmac.new(key, _canonical(arguments if arguments is not None else {}), hashlib.sha256).hexdigest()[:32]

    def tool_call(
        self,
        principal: Principal | None,
        tool: str,
        arguments: Mapping[str, Any] | None,
        *,
        outcome: str,
        error_code: int | None,
        duration_ms: float,
        task_id: str | None = None,
    ) -> None:
        if not self.enabled or self.suspended or self.in_task_run() or not audit_logger.isEnabledFor(logging.INFO):
            return
        declared = self.tool_scopes(tool)
        fields: dict[str, Any] = {
            "log_type": LOG_TYPE,
            "audit_event": "tool_call",
            "principal_id": principal.id if principal is not None else None,
            "principal_kind": principal.kind if principal is not None else None,
            "tool": tool,
            "scopes": sorted(declared) if declared else [],
            "outcome": outcome,
            "error_code": error_code,
            "duration_ms": round(duration_ms, 3),
            "args_hmac": self.arguments_hmac(arguments),
            "task_id": task_id,
        }
        if self._log_arguments:
            fields["arguments"] = arguments
        audit_logger.info("audit tool_call %s: %s", tool, outcome, extra=fields)

    def task_changed(self, before: TaskRecord | None, after: TaskRecord) -> None:
        """A task was created or changed; one line when its status (or its run's claim) changed."""
        if before is None:
            transition = "created"
        elif after.status != before.status:
            transition = after.status
        elif after.claimed_run > before.claimed_run:
            transition = "started"
        else:
            return  # a heartbeat, progress or a renewed window: not a transition
        if after.status == "failed" and self._failures is not None:
            try:
                self._failures.emit()
            except Exception:  # noqa: BLE001 - a metric must never break a task transition
                logger.warning("could not emit the TasksFailed metric", exc_info=True)
        if not self.enabled or not audit_logger.isEnabledFor(logging.INFO):
            return
        declared = self.tool_scopes(after.tool_name)
        duration_ms = (after.updated_at - after.created_at).total_seconds() * 1000.0 if after.terminal else None
        fields: dict[str, Any] = {
            "log_type": LOG_TYPE,
            "audit_event": "task",
            "principal_id": after.owner.principal_id,
            "principal_kind": after.owner.kind,
            "tool": after.tool_name,
            "scopes": sorted(declared) if declared else [],
            "outcome": transition,
            "error_code": (after.error or {}).get("code") if transition == "failed" else None,
            "duration_ms": round(duration_ms, 3) if duration_ms is not None else None,
            "task_id": after.task_id,
            "task_run": after.run,
        }
        audit_logger.info("audit task %s: %s", after.tool_name, transition, extra=fields)
