"""Fixtures for remote tests: a real local S3 server (moto's standalone server, a
subprocess on 127.0.0.1) and a ``remote_url`` fixture giving a fresh, empty remote
on each transport (``file://`` on a tmp folder, ``s3://`` in a fresh bucket)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_moto() -> tuple[subprocess.Popen, int]:
    """moto's S3 server on a free loopback port, once it accepts connections. A server
    that exits before (a port taken between choosing and binding it) is started again on
    another port; a slow start on a busy machine is waited for."""
    for _ in range(3):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while server.poll() is None and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return server, port
            except OSError:
                time.sleep(0.1)
        server.kill()
        server.wait(10)
    raise RuntimeError("moto's S3 server did not start (three tries)")


@pytest.fixture(scope="session")
def s3_endpoint():
    """Start moto's S3 server for the session; set the AWS variables to point at it."""
    server, port = _start_moto()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in [*S3_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(S3_ENV, AWS_ENDPOINT_URL=endpoint)
    try:
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def make_bucket(endpoint: str) -> str:
    import boto3

    name = f"arbor-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["file", "s3"])
def remote_url(request, tmp_path):
    """An empty remote on each transport."""
    if request.param == "file":
        return (tmp_path / "remote").as_uri()
    endpoint = request.getfixturevalue("s3_endpoint")
    return f"s3://{make_bucket(endpoint)}/team/labels"
