"""Errors of the AWS handoff."""

from __future__ import annotations

from station.errors import ConfigError, StationError


class AwsError(StationError):
    """A step of the AWS IoT handoff failed."""


class AwsNotInstalled(AwsError, ConfigError):
    """boto3 is missing (the optional extra ``[aws]``)."""

    def __init__(self) -> None:
        super().__init__(
            "boto3 is not installed: `station aws` needs the aws extra; install it with "
            "`pip install 'provisioning-station[aws]'`"
        )


class AwsSetupMissing(AwsError, ConfigError):
    """No region or no credentials: nothing to talk to."""


class CaNotRegistered(AwsError):
    """The station intermediate is not registered with AWS IoT yet."""


class CloudCallFailed(AwsError):
    """An AWS IoT call failed (after retries, for throttling and transient errors)."""

    def __init__(self, operation: str, code: str, message: str, *, retryable: bool) -> None:
        self.operation = operation
        self.code = code
        self.retryable = retryable
        super().__init__(f"AWS IoT {operation} failed: {code}: {message}")
