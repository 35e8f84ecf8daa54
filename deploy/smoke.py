"""Smoke test of the BUILT artifact: feed API Gateway events to its handler.

    python3 deploy/smoke.py --artifact .aws-sam/host/build/McpFunction [--events events] [--env K=V ...] [--json]

The handler is imported from the artifact by the runtime's Python in a fresh,
isolated process (see deploy/artifact.py), the way Lambda would: a missing
dependency, a module left out of the copy or bytecode for the wrong Python
shows up here, not after a deploy. `sam local invoke` would do the same in
Docker, which is not available everywhere.

Each event file is invoked twice in the same process (cold, then warm: the
second invocation is where per-instance state bugs show). Checked:
- every invocation answers with a statusCode below 500;
- a POST whose body is a JSON-RPC request (an object with `method` and `id`)
  gets a JSON-RPC response with that id carrying `result` (plain JSON or SSE).
  An event file whose name contains "error" may carry `error` instead;
- the process imported nothing from outside the artifact and the stdlib.
Exit status 0 when all hold, 1 otherwise; --json prints the details.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from artifact import check_runnable_here, child_env, run_child, runtime_python

INVOCATIONS_PER_EVENT = 2

# Runs inside the artifact's interpreter: argv = [results file, event files...].
CHILD = r"""
import base64, json, sys, sysconfig, time, uuid
from pathlib import Path

results_path, event_paths = Path(sys.argv[1]), sys.argv[2:]
artifact = sys.path[0]
started = time.perf_counter()
import handler
import_ms = (time.perf_counter() - started) * 1000
from app.core.events import FakeLambdaContext  # the artifact's own: one fake context for every tool
invocations = []
for path in event_paths:
    event = json.loads(Path(path).read_text(encoding="utf-8"))
    for attempt in range(__INVOCATIONS__):
        t0 = time.perf_counter()
        try:
            response = handler.handler(json.loads(json.dumps(event)), FakeLambdaContext(25.0, function_name="McpFunction"))
            error = None
        except BaseException as exc:  # reported, not raised: the other events still run
            response, error = None, f"{type(exc).__name__}: {exc}"
        elapsed_ms = (time.perf_counter() - t0) * 1000
        body = (response or {}).get("body") or ""
        if (response or {}).get("isBase64Encoded") and body:
            body = base64.b64decode(body).decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in ((response or {}).get("headers") or {}).items()}
        invocations.append({
            "event": Path(path).name, "attempt": attempt + 1, "ms": round(elapsed_ms, 2),
            "status": (response or {}).get("statusCode"), "content_type": headers.get("content-type", ""),
            "body": body, "exception": error,
        })
stdlib = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
foreign = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith(artifact)
    and not any(module.__file__.startswith(p) for p in stdlib)
)
results_path.write_text(json.dumps({
    "python": sys.version.split()[0], "import_ms": round(import_ms, 2),
    "invocations": invocations, "foreign_modules": foreign,
}), encoding="utf-8")
""".replace("__INVOCATIONS__", str(INVOCATIONS_PER_EVENT))


def jsonrpc_request(event: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON-RPC request an event POSTs, if its body is one."""
    method = event.get("httpMethod") or event.get("requestContext", {}).get("http", {}).get("method")
    if str(method).upper() != "POST":
        return None
    body = event.get("body") or ""
    if event.get("isBase64Encoded") and body:
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if isinstance(message, dict) and "method" in message and message.get("id") is not None:
        return message
    return None


def response_messages(content_type: str, body: str) -> list[Any]:
    """JSON-RPC messages in a response body, plain JSON or an SSE stream."""
    if not body:
        return []
    if content_type.startswith("text/event-stream"):
        messages = []
        for block in body.replace("\r\n", "\n").split("\n\n"):
            data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
            if data:
                try:
                    messages.append(json.loads(data))
                except ValueError:
                    continue
        return messages
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else [parsed]


def problems_of(invocation: dict[str, Any], request: dict[str, Any] | None) -> list[str]:
    where = f"{invocation['event']} #{invocation['attempt']}"
    if invocation["exception"]:
        return [f"{where}: handler raised {invocation['exception']}"]
    status = invocation["status"]
    if not isinstance(status, int) or status >= 500:
        return [f"{where}: statusCode {status!r}: {invocation['body'][:300]}"]
    if request is None:
        return []
    replies = [
        m for m in response_messages(invocation["content_type"], invocation["body"])
        if isinstance(m, dict) and m.get("id") == request["id"]
    ]
    if not replies:
        body = invocation["body"][:300]
        return [f"{where}: no JSON-RPC response with id {request['id']!r} (status {status}): {body}"]
    reply = replies[-1]
    if "result" in reply:
        return []
    if "error" in reply and "error" in invocation["event"]:
        return []
    return [f"{where}: {request['method']} answered without a result: {json.dumps(reply)[:300]}"]


#: The local-only development key the committed events carry (refused on Lambda).
EVENTS_DEV_KEY = "local-dev-key-for-events"


def smoke(artifact: Path, event_files: list[Path], python: str, env: dict[str, str]) -> dict[str, Any]:
    check_runnable_here(artifact)
    with tempfile.TemporaryDirectory(prefix="mcp-smoke-") as tmp:
        results_file = Path(tmp) / "results.json"
        # The committed events carry the local-only development key; the item
        # store is an SQLite file in the scratch directory (no AWS here).
        local = {"MCP_DEV_API_KEY": EVENTS_DEV_KEY, "ITEMS_SQLITE_PATH": str(Path(tmp) / "items.sqlite3"), **env}
        proc = run_child(
            python, artifact, CHILD, [str(results_file), *map(str, event_files)], env=child_env(local)
        )
        if proc.returncode != 0 or not results_file.exists():
            return {"ok": False, "problems": [f"child failed ({proc.returncode}): {proc.stderr[-3000:]}"]}
        report = json.loads(results_file.read_text(encoding="utf-8"))
    requests = {p.name: jsonrpc_request(json.loads(p.read_text(encoding="utf-8"))) for p in event_files}
    problems = [
        problem for inv in report["invocations"] for problem in problems_of(inv, requests[inv["event"]])
    ]
    if report["foreign_modules"]:
        problems.append(f"imported from outside the artifact and the stdlib: {report['foreign_modules']}")
    for inv in report["invocations"]:
        inv["body"] = inv["body"][:200]
    return {
        "ok": not problems,
        "artifact": str(artifact),
        "python": report["python"],
        "import_ms": report["import_ms"],
        "events": len(event_files),
        "invocations": report["invocations"],
        "problems": problems,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--events", type=Path, default=Path("events"), help="directory of *.json events")
    parser.add_argument("--python", help="interpreter to use (default: the artifact's runtime, found)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)

    event_files = sorted(path.resolve() for path in args.events.glob("*.json"))
    if not event_files:
        print(f"smoke: no events in {args.events}/*.json", file=sys.stderr)
        return 2
    artifact = args.artifact.resolve()
    env = dict(item.split("=", 1) for item in args.env)
    report = smoke(artifact, event_files, runtime_python(artifact, args.python), env)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for inv in report.get("invocations", []):
            print(f"{inv['status']!s:>4} {inv['ms']:8.1f} ms  {inv['event']} #{inv['attempt']}")
        for problem in report["problems"]:
            print(f"FAIL {problem}", file=sys.stderr)
        verdict = "ok" if report["ok"] else "FAILED"
        print(f"smoke {verdict}: {report.get('events', 0)} events x {INVOCATIONS_PER_EVENT}, "
              f"python {report.get('python')}, import {report.get('import_ms')} ms")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
