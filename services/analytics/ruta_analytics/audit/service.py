"""What the audit routes do: read a trail by `_id`, lay it out, verify it, export it, seal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from aiokafka.errors import KafkaError
from fastapi import HTTPException
from ruta_shared.lima import lima_day_start
from ruta_shared.security.keys import public_key_pem

from ruta_analytics.audit import checkpoints as store
from ruta_analytics.audit.kafka import backed_entries, latest_published
from ruta_analytics.audit.ledger import bucket_problem, load_trail, verify_ledger
from ruta_analytics.audit.merkle import bucket_of, inclusion_proof
from ruta_analytics.audit.rules import canonical_json, verify_trail
from ruta_analytics.audit.timeline import ACCESS_EVENTS, entry_view, ordered, route, stages
from ruta_analytics.audit.verify import (
    chain_findings,
    checkpoint_findings,
    checkpoint_hash,
    finding,
    proof_findings,
    sealed_leaf,
    sequence_findings,
    unbacked_findings,
)
from ruta_analytics.projection.models import Document
from ruta_analytics.runtime import Runtime

NO_RECORDS = "No hay registros para este caso."


@contextlib.contextmanager
def kafka_needed() -> Iterator[None]:
    """A verification that cannot reach Kafka answers 503: it proves nothing either way."""
    try:
        yield
    except (KafkaError, OSError, TimeoutError):
        detail = "No se pudo consultar Kafka para verificar: vuelva a intentarlo."
        raise HTTPException(status_code=503, detail=detail) from None


async def trail_documents(*, runtime: Runtime, trail: str) -> tuple[list[Document], Document]:
    """A trail's entries and its chain's head; 404 when the ledger has nothing for it."""
    entries, head = await load_trail(runtime.db, trail)
    if head is None and not entries:
        raise HTTPException(status_code=404, detail=NO_RECORDS)
    return entries, head or {}


async def read_trail(*, runtime: Runtime, trail: str) -> Document:
    """A trail's stages with the time spent in each, its route step by step, every entry."""
    entries, _head = await trail_documents(runtime=runtime, trail=trail)
    return {
        "trail": trail,
        "stages": stages(entries),
        "route": route(entries),
        "entries": [entry_view(entry) for entry in ordered(entries)],
    }


async def sealed_state(*, runtime: Runtime, trail: str) -> Document:
    """The latest checkpoint and what it sealed for `trail`, with the checkpoint's problems
    (signature, chain, bucket, Kafka copy) and the trail's inclusion proof."""
    db, keys = runtime.db, runtime.audit_keys
    seq = await store.latest_seq(db)
    checkpoint = await store.read_checkpoint(db, seq) if seq else None
    found: list[Document] = []
    sealed, proof = None, None
    if seq and checkpoint is None:
        found.append(finding("checkpoint_missing", seq))
    if checkpoint is not None:
        runtime.saw_checkpoint(checkpoint["body"])
        previous = await store.read_checkpoint(db, seq - 1) if seq > 1 else None
        prev_hash = checkpoint_hash(previous["body"], previous["signature"]) if previous else None
        if seq > 1 and previous is None:
            found.append(finding("checkpoint_chain", seq))
        found += checkpoint_findings(
            checkpoint, seq=seq, prev_hash=prev_hash, public_keys=keys.public_keys
        )
        bucket = await store.read_chain_bucket(db, checkpoint, trail)
        sealed = sealed_leaf(trail, bucket)
        if bucket_problem(checkpoint, bucket_of(trail), bucket):
            found.append(finding("not_in_checkpoint"))
        elif sealed is not None and bucket is not None:
            chains = dict(
                zip(
                    bucket["chains"],
                    zip(bucket["lengths"], bucket["heads"], strict=True),
                    strict=True,
                )
            )
            proof = inclusion_proof(trail, chains, checkpoint["bucket_roots"])
            found += proof_findings(trail, sealed, proof, checkpoint["body"]["root"])
    with kafka_needed():
        published = await latest_published(
            runtime.settings.kafka_bootstrap_servers, runtime.settings.audit_checkpoint_topic
        )
    if published is not None and (
        checkpoint is None
        or int(published["body"]["seq"]) > seq
        or checkpoint_hash(published["body"], published["signature"])
        != checkpoint_hash(checkpoint["body"], checkpoint["signature"])
    ):
        found.append(finding("checkpoint_missing", int(published["body"]["seq"])))
    return {"checkpoint": checkpoint, "sealed": sealed, "proof": proof, "problems": found}


async def verify(*, runtime: Runtime, trail: str) -> Document:
    """Check a trail's chain, its latest checkpoint, its sequences and (after the checkpoint)
    the events on Kafka; every problem is counted in the metrics by reason."""
    entries, head = await load_trail(runtime.db, trail)
    state = await sealed_state(runtime=runtime, trail=trail)
    checkpoint, sealed = state["checkpoint"], state["sealed"]
    problems: list[Document] = state["problems"]
    if head is None and not entries and sealed is None and not problems:
        raise HTTPException(status_code=404, detail=NO_RECORDS)
    problems += chain_findings(trail, entries, head, sealed)
    problems += sequence_findings(entries)
    length = sealed[0] if sealed else 0
    unsealed = [e for e in entries if isinstance(e.get("position"), int) and e["position"] > length]
    if checkpoint is not None and unsealed:
        with kafka_needed():
            backed = await backed_entries(runtime.settings.kafka_bootstrap_servers, unsealed)
        problems += unbacked_findings(unsealed, length, backed)
    broken = verify_trail(entries, [head] if head else [])
    if problems or broken is not None:
        runtime.audit_failures.inc()
        for reason in sorted({p["reason"] for p in problems}):
            runtime.audit_failures_by_reason.labels(reason).inc()
    return {
        "trail": trail,
        "valid": not problems and broken is None,
        "entries": len(entries),
        "chains": 1 if head else 0,
        "first_broken_link": broken.as_dict() if broken else None,
        "problems": problems,
        "checkpoint": _summary(checkpoint),
        "sealed_length": length if checkpoint else None,
        "unsealed_entries": len(unsealed) if checkpoint else None,
    }


