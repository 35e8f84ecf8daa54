"""Registration of the hooks with the runtime's SnapStart registry."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from app.snapstart.hooks import SnapStartHooks


def runtime_hooks() -> ModuleType | None:
    """The SnapStart hook registry: provided by python3.12+ Lambda runtimes, `snapshot-restore-py` elsewhere."""
    try:
        import snapshot_restore_py
    except ImportError:
        return None
    return snapshot_restore_py


def register(hooks: SnapStartHooks, registry: Any = None) -> bool:
    """Register both hooks; False when no registry exists (a runtime without SnapStart)."""
    registry = registry if registry is not None else runtime_hooks()
    if registry is None:
        return False
    registry.register_before_snapshot(hooks.before_snapshot)
    registry.register_after_restore(hooks.after_restore)
    return True
