"""The one error the item store adds to `app.errors`.

`StoreUnavailable` is a `DomainError` so that it reaches the agent as an
`isError` result it can act on ("retry in a moment"), unlike a crash. It
belongs in `app.errors` next to its siblings (proposed there as
`DomainError -> Unavailable`); it lives here only until that file changes.
"""

from __future__ import annotations

from app.errors import DomainError


class StoreUnavailable(DomainError):
    """The store is throttling or briefly unreachable. Safe to retry the same call."""
