"""One simulated SnapStart lifecycle, in this fresh process: build, prime, "snapshot", restore, serve.

    python -m bench.snapstart < spec.json

spec (stdin): {"env": {...build_product's environment...}, "os_environ": {...for boto3...},
               "observability_env": {...}, "event": {...}, "warm_calls": N}

1. import + `build_product(env)` (observability as on Lambda) + `lambda_build()` + `settle_heap()`  (init)
2. `build.snapstart.before_snapshot()`                                             (priming)
   -- Lambda would take the snapshot here and, later, restore a copy of it --
3. `build.snapstart.after_restore()`: secret caches invalidated, `random` re-seeded
4. the FIRST request through `build.handler`, timed, then `warm_calls` more (warm)
5. `after_restore()` once more and one request: the same refetch with the SSM client
   now warm (botocore's first-call costs already paid), for comparison

Logs and EMF go to /dev/null (counted). Prints one line `BENCH_RESULT {json}`.
Nothing listens; with an SSM key ring the fetches go to the moto server named in
`os_environ` (127.0.0.1).
"""

import gc
import json
import os
import sys
import tempfile
import time

MARKER = "BENCH_RESULT "


def main() -> None:
    spec = json.loads(sys.stdin.buffer.read())
    os.environ.update(spec.get("os_environ") or {})
    real_stdout = sys.stdout
    t_start = time.perf_counter_ns()

    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning, module="mangum")
    warnings.filterwarnings("ignore", message=".*no current event loop.*", category=DeprecationWarning)

    from app.auth.ssm import make_ssm_provider
    from app import settle_heap
    from app.main import build_product
    from app.observability import ObservabilitySettings
    from bench import events
    from bench.product import Sink

    logs, stdout = Sink(), Sink()
    sys.stdout = stdout  # EMF is printed
    tmp = tempfile.mkdtemp(prefix="mcp-bench-restore-")
    env = {"ITEMS_SQLITE_PATH": os.path.join(tmp, "items.sqlite3"), **spec["env"]}
    product = build_product(env, log_stream=logs, observability=ObservabilitySettings.from_env(spec["observability_env"]))
    build = product.lambda_build()
    settle_heap()  # as Product.lambda_handler() ends start-up (it does not return the hooks the bench calls)
    t_built = time.perf_counter_ns()

    ssm_calls: list[str] = []
    if product.auth.api_keys_param:
        make_ssm_provider(product.auth.fetch_timeout_s).client.meta.events.register(
            "before-parameter-build.ssm.GetParameter", lambda params, **_: ssm_calls.append(params["Name"])
        )

    t0 = time.perf_counter_ns()
    report = build.snapstart.before_snapshot()
    t1 = time.perf_counter_ns()
    gc.collect()  # a snapshot is taken of a quiescent process; do not bill init's garbage to the first call
    t2 = time.perf_counter_ns()
    build.snapstart.after_restore()
    t3 = time.perf_counter_ns()

    handler = build.handler
    event = spec["event"]
    context = events.FakeLambdaContext()
    clock = time.perf_counter_ns

    s = clock()
    first_response = handler(event, context)
    first_ns = clock() - s
    fetches_first = len(ssm_calls)

    samples = []
    last_response = None
    for _ in range(int(spec["warm_calls"])):
        s = clock()
        last_response = handler(event, context)
        samples.append(clock() - s)
    fetches_warm = len(ssm_calls) - fetches_first

    build.snapstart.after_restore()
    s = clock()
    again_response = handler(event, context)
    again_ns = clock() - s
    fetches_again = len(ssm_calls) - fetches_first - fetches_warm

    sys.stdout = real_stdout
    samples.sort()
    result = {
        "init_ms": (t_built - t_start) / 1e6,
        "prime_ms": (t1 - t0) / 1e6,
        "restore_hook_ms": (t3 - t2) / 1e6,
        "primed": {
            "requests": report.requests,
            "answered": report.answered,
            "refused_without_credential": report.refused_without_credential,
            "modules": len(report.modules),
        },
        "secret_caches": len(build.snapstart._caches),  # noqa: SLF001 - what after_restore invalidates
        "first_ms": first_ns / 1e6,
        "warm_us": [x / 1000 for x in samples],
        "again_ms": again_ns / 1e6,
        "ssm_fetches": {"first": fetches_first, "warm": fetches_warm, "again": fetches_again},
        "log_lines": logs.lines,
        "emf_lines": stdout.lines,
        "responses": {"first": first_response, "warm": last_response, "again": again_response},
    }
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
