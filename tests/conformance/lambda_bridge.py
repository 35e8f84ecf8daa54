"""Serve the Lambda handler over loopback HTTP, one request at a time, like one Lambda instance.

Each HTTP request becomes an API Gateway HTTP API (v2) event; the handler's
response becomes the HTTP response. This lets the conformance harness and
real clients exercise the exact code path API Gateway drives, buffering
included. Test-only.

    python -m tests.conformance.lambda_bridge --port 8766 [--fixture]
"""

from __future__ import annotations

import argparse
import base64
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from app import Settings, create_lambda_handler
from app.core.events import FakeLambdaContext


def to_event(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} /mcp",
        "rawPath": path.split("?", 1)[0],
        "rawQueryString": path.split("?", 1)[1] if "?" in path else "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {"method": method, "path": path.split("?", 1)[0], "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} /mcp",
            "stage": "$default",
            "time": "20/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": True,
    }
    if body:
        event["body"] = base64.b64encode(body).decode()
    return event


def make_server(port: int, handler: Any) -> HTTPServer:
    class Bridge(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                # API Gateway v2 joins repeated headers with commas.
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            response = handler(to_event(self.command, self.path, headers, body), FakeLambdaContext())
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
            self.send_response(response["statusCode"])
            for name, value in (response.get("headers") or {}).items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            # One request per connection: this server is serial, like one Lambda
            # instance, and an idle keep-alive connection would block the next client.
            self.send_header("connection", "close")
            self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

    return HTTPServer(("127.0.0.1", port), Bridge)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fixture", action="store_true", help="serve the conformance fixture instead of the product")
    args = parser.parse_args()
    if args.fixture:
        from tests.fixtures.everything import build

        server = build()
    else:
        from app.server import build_server

        server = build_server()
    # DNS-rebinding guard on, as for any server on a developer machine.
    handler = create_lambda_handler(server, Settings(allowed_hosts=("localhost", "127.0.0.1", "[::1]")))
    make_server(args.port, handler).serve_forever()


if __name__ == "__main__":
    main()
