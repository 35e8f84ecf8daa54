"""Benchmark: this project's Lambda handler against the MCP SDK's own stateless
app and a bare Starlette + Mangum floor, serving the same two tools.

    python -m bench.run            # full run (a few minutes), writes bench/results/
    python -m bench.run --quick    # smoke run (seconds): checks the bench still works

Cases (what is measured) are registered in `bench.cases` (the product's own:
access control, configurations, item store, tasks, SnapStart restore, as
deployed, in `bench.product_*`, which `bench.product` imports in order); the
handlers live in `bench.apps`; API Gateway events and response checks in
`bench.events`; moto on 127.0.0.1 in `bench.aws`. `bench.run` drives a run:
`bench.warm` measures in-process, `bench.spawned` in fresh processes;
`bench.report` derives the figures, `bench.tables` renders, `bench.publish` writes.
Nothing here is imported by the application or shipped to Lambda.
"""
