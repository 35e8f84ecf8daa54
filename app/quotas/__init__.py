"""Durable quotas per principal: calls per window, task creations per window, tasks working at once.

`model` is pure (no boto3, mcp or starlette); `port` is the storage contract;
`sqlite_store` and `dynamo_store` implement it; `guard.QuotaGuard` is the MCP
server middleware that applies it; `config.QuotaSettings` is parsed once from
the environment. Operator docs: docs/operating.md ("Limits per caller").
"""
