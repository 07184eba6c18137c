"""`ruta-local`: start, stop and inspect the local stack or just its infrastructure."""

from __future__ import annotations

import argparse
import sys
import time

from ruta_local import stack
from ruta_local.infra import InfraError, ferretdb_binary, kafka_libs


def _build() -> None:
    started = time.monotonic()
    print(f"kafka jars          {kafka_libs()}")
    print(f"ferretdb binary     {ferretdb_binary()}")
    print(f"ready in {time.monotonic() - started:.1f}s")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ruta-local` command."""
    parser = argparse.ArgumentParser(
        prog="ruta-local",
        description="Ruta's local stack: real Apache Kafka (KRaft) and FerretDB, the four "
        "services and the analytics consumer. Data and logs live in .local/.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the infrastructure, the services and the consumer")
    commands.add_parser("down", help="stop everything")
    commands.add_parser("status", help="show what runs and answers")
    commands.add_parser("build", help="fetch Kafka and build FerretDB into the cache only")
    infra = commands.add_parser("infra", help="only Kafka and FerretDB")
    infra.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            stack.up()
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            return stack.status()
        elif args.command == "build":
            _build()
        elif args.action == "start":
            stack.infra_up()
        elif args.action == "stop":
            for server in (stack.ferretdb(), stack.kafka()):
                print(f"{server.name:<19} {'stopped' if server.stop() else 'not running'}")
        else:
            for server in (stack.kafka(), stack.ferretdb()):
                pid = server.pid()
                state = "stopped" if pid is None else f"running (pid {pid})"
                if pid is not None:
                    state += ", ready" if server.ready() else ", NOT answering"
                print(f"{server.name:<19} {state}")
    except InfraError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
