"""AWS IoT over boto3: each call paced, retried on throttling, and its errors translated.

The only module that imports boto3 (lazily, so the station runs without the ``[aws]`` extra).
Region, credentials and endpoint come the standard boto3 way (``AWS_REGION``, ``AWS_PROFILE``,
``AWS_ENDPOINT_URL``, shared config, instance role). botocore's own retries are switched off:
:class:`IotCloud` retries itself, so every attempt goes through the station's rate limit.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from station.aws.errors import AwsNotInstalled, AwsSetupMissing, CloudCallFailed
from station.aws.pacing import Backoff, RateLimiter, retryable

#: Calls per second of each AWS IoT API: at the documented registration quota (about 10 per
#: second per account) and under the quotas of the other control-plane calls.
DEFAULT_RATE = 10.0


def iot_client() -> Any:
    """A boto3 IoT client configured from the environment and shared config."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError
    except ImportError as e:
        raise AwsNotInstalled() from e
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30
    )
    try:
        return boto3.client("iot", config=config)
    except NoRegionError as e:
        raise AwsSetupMissing(
            "no AWS region: set AWS_DEFAULT_REGION (or a region in the AWS_PROFILE's ~/.aws/config)"
        ) from e


@dataclass(frozen=True)
class Registered:
    """A certificate AWS IoT knows: its id and ARN."""

    certificate_id: str
    arn: str


class IotCloud:
    """The AWS IoT calls the handoff makes, each paced and retried."""

    def __init__(
        self,
        client: Any,
        *,
        rate: float = DEFAULT_RATE,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.limiter = RateLimiter(rate, clock, sleep)
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.rng = rng or random.Random()  # jitter, not a secret
        self.retries = 0  # throttled or transient attempts retried, for the summary
        self._retries_lock = threading.Lock()  # the sync's workers share this object

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Call ``operation`` (the boto3 method name), paced, with retries on throttling and
        transient errors; raise CloudCallFailed naming the operation otherwise."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        method = getattr(self.client, operation)
        for attempt in range(1, self.backoff.attempts + 1):
            self.limiter.wait(operation)
            try:
                return dict(method(**kwargs))
            except ClientError as e:
                error = e.response.get("Error", {})
                code = str(error.get("Code", "Unknown"))
                status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                failure = CloudCallFailed(
                    operation, code, str(error.get("Message", e)), retryable=retryable(code, status)
                )
            except NoCredentialsError as e:
                raise AwsSetupMissing(
                    f"AWS IoT {operation}: no AWS credentials found; set AWS_PROFILE (with "
                    "~/.aws/credentials) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "
                    "where an instance role applies"
                ) from e
            except BotoCoreError as e:  # connection refused or reset, timeouts
                failure = CloudCallFailed(operation, type(e).__name__, str(e), retryable=True)
            if not failure.retryable or attempt == self.backoff.attempts:
                raise failure
            with self._retries_lock:
                self.retries += 1
            self.sleep(self.backoff.delay(attempt, self.rng))
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list call (``marker`` / ``nextMarker``)."""
        marker: str | None = None
        while True:
            page = self.call(operation, **kwargs, **({"marker": marker} if marker else {}))
            yield from page.get(key, [])
            marker = page.get("nextMarker")
            if not marker:
                return

    def register_certificate(self, pem: str, ca_pem: str | None, cert_id: str) -> Registered:
        """Register ``pem`` ACTIVE (with the CA, or without one in SNI_ONLY setups); a
        certificate AWS already has is looked up instead."""
        try:
            if ca_pem is None:
                out = self.call(
                    "register_certificate_without_ca", certificatePem=pem, status="ACTIVE"
                )
            else:
                out = self.call(
                    "register_certificate",
                    certificatePem=pem,
                    caCertificatePem=ca_pem,
                    status="ACTIVE",
                )
        except CloudCallFailed as e:
            if e.code != "ResourceAlreadyExistsException":
                raise
            described = self.call("describe_certificate", certificateId=cert_id)
            desc = described["certificateDescription"]
            return Registered(str(desc["certificateId"]), str(desc["certificateArn"]))
        return Registered(str(out["certificateId"]), str(out["certificateArn"]))

    def create_thing(self, name: str, thing_type: str | None) -> None:
        kwargs: dict[str, Any] = {"thingName": name}
        if thing_type:
            kwargs["thingTypeName"] = thing_type
        try:
            self.call("create_thing", **kwargs)
        except CloudCallFailed as e:  # exists with other attributes: it is there, keep it
            if e.code != "ResourceAlreadyExistsException":
                raise

    def attach_thing(self, name: str, arn: str) -> None:
        self.call("attach_thing_principal", thingName=name, principal=arn)

    def attach_policy(self, policy: str, arn: str) -> None:
        self.call("attach_policy", policyName=policy, target=arn)

    def revoke(self, cert_id: str) -> str | None:
        """Mark a certificate REVOKED; return its ARN, or None if AWS does not know it."""
        try:
            described = self.call("describe_certificate", certificateId=cert_id)
        except CloudCallFailed as e:
            if e.code == "ResourceNotFoundException":
                return None
            raise
        desc = described["certificateDescription"]
        if desc.get("status") != "REVOKED":
            self.call("update_certificate", certificateId=cert_id, newStatus="REVOKED")
        return str(desc["certificateArn"])

    def ca_description(self, ca_id: str) -> dict[str, Any] | None:
        """The CA's description, or None if this account has no such CA."""
        try:
            out = self.call("describe_ca_certificate", certificateId=ca_id)
        except CloudCallFailed as e:
            if e.code == "ResourceNotFoundException":
                return None
            raise
        return dict(out["certificateDescription"])
