"""Shared fixtures: a keyring generated at test time and ciphers over it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import mqseal

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS_PATH = Path(os.environ.get("MQSEAL_VECTORS", REPO_ROOT / "tests" / "vectors" / "v1.json"))

KEY_ID = "orders"
TOPIC = {"topic": "orders"}


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    """A keyring file with one random key named ``orders``, made for this test."""
    path = tmp_path / "keyring"
    assert mqseal.keyring_generate(path, KEY_ID) == 1
    return path


@pytest.fixture
def cipher(keyring_path: Path) -> Iterator[mqseal.Cipher]:
    with mqseal.Cipher(keyring_path=keyring_path, key_ids=KEY_ID) as c:
        yield c


@pytest.fixture(scope="session")
def vectors() -> Dict[str, Any]:
    with open(VECTORS_PATH, encoding="utf-8") as f:
        return json.load(f)
