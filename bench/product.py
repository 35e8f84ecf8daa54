"""Cases of the product itself: importing this module registers them all, in the report's order.

Registered from `bench.cases`. Unlike `bench.apps`, nothing here builds a
handler at import: these cases are measured warm in-process (factories), in
a child process of their own (`bench.snapstart`), or cold in fresh processes
(`product-deployed`), never as cold imports of a bench module.

- `project-auth`        the `project` handler plus access control only:
                        `create_lambda_handler(server, settings, wrap=protect)`, a local dev key.
- `project-auth-ring`   the same with an API key checked against a cached key ring (file loader:
                        the same `RefreshingCache` and `KeyRing.verify` as the SSM ring on Lambda).
                        Both in `bench.product_auth`.
- `product`             `build_product(...).lambda_handler()`, local configuration:
                        auth + the observability middleware (logging off), every tool registered.
- `product-read-only`   the same with an API key holding only items:read (scope checks, filtered tools/list).
- `product-prod`        the same in the production configuration on Lambda: observability as on
                        Lambda (JSON access log, EMF metrics; tracing off: no X-Ray daemon), logs
                        and EMF written to /dev/null. Only the Lambda-only *secrets* differ: a
                        local dev key instead of the SSM key ring (a cached ring costs the same,
                        see `project-auth-ring`). These three in `bench.product_configs`.
- `items-sqlite`, `items-dynamodb`
                        the item tools through the product's Lambda handler (local configuration),
                        on an SQLite temp file / on DynamoDB emulated by moto (separate process,
                        127.0.0.1): `bench.product_items`.
- `tasks-sqlite`        MCP Tasks through the product's Lambda handler on SQLite: task creation and
                        tasks/get beside a plain tools/call (the worker's invoke answered in-process):
                        `bench.product_tasks`.
- `restore`, `restore-ssm`
                        the first request after a simulated SnapStart restore (`bench.snapstart`),
                        dev key / API key ring in SSM (moto): `bench.product_restore`.
- `product-deployed`    `handler.py` as deployed, cold only, AWS emulated by moto: `bench.product_deployed`.

What they share (dev key, Lambda-like observability, handler builders, temp dirs, the counting
/dev/null `Sink`) is in `bench.product_setup`; `Sink` is importable from here too (`bench.snapstart`).
"""

from __future__ import annotations

import importlib

from bench.product_setup import Sink

#: The modules that register the product's cases, in the order of `bench.cases.CASES` (the default `--cases`,
#: the report's rows): a tuple, so that no import sorter can reorder them.
CASE_MODULES = (
    "bench.product_auth",
    "bench.product_configs",
    "bench.product_items",
    "bench.product_tasks",
    "bench.product_restore",
    "bench.product_deployed",
)

for _module in CASE_MODULES:
    importlib.import_module(_module)

__all__ = ["CASE_MODULES", "Sink"]
