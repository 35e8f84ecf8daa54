"""The reusable stateless MCP transport: any `MCPServer` served over streamable HTTP, one request at a time.

    asgi.py          create_asgi_app(server): the Starlette app (public factory)
    lambda_entry.py  create_lambda_handler(server): Mangum, lifespan off, stage prefixes
    endpoint.py      the MCP endpoint: HTTP checks in order, era routing, replies
    handshake.py     the handshake era (2024-11-05 .. 2025-11-25), statelessly
    modern.py        the 2026-07-28 era: per-request envelope, header agreement
    exchange.py      one JSON-RPC request through the SDK kernel; deadline; notification sink
    lifespan.py      the server's lifespan, entered once per process (the endpoint's and the task executor's)
    mistakes.py      client mistakes answered -32602; `error_data`, the one exception-to-wire mapping
    routes.py        the endpoint's paths, /health, and which routes need a credential
    wire.py          JSON-RPC bytes: parsing, errors, JSON/SSE bodies
    origin.py        Host and Origin allowlists
    config.py        transport settings, parsed once
    sdk.py           every private or provisional SDK/Starlette access, each with a test of its assumption

It imports only the shared base (`app.core.errors`, `app.core.env`) and its libraries:
never auth, items, tasks, views or observability.
"""
