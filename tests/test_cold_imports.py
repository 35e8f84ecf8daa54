"""Cold start: the product imports only what its configuration uses (issue 13).

boto3/botocore's client machinery costs ~100+ ms and PyJWT + cryptography's key
types ~50 ms of every cold start; a configuration that needs neither must not load
them. Checked in a fresh interpreter, because this test process has loaded everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import json, logging, sys; logging.disable(logging.CRITICAL); import handler; "
    "print(json.dumps(sorted(m for m in ('boto3', 'botocore.client', 'jwt', 'app.items.dynamo_store', "
    "'app.tasks.dynamo_store', 'aws_lambda_powertools.utilities.parameters') if m in sys.modules)))"
)


#: As on Lambda: the runtime has put its handler on the root logger before it imports `handler`.
LAMBDA_PROBE = (
    "import json, logging, sys; logging.getLogger().addHandler(logging.NullHandler()); "
    "logging.disable(logging.CRITICAL); import handler; "
    "print(json.dumps(sorted(m for m in ('sqlite3', 'app.items.sqlite_store', 'app.tasks.sqlite_store', 'rich') "
    "if m in sys.modules)))"
)


def _loaded_after_import(tmp_path: Path, extra: dict[str, str], probe: str = PROBE) -> list[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "MCP_", "ITEMS_", "POWERTOOLS_", "TASKS_", "OAUTH_"))
    }
    env.update(ITEMS_SQLITE_PATH=str(tmp_path / "items.sqlite3"), **extra)
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sqlite_store_and_dev_key_import_neither_boto3_nor_jwt(tmp_path: Path) -> None:
    loaded = _loaded_after_import(tmp_path, {"MCP_DEV_API_KEY": "devkey-0123456789abcdef"})
    assert loaded == [], f"imported at start-up without being configured: {loaded}"


def test_api_key_file_without_oauth_does_not_import_jwt(tmp_path: Path) -> None:
    ring = tmp_path / "keys.json"
    ring.write_text("{}")
    loaded = _loaded_after_import(tmp_path, {"MCP_API_KEYS_FILE": str(ring)})
    assert "jwt" not in loaded and "boto3" not in loaded, loaded


def test_dynamodb_store_with_a_root_log_handler_imports_neither_sqlite_nor_the_sdks_rich_logging(tmp_path: Path) -> None:
    loaded = _loaded_after_import(
        tmp_path,
        {
            "AWS_REGION": "us-east-1",
            "MCP_DEV_API_KEY": "devkey-0123456789abcdef",
            "ITEMS_BACKEND": "dynamodb",
            "ITEMS_TABLE_NAME": "items",
            "TASKS_WORKER_FUNCTION": "mcp-worker",
            "POWERTOOLS_TRACE_DISABLED": "true",
        },
        LAMBDA_PROBE,
    )
    assert loaded == [], f"imported at start-up without being configured: {loaded}"
