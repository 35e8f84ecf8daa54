"""SnapStart: prime before the snapshot, refresh after every restore.

    hooks.py     SnapStartHooks: before_snapshot / after_restore over what the composition root built
    priming.py   the catalogue of priming requests, lazily imported modules, the throwaway priming key
    registry.py  registration with the runtime's hook registry (`snapshot_restore_py`)

Lambda SnapStart (python3.12+) snapshots the execution environment after
init and restores copies of it. What init leaves behind is shared by every
copy, so:

Before the snapshot (`before_snapshot`), everything a first request would
otherwise pay is done once, for all restores:

* requests through the real app: `initialize`, the list methods (every
  schema built and validated), `ping`, side-effect-free tool calls, and the
  2026-07-28 `server/discover` + `tools/call`. They enter *below* access
  control, so no credential is needed, none is fetched and none is left in
  memory; one more request through the full protected handler, without a
  credential, primes the refusal path (401). Nothing that writes is called.
* modules the first request imports lazily (anyio's asyncio backend, its
  worker threads for the secret fetch, ...);
* the DynamoDB client's first call (`DescribeTable`, read-only): botocore's
  lazy loaders, credentials, endpoint. Optional; a failure is logged, never raised.

Nothing of this is an invocation: no metrics, no X-Ray segment. Secret caches
are emptied last, so the snapshot holds no secret value.

After each restore (`after_restore`):

* the SSM-backed caches (API key ring, requestState keys, JWKS) are
  invalidated (the snapshot may be days old, and the monotonic clock their
  deadlines were computed with does not survive a restore) and fetched again
  right away, inside the restore phase, so the first request pays no fetch.
  A fetch that fails is retried by the first request, which refuses if it fails too.
* a few side-effect-free tool calls run below access control, so the first
  real request finds caches warm again.
* `random` is re-seeded: every copy would otherwise draw the same numbers.
  (`secrets`, `uuid4` and `os.urandom` read the kernel, which Lambda reseeds on
  restore: item ids and key material need nothing.)

Hooks never fire outside Lambda; tests call them directly.
"""

from app.snapstart.hooks import DynamoTable, PrimeReport, SnapStartHooks
from app.snapstart.registry import register, runtime_hooks

__all__ = ["DynamoTable", "PrimeReport", "SnapStartHooks", "register", "runtime_hooks"]
