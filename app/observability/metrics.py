"""Per-method and per-tool EMF metrics, buffered per invocation and flushed once.

A request costs one tuple appended to a list; the EMF document is built
once per Lambda invocation, after the response is computed. Dimensions stay
low-cardinality: the method (only methods this server serves, anything else
is "other") and, for `tools/call`, the tool (only tools that exist, else "other").

    Requests  Count         requests in the invocation (per method / tool)
    Latency   Milliseconds  time inside the MCP server, one value per request
    Errors    Count         JSON-RPC errors plus isError tool results
    ColdStart Count         first invocation of the environment (Powertools' own document)
    Refusals  Count         requests refused for a missing scope, per missing scope
                            (dimensions [service, missing_scope]; scopes are declared by the server)
    QuotaRefusals Count     tools/call answered with a quota refusal (app.quotas), with the same
                            dimension sets as Requests: [service, method, tool] and [service, method]

tools/call metrics carry two dimension sets, [service, method, tool] and
[service, method], so per-method totals include tool calls.

Each method/tool's document is laid out once by Powertools' EMF serializer
and kept as a text template; a flush fills in the timestamp and the values
(~3 us instead of ~25 us for Powertools' per-call `add_metric` path, which
validates units and formats a debug f-string on every call).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, NamedTuple

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.metric_properties import MetricUnit

if TYPE_CHECKING:  # Lambda's context, typed by Mangum's Protocol (the one the app uses); no import at run time
    from mangum.types import LambdaContext

logger = logging.getLogger(__name__)

OTHER: Final = "other"
_STANDARD_RESOLUTION: Final = 60
_UNITS: Final = {"Requests": MetricUnit.Count, "Latency": MetricUnit.Milliseconds, "Errors": MetricUnit.Count}


class Sample(NamedTuple):
    method: str
    tool: str | None
    duration_ms: float
    error: bool
    #: Space-separated scopes the caller lacked, when the request was refused for them.
    missing: str | None = None
    #: The quota limit that refused the request (app.quotas), if one did.
    quota: str | None = None


_HOLE = re.compile(r'"@@(Timestamp|Requests|Latency|Errors)@@"')


def _numbers(values: list[float]) -> str:
    return "[" + ",".join(f"{value:.3f}" for value in values) + "]"


class _Template:
    """One method/tool's EMF document as text, with holes for the timestamp and the values."""

    __slots__ = ("_text",)

    def __init__(
        self, provider: AmazonCloudWatchEMFProvider, dimensions: dict[str, str], extra_set: list[str] | None
    ) -> None:
        metrics = {
            name: {"Unit": unit.value, "StorageResolution": _STANDARD_RESOLUTION, "Value": f"@@{name}@@"}
            for name, unit in _UNITS.items()
        }
        document = provider.serialize_metric_set(metrics=metrics, dimensions=dimensions, metadata={})
        document["_aws"]["Timestamp"] = "@@Timestamp@@"  # type: ignore[typeddict-item]
        if extra_set is not None:
            document["_aws"]["CloudWatchMetrics"][0]["Dimensions"].append(extra_set)
        # Alternating literal text and hole names -> a str.format template ('{' and '}' of the JSON doubled).
        parts = _HOLE.split(json.dumps(document, separators=(",", ":")))
        self._text = "".join(
            part.replace("{", "{{").replace("}", "}}") if index % 2 == 0 else "{" + part + "}"
            for index, part in enumerate(parts)
        )

    def render(self, values: dict[str, str]) -> str:
        return self._text.format_map(values)


