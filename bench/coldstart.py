"""One cold start, in this fresh process: import the handler module, then serve requests.

    python -m bench.coldstart bench.apps.project < spec.json

spec (stdin): {"requests": [["initialize", event], ["call", event]]}
Prints one line `BENCH_RESULT {json}`: import ms, each request's ms and response,
peak RSS (VmHWM), and how many loaded modules came from bytecode vs were compiled from source.

Only what every handler module imports anyway is loaded before the timed import
(sys, time, importlib, logging: `logging.disable` must precede the import to
silence start-up logs; a root handler stands for the Lambda runtime's); the spec is parsed after it.
"""

import importlib
import logging
import sys
import time

MARKER = "BENCH_RESULT "


def _bytecode_census() -> dict:
    """Loaded source modules whose cached bytecode exists (loaded from it) vs not (compiled)."""
    import os

    from_pyc = compiled = 0
    for module in list(sys.modules.values()):
        cached = getattr(module, "__cached__", None)
        if not cached:
            continue
        if os.path.exists(cached):
            from_pyc += 1
        else:
            compiled += 1
    return {"from_pyc": from_pyc, "compiled": compiled, "pycache_prefix": sys.pycache_prefix}


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: on Linux ru_maxrss survives
    exec, so a child forked from a big parent would report the parent's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    raw = sys.stdin.buffer.read()
    # The Lambda runtime adds its handler to the root logger before it imports the handler module:
    # libraries that call logging.basicConfig() at import (the SDK's MCPServer does) find it configured.
    logging.getLogger().addHandler(logging.StreamHandler(sys.stderr))
    logging.disable(logging.CRITICAL)
    start = time.perf_counter_ns()
    module = importlib.import_module(sys.argv[1])
    imported = time.perf_counter_ns()
    handler = module.handler

    import json

    spec = json.loads(raw)
    from app.core.events import FakeLambdaContext  # after the timed import: it must not count

    context = FakeLambdaContext(30.0, function_name="mcp-bench")
    steps = []
    for name, event in spec["requests"]:
        t0 = time.perf_counter_ns()
        response = handler(event, context)
        t1 = time.perf_counter_ns()
        steps.append({"name": name, "ms": (t1 - t0) / 1e6, "response": response})
    result = {
        "module": sys.argv[1],
        "import_ms": (imported - start) / 1e6,
        "steps": steps,
        "maxrss_mb": _peak_rss_mb(),
        "bytecode": _bytecode_census(),
    }
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
