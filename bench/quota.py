"""Cost of the quota check per tool call on the warm path, per store: `python -m bench.quota`.

Times `QuotaService.check_call` (one conditional counter write, as every
`tools/call` pays it) against SQLite on a temporary file and against DynamoDB
on a loopback moto server, after a warm-up; prints the median and p90 in µs.
The limit is set out of reach so every call is counted (the refusal path is
the same write). The moto figure is an emulator's: it shows the client-side
cost plus a loopback HTTP round trip, not DynamoDB's latency (single-digit ms).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from app.quotas.config import QuotaSettings
from app.quotas.service import QuotaService
from bench import aws


def _time(service: QuotaService, calls: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        service.check_call("bench", "echo")
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        service.check_call("bench", "echo")
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def _report(name: str, samples: list[float]) -> None:
    samples.sort()
    p90 = samples[int(len(samples) * 0.9)]
    print(f"{name:10s} median {statistics.median(samples):8.1f} us   p90 {p90:8.1f} us   ({len(samples)} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quota", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    settings = QuotaSettings(window_s=86400, tool_calls=10**9, tool_overrides={})
    with tempfile.TemporaryDirectory() as tmp:
        from app.quotas.sqlite_store import SqliteQuotaStore

        store = SqliteQuotaStore(Path(tmp) / "items.sqlite3")
        _report("sqlite", _time(QuotaService(store, settings), args.calls, args.warmup))
        store.close()
    from app.items.dynamo_store import table_definition
    from app.items.factory import make_dynamodb_client
    from app.quotas.dynamo_store import DynamoQuotaStore

    with aws.moto_server() as endpoint, aws.environ({**aws.CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}):
        table = f"mcp-bench-quota-{uuid.uuid4().hex[:8]}"
        client = make_dynamodb_client()  # the app's own client configuration
        client.create_table(**table_definition(table))
        _report("dynamodb", _time(QuotaService(DynamoQuotaStore(client, table), settings), args.calls, args.warmup))


if __name__ == "__main__":
    main()
