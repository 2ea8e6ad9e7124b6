"""Encrypt and decrypt a message body with mqseal and AWS KMS.

Run it against local-kms, the KMS test server, with scripts/kms-examples.sh, or against
AWS KMS with credentials from the standard AWS chain:

    MQSEAL_KMS_REGION=eu-west-1 MQSEAL_KMS_ALIAS=alias/orders python kms_example.py

MQSEAL_KMS_ENDPOINT, when set, names a local endpoint such as local-kms.
"""

from __future__ import annotations

import os
import sys

import mqseal


def config(key_id: str | None) -> str:
    lines = ["provider = aws-kms", f"aws_kms.region = {os.environ['MQSEAL_KMS_REGION']}"]
    endpoint = os.environ.get("MQSEAL_KMS_ENDPOINT")
    if endpoint:
        lines.append(f"aws_kms.endpoint = {endpoint}")
    if key_id:
        lines.append(f"key_id = {key_id}")
    return "\n".join(lines) + "\n"


def main() -> int:
    alias = os.environ["MQSEAL_KMS_ALIAS"]
    topic = {"topic": "orders"}
    with mqseal.Cipher.from_config(config(alias)) as producer:
        envelope = producer.encrypt(b'{"order": 42}', topic)
    info = mqseal.inspect(envelope)
    key = info["keys"][0]
    print(f"python: sealed {len(envelope)} bytes under {key['key_id']}")

    # A consumer needs no key id: the envelope names the KMS key ARN.
    with mqseal.Cipher.from_config(config(None)) as consumer:
        decrypted = consumer.decrypt(envelope, topic)
        counters = consumer.counters()
    if decrypted.body != b'{"order": 42}':
        print("python: the decrypted body differs from the original", file=sys.stderr)
        return 1
    print(
        f"python: decrypted {len(decrypted.body)} bytes with {decrypted.key_id}; "
        f"{counters['provider_calls']} KMS call, "
        f"{counters['provider_latency_us_total']} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
