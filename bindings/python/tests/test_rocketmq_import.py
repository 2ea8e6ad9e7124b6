"""mqseal.rocketmq without the RocketMQ client: a clear ImportError that names the pip extra."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.mark.skipif(
    importlib.util.find_spec("rocketmq") is not None,
    reason="a rocketmq module is installed; tests-rocketmq covers mqseal.rocketmq",
)
def test_import_without_client_names_extra():
    with pytest.raises(ImportError) as raised:
        import mqseal.rocketmq  # noqa: F401
    message = str(raised.value)
    assert "rocketmq-python-client" in message
    assert "constraints-rocketmq.txt" in message
    assert '"$(bindings/python/build-wheel.sh)[rocketmq]"' in message
    assert "pip install 'mqseal[rocketmq]'" not in message


def test_core_import_does_not_need_client():
    import mqseal

    assert not hasattr(mqseal, "EncryptingProducer")
    assert "rocketmq" not in mqseal.__all__
