"""Follows one tenant's integration events from NATS JetStream with a durable consumer.

    pip install nats-py
    python consume_integration_events.py --tenant <tenant id> [--url nats://127.0.0.1:4222]

The durable consumer (``--durable``) remembers on the server which messages were
acknowledged, so a restarted reader continues where it stopped. Delivery is at least once:
a message not acknowledged (a crash mid-way) comes again, so the handler skips event ids it
has handled (keep them in your own store in real use; a set is enough for the example).
"""

from __future__ import annotations

import argparse
import asyncio
import json

import nats
from nats.errors import TimeoutError as NatsTimeout


def handle(event: dict[str, object]) -> None:
    payload = event["payload"]
    print(f"{event['occurred_at']} {event['type']} v{event['version']} {payload}")


async def follow(url: str, stream: str, prefix: str, tenant: str, durable: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(f"{prefix}.{tenant}.>", durable=durable, stream=stream)
    handled: set[str] = set()
    try:
        while True:
            try:
                messages = await sub.fetch(50, timeout=5)
            except NatsTimeout:
                continue  # nothing new for now
            for message in messages:
                event = json.loads(message.data)
                if event["id"] not in handled:  # at least once: skip what was handled
                    handle(event)
                    handled.add(event["id"])
                await message.ack()  # after handling: a crash before this re-delivers it
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--stream", default="COMMERCE")
    parser.add_argument("--prefix", default="commerce")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--durable", default="example-reader")
    args = parser.parse_args()
    asyncio.run(follow(args.url, args.stream, args.prefix, args.tenant, args.durable))


if __name__ == "__main__":
    main()
