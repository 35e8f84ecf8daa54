#!/usr/bin/env bash
# Build the Lambda artifact of McpFunction into ARTIFACTS_DIR.
#
# Called by `make build-McpFunction`, which `sam build` runs (Metadata:
# BuildMethod: makefile) with ARTIFACTS_DIR set and nothing else: the runtime
# and architecture come from the build graph sam build has just written (see
# deploy/pythons.py `target`), or from MCP_BUILD_RUNTIME / MCP_BUILD_ARCH.
#
# Steps: dependencies for the TARGET platform, our code, stripping, bytecode.
set -euo pipefail

artifacts=${1:-${ARTIFACTS_DIR:-}}
if [[ -z $artifacts ]]; then
    echo "build-function: no ARTIFACTS_DIR (this is run by sam build; try make sam-build)" >&2
    exit 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
case $artifacts in
    "$repo" | "$repo"/app* | /) echo "build-function: refusing ARTIFACTS_DIR=$artifacts" >&2; exit 2 ;;
esac

read -r version arch < <(python3 deploy/pythons.py target "$artifacts")
py=$(python3 deploy/pythons.py find "$version") || {
    echo "build-function: the runtime's python$version is needed to compile its bytecode" >&2
    exit 1
}
case $arch in
    arm64) machine=aarch64 ;;
    x86_64) machine=x86_64 ;;
esac

# 1. Dependencies, as wheels for the target (Amazon Linux 2023 on python3.12+,
#    glibc 2.34: manylinux2014 and manylinux_2_28 wheels both run there), never
#    built from source on this machine. --no-compile: pip would write bytecode of
#    the interpreter running it; step 4 compiles for the runtime instead.
#    boto3/botocore: the Lambda runtime has its own copy, but its version moves
#    under us with runtime updates. We ship ours (pinned by requirements.txt), so
#    what the tests ran against is what runs; /var/task comes first on sys.path.
"$py" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile --upgrade \
    --target "$artifacts" \
    --implementation cp --python-version "$version" --abi "cp${version/./}" \
    --platform "manylinux2014_$machine" --platform "manylinux_2_28_$machine" \
    --only-binary=:all: \
    -r requirements.txt

# 2. Our code: the entry point and the app package. Not tests, bench, deploy,
#    events or anything else in the repository.
cp handler.py "$artifacts/handler.py"
cp worker.py "$artifacts/worker.py"
rm -rf "$artifacts/app"
cp -R app "$artifacts/app"

# 3. Strip what never runs on Lambda.
#    - bytecode of any other interpreter (a local checkout's __pycache__, a
#      wheel that ships .pyc): all of it goes, step 4 writes the runtime's;
#    - bin/: console-script wrappers whose shebang names this build machine;
#    - a dependency's own test suite (<package>/tests), unless some module
#      outside it imports it (checked, not assumed);
#    - *.dist-info stays whole (importlib.metadata reads versions and entry points).
find "$artifacts" -depth -type d -name __pycache__ -exec rm -rf {} +
find "$artifacts" -type f \( -name '*.pyc' -o -name '*.pyo' \) -delete
rm -rf "$artifacts/bin"
for tests_dir in "$artifacts"/*/tests; do
    [[ -d $tests_dir ]] || continue
    package=$(basename "$(dirname "$tests_dir")")
    [[ $package == app ]] && continue
    imports_tests="(from|import)[[:space:]]+${package}\.tests|from[[:space:]]+\.(tests|[[:space:]]+import[[:space:]]+tests)"
    if grep -rqE --include='*.py' --exclude-dir=tests "$imports_tests" "$artifacts"; then
        echo "build-function: keeping $package/tests (imported at run time)" >&2
    else
        rm -rf "$tests_dir"
    fi
done

# 4. Bytecode for the runtime's interpreter. Without it every cold start compiles
#    every imported module (/var/task is read-only, so nothing is ever cached).
#    unchecked-hash, not the default timestamp mode: a timestamp .pyc is only
#    used while the source's mtime and size match what was recorded, and the
#    zip/unzip round trip to Lambda rewrites mtimes (2 s resolution, no time
#    zone), so every .pyc would be judged stale and ignored. checked-hash would
#    hash each source on every import; unchecked-hash trusts the .pyc, which is
#    right for an immutable artifact. -s/-p record /var/task paths instead of
#    this machine's, so the bytes do not depend on where the build ran.
"$py" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$artifacts" -p /var/task "$artifacts"

echo "build-function: python$version $arch artifact in $artifacts ($(du -sh "$artifacts" | cut -f1))" >&2
