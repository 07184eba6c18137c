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


def _layout_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--brokers",
        type=int,
        choices=[1, 3],
        help="Kafka nodes: 1, or a KRaft cluster of 3 (topics then get 3 replicas, 2 in sync); "
        "default: what the stack last ran with, else 1",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        choices=range(1, 10),
        metavar="N",
        help="processes of each service (the console runs once) and analytics consumers; "
        "replica n listens on its port + 10*(n-1); default: as last run, else 1",
    )


def _layout(args: argparse.Namespace) -> stack.Layout:
    saved = stack.Layout.load()
    return stack.Layout(
        brokers=args.brokers or saved.brokers, replicas=args.replicas or saved.replicas
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ruta-local` command."""
    parser = argparse.ArgumentParser(
        prog="ruta-local",
        description="Ruta's local stack: real Apache Kafka (KRaft) and FerretDB, the four "
        "services and the analytics consumer. Data and logs live in .local/.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the infrastructure, the services and the consumer")
    _layout_options(up)
    commands.add_parser("down", help="stop everything")
    commands.add_parser("status", help="show what runs and answers")
    commands.add_parser("build", help="fetch Kafka and build FerretDB into the cache only")
    infra = commands.add_parser("infra", help="only Kafka and FerretDB")
    infra.add_argument("action", choices=["start", "stop", "status"])
    _layout_options(infra)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            stack.up(_layout(args))
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            return stack.status()
        elif args.command == "build":
            _build()
        elif args.action == "start":
            layout = _layout(args)
            layout.save()
            stack.infra_up(layout)
        elif args.action == "stop":
            for server in (stack.ferretdb(), *reversed(stack.kafka())):
                print(f"{server.name:<19} {'stopped' if server.stop() else 'not running'}")
        else:
            for server in (*stack.kafka(), stack.ferretdb()):
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
