"""The Link against virtual boards over real ptys (and loopback TCP): SPEC.md end to end."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from device_protocol import Disconnected, Link, Timeout
from device_protocol.errors import DeviceError, ProtocolError
from device_protocol.messages import BoardState, Status
from fixtures.board import BoardServer, Faults

MakeBoard = Callable[..., BoardServer]


def verify_signature(csr: x509.CertificateSigningRequest, challenge: bytes, sig: bytes) -> None:
    key = csr.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(sig, challenge, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(sig, challenge, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    ("key_type", "key_class", "bits"),
    [
        ("ec-p256", ec.EllipticCurvePublicKey, 256),
        ("ec-p384", ec.EllipticCurvePublicKey, 384),
        ("rsa-2048", rsa.RSAPublicKey, 2048),
    ],
)
def test_full_exchange_over_a_pty(
    make_board: MakeBoard, key_type: str, key_class: type, bits: int
) -> None:
    board = make_board(Faults(chatter=0.5))
    console: list[str] = []
    with Link.open_url(board.url, on_console=console.append) as link:
        info = link.hello()
        assert info.uid == board.identity.uid
        assert info.state is BoardState.BLANK
        assert link.keygen(key_type).key_type == key_type
        assert link.hello().state is BoardState.KEYED

        csr = x509.load_der_x509_csr(link.get_csr("thing-1"))
        assert csr.is_signature_valid
        assert isinstance(csr.public_key(), key_class)
        assert csr.public_key().key_size == bits

        chain = os.urandom(1500)
        link.put_cert(chain)
        assert link.get_cert() == chain
        assert link.hello().state is BoardState.CERTIFIED

        challenge = os.urandom(32)
        sig, alg = link.sign(challenge)
        assert alg in ("ecdsa-sha256", "rsa-pkcs1-sha256")
        verify_signature(csr, challenge, sig)

        assert link.lock() is BoardState.LOCKED
    assert console, "the board's chatter reaches on_console"


def test_locked_board_keeps_the_qa_subset_and_refuses_rekeying(make_board: MakeBoard) -> None:
    board = make_board()
    with Link.open_url(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        csr = x509.load_der_x509_csr(link.get_csr())
        link.put_cert(b"chain-1")
        link.lock()
        for attempt in (lambda: link.keygen("ec-p256"), lambda: link.put_cert(b"chain-2")):
            with pytest.raises(DeviceError) as refused:
                attempt()
            assert refused.value.status == Status.LOCKED
        assert link.hello().state is BoardState.LOCKED
        assert link.get_cert() == b"chain-1"
        sig, _ = link.sign(b"c" * 32)
        verify_signature(csr, b"c" * 32, sig)


def test_an_8k_object_moves_with_a_128_byte_line_limit(make_board: MakeBoard) -> None:
    board = make_board(mtu=128)
    chain = os.urandom(8192)
    with Link.open_url(board.url) as link:
        assert link.hello().mtu == 128
        link.keygen("ec-p256")
        link.put_cert(chain)
        assert link.get_cert() == chain
        assert link.stats.requests > 2 * 8192 // 96  # many small chunks, each within the limit
    stored = (board.device.element.folder / "chain.pem").read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(chain).digest()


def test_one_percent_byte_corruption_still_completes(make_board: MakeBoard) -> None:
    board = make_board(Faults(corrupt=0.01, chatter=0.3), seed=7)
    chain = os.urandom(1800)
    # Whole answers are lost now and then on a line this noisy (a damaged marker is silence):
    # timeouts and retries as configured for a noisy line, not a loaded CI machine's luck.
    with Link.open_url(board.url, timeout=1.0, retries=6) as link:
        link.hello()
        link.keygen("ec-p256")
        csr = x509.load_der_x509_csr(link.get_csr())
        link.put_cert(chain)
        assert link.get_cert() == chain
        sig, _ = link.sign(b"n" * 32)
        verify_signature(csr, b"n" * 32, sig)
        link.lock()
        assert link.stats.resends + link.stats.retries > 0, "the noise was real"
    assert board.device.element.chain() == chain


def test_byte_drops_still_complete(make_board: MakeBoard) -> None:
    board = make_board(Faults(drop=0.005), seed=3)
    with Link.open_url(board.url, timeout=0.5) as link:
        link.hello()
        link.keygen("ec-p256")
        link.put_cert(b"x" * 2000)
        assert link.get_cert() == b"x" * 2000


def test_disconnect_gives_disconnected_within_the_timeout(make_board: MakeBoard) -> None:
    board = make_board(Faults(disconnect="KEYGEN"))
    with Link.open_url(board.url, timeout=1.0) as link:
        link.hello()
        start = time.monotonic()
        with pytest.raises(Disconnected) as gone:
            link.keygen("ec-p256")
        assert time.monotonic() - start < 1.0
    assert board.url in str(gone.value)
    assert "reseat" in str(gone.value)


def test_hang_gives_timeout_after_bounded_retries(make_board: MakeBoard) -> None:
    board = make_board(Faults(hang="GET_CSR"))
    with Link.open_url(board.url, timeout=0.5, retries=2) as link:
        link.hello()
        link.keygen("ec-p256")
        start = time.monotonic()
        with pytest.raises(Timeout) as hung:
            link.get_csr()
        elapsed = time.monotonic() - start
    assert 1.5 <= elapsed < 1.5 + 1.0  # 3 transmissions x 0.5 s, then a clean error
    assert hung.value.request == "GET_CSR"
    assert link.stats.retries == 2


def test_keepalives_let_a_10_s_keygen_finish_under_a_2_s_timeout(make_board: MakeBoard) -> None:
    board = make_board(Faults(keygen_delay=10))
    with Link.open_url(board.url, timeout=2.0) as link:
        link.hello()
        start = time.monotonic()
        link.keygen("ec-p256")
        assert time.monotonic() - start >= 10
        assert link.stats.keepalives >= 15
        assert link.stats.retries == 0


def test_a_fault_cleared_lets_the_same_board_finish(make_board: MakeBoard) -> None:
    board = make_board(Faults(hang="KEYGEN"))
    with Link.open_url(board.url, timeout=0.3, retries=1) as link:
        link.hello()
        with pytest.raises(Timeout):
            link.keygen("ec-p256")
        board.faults = Faults()
        assert link.keygen("ec-p256").key_type == "ec-p256"


def test_loopback_tcp_transport(make_board: MakeBoard) -> None:
    board = make_board(transport="tcp")
    assert board.url.startswith("socket://127.0.0.1:")
    with Link.open_url(board.url) as link:
        assert link.hello().uid == board.identity.uid
        link.keygen("ec-p256")
        assert x509.load_der_x509_csr(link.get_csr()).is_signature_valid


def test_the_port_is_opened_exclusively(make_board: MakeBoard) -> None:
    board = make_board()
    with Link.open_url(board.url) as first:
        first.hello()
        with pytest.raises(Disconnected, match="no other program"):
            Link.open_url(board.url)


def test_unsupported_key_type_is_a_device_error(make_board: MakeBoard) -> None:
    board = make_board(key_types=("ec-p256",))
    with Link.open_url(board.url) as link, pytest.raises(DeviceError) as refused:
        link.keygen("rsa-2048")
    assert refused.value.status == Status.UNSUPPORTED_KEY
    assert "UNSUPPORTED_KEY" in str(refused.value)


def test_flash_write_failure_keeps_the_previous_chain(make_board: MakeBoard) -> None:
    board = make_board()
    with Link.open_url(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        link.put_cert(b"first chain")
        board.faults = Faults(flash_fail=True)
        with pytest.raises(DeviceError) as failed:
            link.put_cert(b"second chain")
        assert failed.value.status == Status.STORAGE_FAILED
        assert link.get_cert() == b"first chain"


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("signature", lambda csr, uid: not csr.is_signature_valid),
        ("weak-key", lambda csr, uid: csr.public_key().key_size == 1024),
        (
            "foreign-subject",
            lambda csr, uid: uid not in csr.subject.rfc4514_string(),
        ),
    ],
)
def test_bad_csr_faults(make_board: MakeBoard, kind: str, check: Callable[..., bool]) -> None:
    board = make_board(Faults(bad_csr=kind))
    with Link.open_url(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        csr = x509.load_der_x509_csr(link.get_csr())
    assert check(csr, board.identity.uid)


def test_baud_pacing_takes_the_time_of_the_wire(make_board: MakeBoard) -> None:
    board = make_board(Faults(baud=9600, boot_chatter=False))
    with Link.open_url(board.url) as link:
        start = time.monotonic()
        link.hello()
        elapsed = time.monotonic() - start
    wire_bytes = link.stats.bytes_out + link.stats.bytes_in
    assert elapsed >= 0.9 * wire_bytes * 10 / 9600


def test_a_cn_hint_that_fits_only_with_a_short_seq_is_dropped_not_a_protocol_error(
    make_board: MakeBoard,
) -> None:
    # 100 characters of hint: 127 bytes of GET_CSR line with seq 1 (under mtu 128), 131 with
    # a 5-digit seq. The size check and the request must agree: the hint is left out.
    hint = "h" * 100
    board = make_board(mtu=128)
    with Link.open_url(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        link._seq = 65534  # the next request carries seq 65535
        csr = x509.load_der_x509_csr(link.get_csr(hint))
    cn = csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == board.identity.uid


@pytest.mark.parametrize("step", ["HELLO", "GET_CSR"])
def test_a_board_leaving_mid_request_is_named_with_that_request(
    make_board: MakeBoard, step: str
) -> None:
    board = make_board(Faults(disconnect=step))

    def cycle(link: Link) -> None:
        link.hello()
        link.keygen("ec-p256")
        link.get_csr()

    with Link.open_url(board.url, timeout=1.0) as link, pytest.raises(Disconnected) as gone:
        cycle(link)
    assert gone.value.request == step
    assert f"the board left the line while answering {step} (" in str(gone.value)


def test_a_large_mtu_is_received_whole(make_board: MakeBoard) -> None:
    """SPEC.md 2.5: the station receives lines up to the mtu the board announces."""
    board = make_board(mtu=16384)
    chain = os.urandom(12000)  # one READ answer of about 16 KB
    with Link.open_url(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        link.put_cert(chain)
        assert link.get_cert() == chain
        assert link.stats.resends == 0


def test_a_line_over_the_mtu_is_reported_as_what_it_is(make_board: MakeBoard) -> None:
    board = make_board(Faults(overrun=8192), mtu=256)
    with Link.open_url(board.url) as link:
        link.hello()
        link.keygen("ec-p256")
        link.put_cert(os.urandom(6000))
        with pytest.raises(ProtocolError) as long:
            link.get_cert()
    assert "frame line longer than 4096 bytes, over its mtu 256" in str(long.value)
    assert "noisy" not in str(long.value)
