"""Verifying an exported trail with nothing but the export and the public key (pure logic).

The export (JSON lines from `GET /audit/trails/{id}/export`) holds the signed checkpoint, the
trail's inclusion proof, the public key it claims, the chain's head and the entries. The
auditor's own copy of the public key is what is trusted: the export's is only compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from ruta_shared.security.keys import key_id

from ruta_analytics.audit.verify import (
    chain_findings,
    checkpoint_findings,
    finding,
    proof_findings,
    sequence_findings,
)

Document = dict[str, Any]
KINDS = ("checkpoint", "proof", "public_key", "head")


class ExportError(ValueError):
    """The file is not a trail export."""


def parse_export(lines: Iterable[str]) -> tuple[dict[str, Document], list[Document]]:
    """The export's records by kind (one each) and its entries."""
    records: dict[str, Document] = {}
    entries: list[Document] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            msg = f"línea {number}: no es JSON"
            raise ExportError(msg) from None
        kind = record.pop("kind", None) if isinstance(record, dict) else None
        if kind == "entry":
            entries.append(record)
        elif kind in KINDS and kind not in records:
            records[kind] = record
        else:
            msg = f"línea {number}: registro inesperado"
            raise ExportError(msg)
    missing = [k for k in KINDS if k not in records]
    if missing:
        msg = "faltan registros: " + ", ".join(missing)
        raise ExportError(msg)
    return records, entries


def verify_export(lines: Iterable[str], public_key: ed25519.Ed25519PublicKey) -> Document:
    """What an export proves against the auditor's public key: findings by name, and how
    many entries the checkpoint covers (later ones are not proven by it)."""
    records, entries = parse_export(lines)
    checkpoint, proof = records["checkpoint"], records["proof"]
    body = checkpoint.get("body") or {}
    found: list[Document] = []
    if body.get("key_id") != key_id(public_key):
        found.append(finding("checkpoint_signature"))
    found += checkpoint_findings(
        checkpoint,
        seq=int(body.get("seq", 0)),
        prev_hash=None,
        public_keys={key_id(public_key): public_key},
    )
    chain = str(proof.get("chain"))
    sealed = (int(proof.get("length", 0)), str(proof.get("head")))
    found += proof_findings(chain, sealed, proof.get("steps") or [], str(body.get("root")))
    found += chain_findings(chain, entries, records["head"], sealed)
    found += sequence_findings(entries)
    return {
        "trail": chain,
        "valid": not found,
        "problems": found,
        "checkpoint": {k: body.get(k) for k in ("seq", "sealed_at", "root", "key_id")},
        "entries": len(entries),
        "sealed_length": sealed[0],
        "unproven_entries": sum(1 for e in entries if int(e.get("position", 0)) > sealed[0]),
    }