async def export(*, runtime: Runtime, trail: str) -> bytes:
    """A trail as JSON lines for `ruta-audit-verify`: checkpoint, proof, public key, head and
    entries in chain order; 409 while the trail is not sealed yet."""
    entries, head = await trail_documents(runtime=runtime, trail=trail)
    state = await sealed_state(runtime=runtime, trail=trail)
    checkpoint, sealed = state["checkpoint"], state["sealed"]
    if checkpoint is None or sealed is None or state["proof"] is None:
        raise HTTPException(
            status_code=409,
            detail="El caso aún no está sellado: vuelva a intentarlo tras el próximo sello.",
        )
    key = runtime.audit_keys.public_keys.get(str(checkpoint["body"]["key_id"]))
    if key is None:
        raise HTTPException(status_code=409, detail="La clave del sello no está disponible.")
    lines: list[Document] = [
        {"kind": "checkpoint", **store.public_copy(checkpoint)},
        {
            "kind": "proof",
            "chain": trail,
            "length": sealed[0],
            "head": sealed[1],
            "steps": state["proof"],
        },
        {
            "kind": "public_key",
            "key_id": checkpoint["body"]["key_id"],
            "pem": public_key_pem(key).decode(),
        },
        {"kind": "head", "position": head.get("position"), "hash": head.get("hash")},
    ]
    lines += [
        {"kind": "entry", **_plain(e)} for e in sorted(entries, key=lambda e: e.get("position", 0))
    ]
    return b"".join(canonical_json(line) + b"\n" for line in lines)


async def seal_now(*, runtime: Runtime) -> Document:
    """Seal a checkpoint now (an admin's request)."""
    try:
        with kafka_needed():
            checkpoint = await store.seal(
                db=runtime.db,
                keys=runtime.audit_keys,
                bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
                topic=runtime.settings.audit_checkpoint_topic,
            )
    except store.SealConflictError:
        detail = "Otro sello se guardó en este momento: vuelva a intentarlo."
        raise HTTPException(status_code=409, detail=detail) from None
    runtime.saw_checkpoint(checkpoint["body"])
    return {**store.public_copy(checkpoint)}


async def latest(*, runtime: Runtime) -> Document:
    """The latest stored checkpoint (signed body, signature, hash); 404 before the first."""
    seq = await store.latest_seq(runtime.db)
    checkpoint = await store.read_checkpoint(runtime.db, seq) if seq else None
    if checkpoint is None:
        raise HTTPException(status_code=404, detail="Aún no hay sellos.")
    runtime.saw_checkpoint(checkpoint["body"])
    return store.public_copy(checkpoint)


def public_keys(*, runtime: Runtime) -> Document:
    """Every audit public key by key id (PEM), the current one named."""
    keys = runtime.audit_keys
    return {
        "current": keys.key_id,
        "keys": [
            {"key_id": kid, "pem": public_key_pem(k).decode()}
            for kid, k in sorted(keys.public_keys.items())
        ],
    }


async def ledger_report(*, runtime: Runtime) -> Document:
    """The whole-ledger verification (every checkpoint, every chain)."""
    report = await verify_ledger(
        db=runtime.db,
        public_keys=runtime.audit_keys.public_keys,
        bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
        topic=runtime.settings.audit_checkpoint_topic,
    )
    for reason in report["problems"]:
        runtime.audit_failures_by_reason.labels(reason).inc()
    return report


async def annual_anchor(*, runtime: Runtime, year: int) -> str:
    """The line a year's report prints: the last checkpoint sealed in that year (Lima time),
    so a published report anchors the trail outside Ruta."""
    checkpoint = await store.checkpoint_at(runtime.db, lima_day_start(date(year + 1, 1, 1)))
    if checkpoint is None:
        return f"Sello de auditoría al cierre de {year}: ninguno."
    body = checkpoint["body"]
    return (
        f"Sello de auditoría al cierre de {year}: n.º {body['seq']} del {body['sealed_at']}, "
        f"clave {body['key_id']}, raíz {body['root']}."
    )


async def access_log(*, runtime: Runtime, trail: str) -> Document:
    """A trail's reads of personal data and break-the-glass grants, in time order."""
    entries, _head = await trail_documents(runtime=runtime, trail=trail)
    access = [entry_view(e) for e in ordered(entries) if e["type"] in ACCESS_EVENTS]
    return {"trail": trail, "entries": access}


def _summary(checkpoint: Document | None) -> Document | None:
    if checkpoint is None:
        return None
    body = checkpoint["body"]
    return {k: body[k] for k in ("seq", "sealed_at", "root", "key_id")}


def _plain(entry: Document) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "origin"}
