"""`make invoke EVENT=events/<file>.json`: `sam local invoke` for a machine without Docker.

Feeds one API Gateway event (the same files `sam local invoke -e` takes) to
`handler.handler` in this process and prints the Lambda response.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.events import FakeLambdaContext

if TYPE_CHECKING:  # Lambda's context, typed by Mangum's Protocol (the one the app uses); no import at run time
    from mangum.types import LambdaContext


def invoke(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    from handler import handler  # imported here: building the server is the cold start being simulated

    return handler(event, context or FakeLambdaContext())


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m app.dev.invoke events/<file>.json", file=sys.stderr)
        return 2
    event = json.loads(Path(argv[1]).read_text())
    response = invoke(event)
    body = response.get("body")
    if isinstance(body, str) and body and response.get("headers", {}).get("content-type", "").startswith("application/json"):
        response = {**response, "body": json.loads(body)}
    print(json.dumps(response, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
