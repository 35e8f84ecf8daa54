"""Local entry points: `make run` (local), `make invoke` (invoke), `make stdio` (stdio)."""
