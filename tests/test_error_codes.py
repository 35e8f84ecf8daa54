"""The server's own refusal codes mean one thing: none collides with a code the MCP SDK defines."""

from __future__ import annotations

import mcp_types

from app.core import errors
from app.core.errors import FORBIDDEN_CODE, UNAUTHORIZED_CODE, UNAVAILABLE_CODE


def _sdk_codes() -> dict[int, str]:
    return {
        value: name
        for name, value in vars(mcp_types).items()
        if name.isupper() and isinstance(value, int) and not isinstance(value, bool) and -32768 <= value <= -32000
    }


def test_refusal_codes_collide_with_nothing_the_sdk_defines() -> None:
    sdk = _sdk_codes()
    assert {-32000, -32001, -32602}.issubset(sdk), "mcp_types no longer exports its error codes: this test must look elsewhere"
    ours = {UNAUTHORIZED_CODE: "UNAUTHORIZED", FORBIDDEN_CODE: "FORBIDDEN", UNAVAILABLE_CODE: "UNAVAILABLE"}
    assert len(ours) == 3, "two refusal codes share a value"
    clashes = {code: (ours[code], sdk[code]) for code in ours if code in sdk}
    assert not clashes, f"refusal codes reuse SDK codes: {clashes}"
    assert all(-32099 <= code <= -32000 for code in ours), "refusal codes must sit in the server-defined range"


def test_every_refusal_class_answers_with_a_declared_code() -> None:
    declared = {UNAUTHORIZED_CODE, FORBIDDEN_CODE, UNAVAILABLE_CODE}
    refusals = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.Refusal)]
    assert refusals and all(cls.code in declared for cls in refusals), {cls.__name__: cls.code for cls in refusals}
    assert errors.Unauthenticated.code == UNAUTHORIZED_CODE and errors.InsufficientScope.code == FORBIDDEN_CODE
