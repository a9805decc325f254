"""RFC 7512 URI parsing: table-driven, ok/... and fail/... cases (examples from RFC 7512 s. 3)."""

from __future__ import annotations

import pytest

from station.pki.pkcs11_uri import UriError, is_pkcs11_uri, parse_key_uri, parse_uri

OK = {
    "ok/token-and-object": (
        "pkcs11:token=station;object=intermediate",
        {"token": b"station", "object": b"intermediate"},
        {},
    ),
    "ok/empty": ("pkcs11:", {}, {}),
    "ok/scheme-case-insensitive": ("PKCS11:token=a", {"token": b"a"}, {}),
    "ok/percent-encoded-space-and-semicolon": (
        "pkcs11:token=My%20token%3b1;object=a%2fb",
        {"token": b"My token;1", "object": b"a/b"},
        {},
    ),
    "ok/binary-id": ("pkcs11:id=%01%a2%FF", {"id": b"\x01\xa2\xff"}, {}),
    "ok/rfc-example-full": (
        "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
        "model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;"
        "serial=?pin-source=file:/etc/token",
        None,
        None,
    ),
    "ok/module-path-query": (
        "pkcs11:object=k?module-path=/usr/lib/softhsm/libsofthsm2.so",
        {"object": b"k"},
        {"module-path": b"/usr/lib/softhsm/libsofthsm2.so"},
    ),
    "ok/query-ampersand-separates": (
        "pkcs11:object=k?module-name=softhsm2&module-path=/x%20y.so",
        {"object": b"k"},
        {"module-name": b"softhsm2", "module-path": b"/x y.so"},
    ),
    "ok/ampersand-in-path-value": ("pkcs11:object=a&b", {"object": b"a&b"}, {}),
    "ok/vendor-attribute": ("pkcs11:x-vendor=1;object=k", {"x-vendor": b"1", "object": b"k"}, {}),
    "ok/slot-id": ("pkcs11:slot-id=3;object=k", {"slot-id": b"3", "object": b"k"}, {}),
}

FAIL = {
    "fail/not-pkcs11": ("file:/etc/key.pem", "not a pkcs11: URI"),
    "fail/attribute-without-value": ("pkcs11:token", "not name=value"),
    "fail/unknown-path-attribute": ("pkcs11:tokn=a", "unknown path attribute 'tokn'"),
    "fail/unknown-query-attribute": ("pkcs11:token=a?pin=1", "unknown query attribute 'pin'"),
    "fail/duplicate-path-attribute": ("pkcs11:token=a;token=b", "appears twice"),
    "fail/bad-percent": ("pkcs11:token=a%2", "bad percent-encoding"),
    "fail/bad-percent-hex": ("pkcs11:token=a%zz", "bad percent-encoding"),
    "fail/pin-value": ("pkcs11:token=a?pin-value=1234", "STATION_PKCS11_PIN"),
    "fail/pin-source": ("pkcs11:token=a?pin-source=file:/pin", "STATION_PKCS11_PIN"),
    "fail/bad-type": ("pkcs11:type=key", "type='key'"),
    "fail/bad-slot-id": ("pkcs11:slot-id=x", "not a decimal"),
}


@pytest.mark.parametrize("case", [k for k in OK if "pin-source" not in OK[k][0]])
def test_ok(case: str) -> None:
    text, path, query = OK[case]
    uri = parse_uri(text)
    assert uri.path == path
    assert uri.query == query


@pytest.mark.parametrize("case", list(FAIL))
def test_fail(case: str) -> None:
    text, message = FAIL[case]
    with pytest.raises(UriError, match=message.replace("?", r"\?")):
        parse_uri(text)


def test_rfc_example_parses_apart_from_the_refused_pin_source() -> None:
    text = OK["ok/rfc-example-full"][0]
    with pytest.raises(UriError, match="PIN"):
        parse_uri(text)
    uri = parse_uri(text.partition("?")[0])
    assert uri.token == "The Software PKCS#11 Softtoken"
    assert uri.path["manufacturer"] == b"Snake Oil, Inc."
    assert uri.id == bytes.fromhex("69953e5cf4bdec91")
    assert uri.type == "cert"
    assert uri.serial == ""


@pytest.mark.parametrize(
    "text",
    [
        "pkcs11:token=station;object=intermediate",
        "pkcs11:token=My%20token%3B1;object=a%2Fb;id=%01%FF",
        "pkcs11:object=k?module-path=/usr/lib/x%20y.so",
    ],
)
def test_round_trip(text: str) -> None:
    uri = parse_uri(text)
    assert parse_uri(str(uri)) == uri


def test_accessors_and_description() -> None:
    uri = parse_uri("pkcs11:token=st;object=ca;id=%0a?module-path=/m.so")
    assert (uri.token, uri.object, uri.id, uri.module_path) == ("st", "ca", b"\n", "/m.so")
    assert uri.describe() == "object 'ca' id 0a on token 'st'"
    assert is_pkcs11_uri("PKCS11:x=1")
    assert not is_pkcs11_uri("ca/intermediate.key.pem")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pkcs11:token=st", "names no key"),
        ("pkcs11:token=st;object=ca;type=cert", "type=private"),
    ],
)
def test_key_uri_must_name_a_private_key(text: str, message: str) -> None:
    with pytest.raises(UriError, match=message):
        parse_key_uri(text)
    assert parse_key_uri("pkcs11:token=st;id=%01;type=private").id == b"\x01"
