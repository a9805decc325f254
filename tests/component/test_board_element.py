"""The virtual board's secure element: state held in memory, every change written through to its
folder, read from there once, when a board is created on it (a restarted simulator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fixtures.board.element import SecureElement, generate_key

CHAIN = b"-----BEGIN CERTIFICATE-----\nnot parsed by the element\n-----END CERTIFICATE-----\n"


def public_numbers(element: SecureElement) -> ec.EllipticCurvePublicNumbers:
    key = element.key()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.public_key().public_numbers()


def provisioned(folder: Path) -> SecureElement:
    element = SecureElement(folder)
    element.store_key(generate_key("ec-p256"), "ec-p256")
    element.store_chain(CHAIN)
    element.lock()
    return element


def test_each_change_is_on_disk_so_a_board_created_again_on_the_folder_is_the_same(
    tmp_path: Path,
) -> None:
    element = SecureElement(tmp_path / "b")
    element.store_key(generate_key("ec-p256"), "ec-p256")
    again = SecureElement(tmp_path / "b")
    assert (again.key_type, again.chain(), again.locked) == ("ec-p256", None, False)
    assert public_numbers(again) == public_numbers(element)

    element.store_chain(CHAIN)
    assert SecureElement(tmp_path / "b").chain() == CHAIN
    element.lock()
    assert SecureElement(tmp_path / "b").locked
    assert (tmp_path / "b" / "key.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "b" / "chain.pem").stat().st_mode & 0o777 == 0o644


def test_a_new_key_drops_the_chain_in_memory_and_on_disk(tmp_path: Path) -> None:
    element = provisioned(tmp_path / "b")
    element.store_key(generate_key("ec-p384"), "ec-p384")
    assert (element.key_type, element.chain()) == ("ec-p384", None)
    assert not (tmp_path / "b" / "chain.pem").exists()
    assert SecureElement(tmp_path / "b").key_type == "ec-p384"


def test_the_files_are_read_once_when_the_board_is_created(tmp_path: Path) -> None:
    element = provisioned(tmp_path / "b")
    key = element.key()
    assert key is not None
    assert element.key() is key  # parsed once, not on every use
    (tmp_path / "b" / "meta.json").write_text(json.dumps({}))
    (tmp_path / "b" / "chain.pem").write_bytes(b"changed behind the board's back")
    (tmp_path / "b" / "key.pem").unlink()
    assert (element.locked, element.key_type, element.chain()) == (True, "ec-p256", CHAIN)
    assert element.key() is key


def test_a_key_loaded_from_the_folder_is_parsed_once(tmp_path: Path) -> None:
    provisioned(tmp_path / "b")
    again = SecureElement(tmp_path / "b")
    key = again.key()
    assert key is not None
    assert again.key() is key


def test_wipe_erases_the_board_on_disk_and_in_memory_and_keeps_its_identity(
    tmp_path: Path,
) -> None:
    element = provisioned(tmp_path / "b")
    (tmp_path / "b" / "identity.json").write_text("{}")
    element.wipe()
    blank = (False, None, None, None)
    assert (element.locked, element.key_type, element.key(), element.chain()) == blank
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["identity.json"]
    again = SecureElement(tmp_path / "b")
    assert (again.locked, again.key_type, again.key(), again.chain()) == blank
    element.wipe()  # a blank board erases again without complaint
    element.store_key(generate_key("ec-p256"), "ec-p256")
    assert SecureElement(tmp_path / "b").key_type == "ec-p256"


def test_a_damaged_state_file_names_itself_and_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"meta\.json is not valid JSON .*remove the board's"):
        SecureElement(tmp_path / "b")
