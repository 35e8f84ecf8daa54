"""AWS for the bench without AWS: moto's server on 127.0.0.1, in its own process.

    with moto_server() as endpoint:      # "http://127.0.0.1:<port>"; shared while entered
        ...

A separate process, not a thread of the bench: the timed handler then waits
on a socket while another process (on the other core) answers, as it would
wait on DynamoDB or SSM, instead of competing with moto for this process's
GIL. Nested entries share one server; the last exit stops it (by its pid).
Only 127.0.0.1 is ever bound. moto's latency is not AWS's: figures through it
show the app's share plus a loopback round trip to an emulator, nothing more.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

REGION = "us-east-1"
#: Dummy credentials: moto accepts anything; they must merely exist for botocore to sign.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
#: Variables that would point boto3 somewhere else than what the bench sets.
_STRAY = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_DYNAMODB")

_shared: dict[str, object] = {"depth": 0, "endpoint": None, "proc": None}
#: Variables an active `environ()` set: a nested one (another case's set-up) must not drop them.
_set_by_bench: set[str] = set()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # werkzeug logs every request
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k not in _STRAY},
    )
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"moto server exited at start (status {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                _stop(proc)
                raise SystemExit("moto server did not start within 60 s") from None
            time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint of a moto server on 127.0.0.1 (started on first entry, stopped on last exit)."""
    if _shared["depth"] == 0:
        proc, endpoint = _start()
        _shared.update(proc=proc, endpoint=endpoint)
    _shared["depth"] = int(_shared["depth"]) + 1  # type: ignore[call-overload]
    try:
        yield str(_shared["endpoint"])
    finally:
        _shared["depth"] = int(_shared["depth"]) - 1  # type: ignore[call-overload]
        if _shared["depth"] == 0:
            proc = _shared["proc"]
            _shared.update(proc=None, endpoint=None)
            _stop(proc)  # type: ignore[arg-type]


def client(service: str, endpoint: str):  # noqa: ANN201 - a botocore client
    """A boto3 client for the bench's own setup calls (not the app's client)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ (boto3 reads endpoint, region and credentials there), drop stray
    AWS variables, and put everything back on exit (cold-start children copy os.environ)."""
    saved = {name: os.environ.get(name) for name in {*values, *_STRAY}}
    for name in _STRAY:
        if name not in _set_by_bench:  # an enclosing environ() of another case set it: keep it
            os.environ.pop(name, None)
    os.environ.update(values)
    added = set(values) - _set_by_bench
    _set_by_bench.update(added)
    try:
        yield
    finally:
        _set_by_bench.difference_update(added)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
