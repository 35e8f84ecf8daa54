"""X-Ray: one subsegment per tool call, annotated with the method and the tool.

Built only when tracing is on (Lambda, `Tracing: Active`, not disabled):
otherwise the middleware holds None and pays nothing. Annotations are indexed
by X-Ray, so they stay two short values; unknown tool names are not annotated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any


class ToolTracing:
    """Subsegments through a Powertools tracing provider (the X-Ray recorder by default)."""

    def __init__(self, service: str, *, provider: Any = None) -> None:
        if provider is None:
            from aws_lambda_powertools import Tracer

            # botocore only: DynamoDB and SSM calls become subsegments; nothing else is patched.
            provider = Tracer(service=service, disabled=False, patch_modules=("botocore",)).provider
        self._provider = provider

    @asynccontextmanager
    async def tool_call(self, method: str, tool: str | None) -> AsyncIterator[None]:
        async with self._provider.in_subsegment_async(name="## mcp tools/call") as subsegment:
            # None when there is no segment to attach to (outside an invocation).
            if subsegment is not None:
                subsegment.put_annotation("mcp_method", method)
                if tool is not None:
                    subsegment.put_annotation("mcp_tool", tool)
            yield

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """No segments while inside (SnapStart priming runs outside any invocation)."""
        import aws_xray_sdk

        config = aws_xray_sdk.global_sdk_config
        was_enabled = config.sdk_enabled()
        config.set_sdk_enabled(False)
        try:
            yield
        finally:
            config.set_sdk_enabled(was_enabled)
