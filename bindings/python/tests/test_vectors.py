"""Known-answer vectors of tests/vectors/v1.json, shared by every binding (docs/FORMAT.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import mqseal


@pytest.fixture
def vector_cipher(vectors: Dict[str, Any], tmp_path: Path) -> Iterator[mqseal.Cipher]:
    """A decrypt-only cipher over the vectors' fixed test keyring."""
    path = tmp_path / "vector-keyring"
    path.write_text(vectors["keyring"], encoding="utf-8")
    path.chmod(0o600)
    with mqseal.Cipher(keyring_path=path) as c:
        yield c


def test_vector_file_has_both_kinds(vectors: Dict[str, Any]) -> None:
    assert vectors["envelope_version"] == 1
    assert len(vectors["vectors"]) >= 8
    assert len(vectors["negative"]) >= 14


def test_positive_vectors_decrypt(vector_cipher: mqseal.Cipher, vectors: Dict[str, Any]) -> None:
    for vector in vectors["vectors"]:
        name = vector["name"]
        envelope = bytes.fromhex(vector["envelope"])
        decrypted = vector_cipher.decrypt(envelope, vector["context"])
        assert decrypted.body == bytes.fromhex(vector["body"]), name
        assert decrypted.sealed_properties == (vector["properties"] or {}), name
        assert decrypted.key_id == vector["key_id"], name
        assert decrypted.key_version == vector["key_version"], name
        assert decrypted.suite == vector["suite"], name
        assert decrypted.compressed == vector["compression"], name
        assert vector_cipher.decrypt_body(envelope, vector["context"]) == bytes.fromhex(
            vector["body"]
        ), name


def test_positive_vectors_inspect(vectors: Dict[str, Any]) -> None:
    for vector in vectors["vectors"]:
        name = vector["name"]
        info = mqseal.inspect(bytes.fromhex(vector["envelope"]))
        assert info["suite"] == vector["suite"], name
        assert info["compressed"] == vector["compression"], name
        assert info["sealed_properties"] == (vector["properties"] is not None), name
        [key] = info["keys"]
        assert key["key_id"] == vector["key_id"], name
        assert key["wrapped"].hex() == vector["wrapped_dek"], name
        if vector["store_context"]:
            assert info["stored_context"] == vector["context"], name
        else:
            assert info["stored_context"] is None, name


def test_stored_context_vectors_decrypt_without_context(
    vector_cipher: mqseal.Cipher, vectors: Dict[str, Any]
) -> None:
    stored = [v for v in vectors["vectors"] if v["store_context"]]
    assert stored
    for vector in stored:
        body = vector_cipher.decrypt_body(bytes.fromhex(vector["envelope"]))
        assert body == bytes.fromhex(vector["body"]), vector["name"]


def test_positive_vectors_encrypt_byte_for_byte(vectors: Dict[str, Any]) -> None:
    for vector in vectors["vectors"]:
        name = vector["name"]
        config = "\n".join(
            [
                "provider = callback",
                f"key_id = {vector['key_id']}",
                f"suite = {vector['suite']}",
                f"compression = {'lz4' if vector['compression'] else 'none'}",
                f"compression.min_size = {vector['compression_min_size']}",
                f"context.store = {'true' if vector['store_context'] else 'false'}",
            ]
        )
        with mqseal._native._debug_known_answer_cipher(
            config,
            bytes.fromhex(vector["dek"]),
            bytes.fromhex(vector["wrapped_dek"]),
            vector["key_version"],
        ) as cipher:
            envelope = cipher.encrypt(
                bytes.fromhex(vector["body"]), vector["context"], vector["properties"]
            )
        assert envelope.hex() == vector["envelope"], name


def test_negative_vectors_fail_with_their_code(
    vector_cipher: mqseal.Cipher, vectors: Dict[str, Any]
) -> None:
    for vector in vectors["negative"]:
        name = vector["name"]
        with pytest.raises(mqseal.MqsealError) as info:
            vector_cipher.decrypt(bytes.fromhex(vector["envelope"]), vector["context"])
        assert info.value.name == vector["error"], name
        assert info.value.code == mqseal.ERROR_CODES[vector["error"]], name
