"""The local AWS endpoint (moto server + recording proxy), AWS settings in the environment, and
a real station home with certificates on boards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.engine.station import StationContext
from tests.engine.conftest import ENV, home, station, template_home

from .endpoint import MotoServer, Proxy
from .seed import REGION

__all__ = ["home", "station", "template_home"]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def endpoint(moto_server: MotoServer) -> Iterator[Proxy]:
    """A fresh AWS account behind a recording proxy; this process's boto3 points at it."""
    moto_server.reset()
    proxy = Proxy(moto_server.url)
    yield proxy
    proxy.close()


def aws_env(endpoint: Proxy, tmp: Path) -> dict[str, str]:
    """The environment `station aws` runs in: dummy credentials, a region, the local endpoint,
    and no shared AWS config of the machine's."""
    return {
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def aws(endpoint: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = aws_env(endpoint, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def iot(aws: dict[str, str]) -> Any:
    """A boto3 client on the local endpoint, for the tests' own look at the cloud."""
    import boto3

    return boto3.client("iot")


def station_cmd(home: Path, aws: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "station", "--home", str(home), "aws", *args]


def run_aws(home: Path, aws: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`station aws ...` as a process, against the local endpoint."""
    return subprocess.run(
        station_cmd(home, aws, *args),
        capture_output=True,
        text=True,
        env={**ENV, **aws},
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=240,
    )


@pytest.fixture
def started(aws: dict[str, str]) -> dict[str, str]:
    """The environment for a `station aws` process started by hand (Popen)."""
    return {**os.environ, **ENV, **aws}


_ = StationContext  # the `station` fixture's type, for the tests that take it