class InvocationMetrics:
    """Collects `Sample`s during an invocation; `flush` prints them as EMF (one document per method/tool)."""

    def __init__(
        self,
        namespace: str,
        service: str,
        *,
        known_method: Callable[[str], bool],
        known_tool: Callable[[str], bool],
    ) -> None:
        self._known_method = known_method
        self._known_tool = known_tool
        self._service = service
        self._provider = AmazonCloudWatchEMFProvider(
            namespace=namespace, service=service, metric_set={}, dimension_set={"service": service}, metadata_set={}
        )
        for name, unit in _UNITS.items():  # Powertools' own validation, once: names, units, resolution
            self._provider.add_metric(name=name, unit=unit, value=0)
        self._provider.clear_metrics()
        self._templates: dict[tuple[str, str | None], _Template] = {}
        self.pending: list[Sample] = []
        #: While True (SnapStart priming), flushes print nothing: requests then are not invocations.
        self.suspended = False
        self._cold_start: tuple[str, str] | None = None
        self._refusal_layouts: dict[str, str] = {}

    def record(
        self, method: str, tool: str | None, duration_ms: float, error: bool, missing: str | None = None,
        quota: str | None = None,
    ) -> None:
        self.pending.append(Sample(method, tool, duration_ms, error, missing, quota))

    def discard(self) -> None:
        """Drop what was recorded (requests that were not invocations, e.g. SnapStart priming).

        The EMF layouts those samples need are built first, so a snapshot
        carries them and the first invocation after a restore does not pay for it.
        """
        samples, self.pending = self.pending, []
        for method, tool in self._group(samples) if samples else ():
            self._template(method, tool)

    def cold_start_document(self, context: LambdaContext, timestamp: str) -> str:
        """Powertools' ColdStart document (dimensions function_name and service), laid out once.

        Powertools' own `add_cold_start_metric` builds a single-metric
        context per call: ~110 us the first time, on the first request after
        every restore. The text is the same; a test compares the two.
        """
        function_name = str(context.function_name or "")
        if self._cold_start is None or self._cold_start[0] != function_name:
            document = self._provider.serialize_metric_set(
                metrics={"ColdStart": {"Unit": MetricUnit.Count.value, "StorageResolution": _STANDARD_RESOLUTION, "Value": [1.0]}},
                dimensions={"function_name": function_name, "service": self._service},
                metadata={},
            )
            document["_aws"]["Timestamp"] = "@@Timestamp@@"  # type: ignore[typeddict-item]
            self._cold_start = (function_name, json.dumps(document, separators=(",", ":")))
        return self._cold_start[1].replace('"@@Timestamp@@"', timestamp, 1)

    def _template(self, method: str, tool: str | None) -> _Template:
        template = self._templates.get((method, tool))
        if template is None:
            dimensions = {"service": self._service, "method": method}
            if tool is not None:
                dimensions["tool"] = tool
            template = _Template(self._provider, dimensions, ["service", "method"] if tool is not None else None)
            self._templates[(method, tool)] = template
        return template

    def flush(self, context: LambdaContext | None = None, *, cold_start: bool = False) -> None:
        """Print this invocation's metrics (and ColdStart, if asked) to stdout; never raises."""
        if self.suspended:
            if cold_start and context is not None:
                self.cold_start_document(context, "0")  # lay it out now (priming); print nothing
            self.discard()
            return
        samples, self.pending = self.pending, []
        try:
            if cold_start and context is not None:
                print(self.cold_start_document(context, str(int(time.time() * 1000))))
            if not samples:
                return
            timestamp = str(int(time.time() * 1000))
            for (method, tool), group in self._group(samples).items():
                print(self.render(method, tool, group, timestamp))
            for scope, count in self._refusals(samples).items():
                print(self._refusal_document(scope).replace('"@@Timestamp@@"', timestamp, 1).replace('"@@Refusals@@"', f"[{count}]", 1))
            for key, count in self._quota_refusals(samples).items():
                print(self._quota_document(key).replace('"@@Timestamp@@"', timestamp, 1).replace('"@@QuotaRefusals@@"', f"[{count}]", 1))
        except Exception as exc:  # noqa: BLE001 - metrics must never fail an invocation
            logger.warning("metrics flush failed", extra={"error_type": type(exc).__name__})

    @staticmethod
    def _refusals(samples: list[Sample]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sample in samples:
            if sample.missing:
                for scope in sample.missing.split():
                    counts[scope] = counts.get(scope, 0) + 1
        return counts

    def _quota_refusals(self, samples: list[Sample]) -> dict[tuple[str, str | None], int]:
        counts: dict[tuple[str, str | None], int] = {}
        for sample in samples:
            if sample.quota:
                key = self._key(sample)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def _quota_document(self, key: tuple[str, str | None]) -> str:
        """QuotaRefusals of one method/tool, with the dimension sets of the Requests document (alarms use them)."""
        text = self._refusal_layouts.get(f"quota\0{key[0]}\0{key[1]}")
        if text is None:
            method, tool = key
            dimensions = {"service": self._service, "method": method}
            if tool is not None:
                dimensions["tool"] = tool
            document = self._provider.serialize_metric_set(
                metrics={"QuotaRefusals": {"Unit": MetricUnit.Count.value, "StorageResolution": _STANDARD_RESOLUTION, "Value": "@@QuotaRefusals@@"}},
                dimensions=dimensions,
                metadata={},
            )
            document["_aws"]["Timestamp"] = "@@Timestamp@@"  # type: ignore[typeddict-item]
            if tool is not None:
                document["_aws"]["CloudWatchMetrics"][0]["Dimensions"].append(["service", "method"])
            text = self._refusal_layouts[f"quota\0{key[0]}\0{key[1]}"] = json.dumps(document, separators=(",", ":"))
        return text

    def _refusal_document(self, scope: str) -> str:
        """The Refusals document of one missing scope, laid out once by Powertools (holes for time and count)."""
        text = self._refusal_layouts.get(scope)
        if text is None:
            document = self._provider.serialize_metric_set(
                metrics={"Refusals": {"Unit": MetricUnit.Count.value, "StorageResolution": _STANDARD_RESOLUTION, "Value": "@@Refusals@@"}},
                dimensions={"service": self._service, "missing_scope": scope},
                metadata={},
            )
            document["_aws"]["Timestamp"] = "@@Timestamp@@"  # type: ignore[typeddict-item]
            text = self._refusal_layouts[scope] = json.dumps(document, separators=(",", ":"))
        return text

    def _group(self, samples: list[Sample]) -> dict[tuple[str, str | None], list[Sample]]:
        if len(samples) == 1:  # the usual invocation: one request
            sample = samples[0]
            return {self._key(sample): samples}
        groups: dict[tuple[str, str | None], list[Sample]] = {}
        for sample in samples:
            groups.setdefault(self._key(sample), []).append(sample)
        return groups

    def _key(self, sample: Sample) -> tuple[str, str | None]:
        method = sample.method if self._known_method(sample.method) else OTHER
        if method != "tools/call" or sample.tool is None:
            return method, None
        return method, sample.tool if self._known_tool(sample.tool) else OTHER

    def render(self, method: str, tool: str | None, samples: list[Sample], timestamp: str) -> str:
        """The EMF document (one JSON line) of one method (and tool) in this invocation."""
        return self._template(method, tool).render(
            {
                "Timestamp": timestamp,
                "Requests": f"[{len(samples)}]",
                "Latency": _numbers([sample.duration_ms for sample in samples]),
                "Errors": f"[{sum(sample.error for sample in samples)}]",
            }
        )
