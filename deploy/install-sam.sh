#!/usr/bin/env bash
# Install the AWS SAM CLI and cfn-lint into their own venv (.tools/sam, gitignored).
#
# Idempotent: when the venv already holds the pinned versions it does nothing.
# Kept apart from .venv on purpose: sam-cli pins its own boto3/pydantic/jsonschema
# ranges, which must not fight the app's runtime dependencies.
#
# cfn-lint is pinned exactly: 1.54+ stopped running the SAM transform and so
# lets through a bad Runtime, a bad !GetAtt and SnapStart on python3.11.
# 1.53.3 catches them and fits sam-cli 1.170's dependency range.
#
# Usage: deploy/install-sam.sh            (from anywhere; paths are repo-relative)
#        SAM_VENV=dir deploy/install-sam.sh
set -euo pipefail

SAM_CLI_SPEC='aws-sam-cli>=1.170,<1.171'
CFN_LINT_SPEC='cfn-lint==1.53.3'

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${SAM_VENV:-$repo/.tools/sam}
stamp=$venv/.installed
want="$SAM_CLI_SPEC $CFN_LINT_SPEC"

if [[ -f $stamp && "$(cat "$stamp")" == "$want" && -x $venv/bin/sam && -x $venv/bin/cfn-lint ]]; then
    touch "$stamp"  # newer than this script: make's rule is satisfied
    exit 0
fi

# Any Python >= 3.11 runs the tools (the Lambda runtime's Python is only needed
# by the build). pyenv shims exist even when the version behind them is not
# selected, so each candidate is run, not just found.
usable() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
pick_python() {
    local c
    local candidates=("${SAM_TOOLS_PYTHON:-}" python3.13 python3.12 python3.11 python3)
    local root=${PYENV_ROOT:-}
    [[ -z $root ]] && command -v pyenv >/dev/null 2>&1 && root=$(pyenv root)
    if [[ -n $root ]]; then
        for c in "$root"/versions/3.1[1-9]*/bin/python3; do candidates+=("$c"); done
    fi
    for c in "${candidates[@]}"; do
        [[ -n $c ]] || continue
        if command -v "$c" >/dev/null 2>&1 && usable "$c"; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

python=$(pick_python) || { echo "install-sam: no Python >= 3.11 found (set SAM_TOOLS_PYTHON)" >&2; exit 1; }

rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$SAM_CLI_SPEC" "$CFN_LINT_SPEC"
"$venv/bin/python" -m pip check >/dev/null || {
    echo "install-sam: pip check found conflicts in $venv" >&2
    "$venv/bin/python" -m pip check >&2
    exit 1
}
SAM_CLI_TELEMETRY=0 "$venv/bin/sam" --version
"$venv/bin/cfn-lint" --version
printf '%s' "$want" >"$stamp"
