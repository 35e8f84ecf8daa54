"""Entry points besides Lambda's: `make run` (local), `make invoke` (invoke), `make stdio` (stdio),
and the operator's `python -m app.dev.keygen` (keygen)."""
