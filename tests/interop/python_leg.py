#!/usr/bin/env python3
"""The Python leg of the interop matrix (scripts/test-interop.sh), on mqseal.rocketmq.

It talks to the proxy's gRPC endpoint through rocketmq-python-client.

  produce --endpoint HOST:PORT --keyring FILE --key-id ID --count N
      Send COUNT messages of every variant to topic interop-python with
      mqseal.rocketmq.EncryptingProducer, one cipher per suite and compression setting.
  consume --endpoint HOST:PORT --keyring FILE --topics T1,T2 --expect N --out FILE
          --ready FILE --timeout SECONDS
      Receive from every topic with mqseal.rocketmq.DecryptingSimpleConsumer (group
      interop-python-consumer), check each message like every other leg does and write one
      JSON line per message to OUT. Creates READY once the consumer has started. Exits 1
      when messages are missing after the timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rocketmq import ClientConfiguration, Credentials, FilterExpression, Message, Producer
from rocketmq import SimpleConsumer

import mqseal
from mqseal.rocketmq import DecryptingSimpleConsumer, EncryptingProducer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop  # noqa: E402

#: Seconds a received message stays invisible before the proxy delivers it again.
INVISIBLE_SECONDS = 30


def produce(args: argparse.Namespace) -> int:
    topic = interop.topic("python")
    config = ClientConfiguration(args.endpoint, Credentials(), request_timeout=10)
    client = Producer(config, (topic,))
    client.startup()
    sent = 0
    try:
        for suite in interop.SUITES:
            for compression in interop.COMPRESSIONS:
                with mqseal.Cipher(
                    keyring_path=args.keyring,
                    key_ids=args.key_id,
                    suite=suite,
                    compression=compression == "on",
                ) as cipher:
                    producer = EncryptingProducer(client, cipher)
                    for sequence in range(args.count):
                        message = Message()
                        message.topic = topic
                        message.tag = "interop"
                        message.body = interop.body("python", suite, compression, sequence)
                        properties = interop.interop_properties("python", suite, compression, sequence)
                        for name, value in properties.items():
                            message.add_property(name, value)
                        producer.send(message)
                        sent += 1
    finally:
        client.shutdown()
    print(f"interop: python producer sent {sent} messages")
    return 0


def consume(args: argparse.Namespace) -> int:
    config = ClientConfiguration(args.endpoint, Credentials(), request_timeout=10)
    subscriptions = {topic: FilterExpression() for topic in args.topics.split(",") if topic}
    client = SimpleConsumer(config, "interop-python-consumer", subscriptions, await_duration=5)
    seen = set()
    with mqseal.Cipher(keyring_path=args.keyring) as cipher, open(
        args.out, "w", encoding="utf-8"
    ) as out:
        consumer = DecryptingSimpleConsumer(client, cipher)
        consumer.startup()
        try:
            Path(args.ready).write_text("ready\n", encoding="utf-8")
            deadline = time.monotonic() + args.timeout
            while len(seen) < args.expect and time.monotonic() < deadline:
                # Messages that fail to decrypt are dead-lettered inside receive() and
                # never returned; the summary reports them as missing.
                for view in consumer.receive(16, INVISIBLE_SECONDS):
                    header = mqseal.inspect(view.original.body)
                    result = interop.check(
                        "python",
                        dict(view.properties),
                        view.body,
                        None,
                        header["suite"],
                        header["compressed"],
                    )
                    out.write(json.dumps(result) + "\n")
                    out.flush()
                    consumer.ack(view)
                    seen.add(
                        (result["producer"], result["suite"], result["compression"], result["seq"])
                    )
        finally:
            consumer.shutdown()
    if len(seen) < args.expect:
        print(
            f"interop: python consumer is missing {args.expect - len(seen)} messages",
            file=sys.stderr,
        )
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    producer = commands.add_parser("produce")
    producer.add_argument("--endpoint", required=True)
    producer.add_argument("--keyring", type=Path, required=True)
    producer.add_argument("--key-id", required=True)
    producer.add_argument("--count", type=int, required=True)
    consumer = commands.add_parser("consume")
    consumer.add_argument("--endpoint", required=True)
    consumer.add_argument("--keyring", type=Path, required=True)
    consumer.add_argument("--topics", required=True)
    consumer.add_argument("--expect", type=int, required=True)
    consumer.add_argument("--out", type=Path, required=True)
    consumer.add_argument("--ready", type=Path, required=True)
    consumer.add_argument("--timeout", type=float, required=True)
    args = parser.parse_args()
    return produce(args) if args.command == "produce" else consume(args)


if __name__ == "__main__":
    sys.exit(main())
