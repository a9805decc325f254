"""The conformance suite: its cases in the order they run, and what each needs first.

A case whose prerequisite did not pass is reported "not run" with the reason, instead of
failing with a misleading message of its own (a KEYGEN sent with no key type, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from device_protocol.conformance import cases as c
from device_protocol.conformance import limit_cases as limits
from device_protocol.conformance import object_cases as objects
from device_protocol.conformance import rate_cases as rates
from device_protocol.conformance import wire_cases as w
from device_protocol.conformance.session import Session

Case = Callable[[Session], str]


@dataclass(frozen=True)
class CaseSpec:
    name: str
    run: Case
    needs: tuple[str, ...] = ()


_HELLO = ("hello",)
_KEY = ("keygen",)
_CSR = ("get-csr",)

#: The suite, in the order it runs. Names are stable: tests and reports refer to them.
SUITE: tuple[CaseSpec, ...] = (
    CaseSpec("hello", c.hello),
    CaseSpec("hello-fits", limits.hello_fits, _HELLO),
    CaseSpec("uid", limits.uid, _HELLO),
    CaseSpec("chain-storage", limits.chain_storage, _HELLO),
    CaseSpec("bad-version", c.bad_version, _HELLO),
    CaseSpec("unsupported", c.unsupported, _HELLO),
    CaseSpec("bad-request", c.bad_request, _HELLO),
    CaseSpec("blank-state", c.blank_state, _HELLO),
    CaseSpec("unsupported-key", c.unsupported_key, _HELLO),
    CaseSpec("keep-alive", w.keep_alive, _HELLO),
    CaseSpec("keygen", c.keygen, _HELLO),
    CaseSpec("get-csr", c.get_csr, _KEY),
    CaseSpec("read-errors", c.read_errors, _KEY),
    CaseSpec("replay", w.replay, _KEY),
    CaseSpec("bad-crc", w.bad_crc, _KEY),
    CaseSpec("framing", w.framing, _KEY),
    CaseSpec("too-large", c.too_large, _KEY),
    CaseSpec("digest-mismatch", c.digest_mismatch, _CSR),
    CaseSpec("put-cert", c.put_cert, _CSR),
    CaseSpec("get-cert", c.get_cert, ("put-cert",)),
    CaseSpec("hello-clears-cache", w.hello_clears_cache, ("put-cert",)),
    CaseSpec("stored-digest", rates.stored_digest, ("get-cert",)),
    CaseSpec("text-chunks", objects.text_chunks_case, ("get-cert",)),
    CaseSpec("sign", c.sign, _CSR),
    CaseSpec("inline-objects", objects.inline_objects, _KEY),
    CaseSpec("lock", c.lock, ("put-cert",)),
    CaseSpec("locked", c.locked, ("lock",)),
    CaseSpec("line-length", w.line_length),
    CaseSpec("console", w.console),
    CaseSpec("baud-switch", rates.baud_switch, _HELLO),
    CaseSpec("baud-fallback", rates.baud_fallback, _HELLO),
)

#: (name, case) pairs, in order.
CASES: tuple[tuple[str, Case], ...] = tuple((spec.name, spec.run) for spec in SUITE)
