"""Pacing of AWS calls, with fake time: the rate per API, backoff bounds, what is retried."""

from __future__ import annotations

import random

import pytest

from station.aws.pacing import Backoff, RateLimiter, retryable


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_ok_rate_limiter_spaces_each_api_and_keeps_apis_apart() -> None:
    t = FakeTime()
    limiter = RateLimiter(10.0, t.clock, t.sleep)
    starts = []
    for _ in range(11):
        limiter.wait("register_certificate")
        starts.append(t.now)
    assert starts == pytest.approx([i / 10 for i in range(11)])
    assert sum(1 for s in starts if s < 0.999) == 10  # no more than 10 in a second
    limiter.wait("create_thing")  # another API has its own spacing
    assert t.now == pytest.approx(1.0)


def test_ok_rate_limiter_does_not_wait_after_a_pause() -> None:
    t = FakeTime()
    limiter = RateLimiter(10.0, t.clock, t.sleep)
    limiter.wait("x")
    t.now += 5
    limiter.wait("x")
    assert t.slept == []


def test_fail_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, lambda: 0.0, lambda _: None)


@pytest.mark.parametrize("retry", [1, 2, 3, 6, 10])
def test_ok_backoff_is_jittered_under_an_exponential_cap(retry: int) -> None:
    backoff = Backoff(base=0.2, cap=5.0)
    rng = random.Random(retry)
    delays = [backoff.delay(retry, rng) for _ in range(200)]
    bound = min(5.0, 0.2 * 2 ** (retry - 1))
    assert all(0 <= d <= bound for d in delays)
    assert max(delays) > bound / 2  # jitter spreads over the range


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, True),
        ("TooManyRequestsException", 429, True),
        ("ServiceUnavailableException", 503, True),
        ("InternalFailureException", 500, True),
        ("Whatever", 429, True),
        ("Whatever", 502, True),
        ("ResourceAlreadyExistsException", 409, False),
        ("InvalidRequestException", 400, False),
        ("CertificateValidationException", 400, False),
    ],
    ids=lambda v: str(v),
)
def test_retryable_codes(code: str, status: int, expected: bool) -> None:
    assert retryable(code, status) is expected
