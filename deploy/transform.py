"""Print the SAM-transformed CloudFormation template as JSON, offline.

    .tools/sam/bin/python deploy/transform.py [template.yaml] [Key=Value ...]

Runs the same translator `sam deploy` would (samtranslator, from the SAM CLI
venv). AWS managed policies are resolved from a fixed map instead of IAM, so no
credentials are needed; a policy name outside the map fails loudly.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

#: The managed policies SAM itself attaches (basic execution role, X-Ray for
#: Tracing: Active). Anything else the template asks for is an error here.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}


class FixedManagedPolicyLoader:
    def load(self) -> dict[str, str]:
        return dict(MANAGED_POLICIES)


def _as_packaged(document: dict[str, Any]) -> None:
    """What `sam package` does first: local CodeUri becomes an S3 location."""
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        code_uri = properties.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(code_uri, str) and "://" not in code_uri:
            properties["CodeUri"] = "s3://placeholder-bucket/placeholder-key.zip"


def transformed(template_path: Path, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    # The translator fills AWS::Region & co. from a boto3 session: give it one.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    document = yaml_parse(template_path.read_text(encoding="utf-8"))
    _as_packaged(document)
    return transform(document, dict(parameters or {}), FixedManagedPolicyLoader())  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv and "=" not in argv[0] else Path(__file__).resolve().parent.parent / "template.yaml"
    parameters = dict(arg.split("=", 1) for arg in argv if "=" in arg)
    json.dump(transformed(path, parameters), sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
