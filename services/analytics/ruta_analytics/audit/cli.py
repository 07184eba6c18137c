"""Command-line verifiers: `ruta-audit-verify` (an export, offline) and
`ruta-audit-verify-ledger` (the whole ledger, on the servers, with a progress bar)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from pymongo import AsyncMongoClient

from ruta_analytics.audit.ledger import verify_ledger
from ruta_analytics.audit.offline import verify_export
from ruta_analytics.audit.signing import AuditKeyError, load_public_key, read_public_keys
from ruta_analytics.runtime import audit_key_dir
from ruta_analytics.settings import AnalyticsSettings

REASON_TEXT = {
    "entry_changed": "una entrada fue modificada",
    "entry_missing": "falta una entrada",
    "head_mismatch": "la cabeza de la cadena no coincide con su última entrada",
    "chain_shorter_than_sealed": "la cadena es más corta que la sellada",
    "head_differs_from_sealed": "la cadena difiere de la sellada",
    "chain_gone": "la cadena sellada ya no existe",
    "sequence_gap": "falta o se repite un evento en la secuencia de su sujeto",
    "unbacked_entry": "una entrada posterior al sello no corresponde a un evento en Kafka",
    "not_in_checkpoint": "la cadena no está incluida en el sello",
    "checkpoint_signature": "la firma del sello no es válida para la clave pública dada",
    "checkpoint_chain": "el sello no sigue al sello anterior",
    "checkpoint_changed": "el sello almacenado fue modificado",
    "checkpoint_missing": "Kafka tiene un sello más reciente que el almacén",
}


def verify_main(argv: list[str] | None = None) -> int:
    """`ruta-audit-verify EXPORT --public-key KEY.pem`: 0 when the export verifies."""
    parser = argparse.ArgumentParser(
        prog="ruta-audit-verify",
        description="Verifica sin conexión un registro de auditoría exportado de Ruta.",
    )
    parser.add_argument("export", type=Path, help="archivo JSON lines exportado")
    parser.add_argument("--public-key", type=Path, required=True, help="clave pública (PEM)")
    parser.add_argument("--json", action="store_true", help="resultado en JSON")
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key.read_bytes())
        with args.export.open(encoding="utf-8") as handle:
            result = verify_export(handle, key)
    except (OSError, ValueError, AuditKeyError) as exc:
        sys.stderr.write(f"No se pudo verificar: {exc}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_result(result, sys.stdout)
    return 0 if result["valid"] else 1


def _print_result(result: dict[str, object], out: TextIO) -> None:
    checkpoint = result["checkpoint"]
    assert isinstance(checkpoint, dict)
    out.write(f"Registro: {result['trail']}" + "\n")
    out.write(
        f"Sello n.º {checkpoint['seq']} del {checkpoint['sealed_at']}, "
        f"clave {checkpoint['key_id']}, raíz {checkpoint['root']}" + "\n"
    )
    out.write(f"Entradas: {result['entries']} (selladas: {result['sealed_length']})" + "\n")
    if result["unproven_entries"]:
        out.write(
            f"Entradas posteriores al sello, no probadas: {result['unproven_entries']}" + "\n"
        )
    problems = result["problems"]
    assert isinstance(problems, list)
    if not problems:
        out.write("VÁLIDO: el registro coincide con el sello firmado.\n")
    for problem in problems:
        text = REASON_TEXT.get(problem["reason"], problem["reason"])
        where = f" (posición {problem['position']})" if problem.get("position") else ""
        out.write(f"NO VÁLIDO: {text}{where} [{problem['reason']}]" + "\n")


def progress_bar(out: TextIO) -> object:
    """A progress callback drawing `stage [#####.....] done/total` on one line."""
    last: dict[str, int] = {}

    def draw(stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        step = max(total // 200, 1)
        if done != total and done - last.get(stage, -step) < step:
            return
        last[stage] = done
        out.write(f"\r{stage:<12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            out.write("\n")
        out.flush()

    return draw


def verify_ledger_main(argv: list[str] | None = None) -> int:
    """`ruta-audit-verify-ledger`: every checkpoint and chain (RUTA_ settings); 0 when valid."""
    parser = argparse.ArgumentParser(
        prog="ruta-audit-verify-ledger",
        description="Verifica todo el registro de auditoría: cada sello y cada cadena.",
    )
    parser.parse_args(argv)
    settings = AnalyticsSettings()

    async def run() -> dict[str, object]:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
        try:
            return await verify_ledger(
                db=client[settings.mongo_database],
                public_keys=read_public_keys(audit_key_dir(settings)),
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic=settings.audit_checkpoint_topic,
                progress=progress_bar(sys.stderr),  # type: ignore[arg-type]
            )
        finally:
            await client.close()

    report = asyncio.run(run())
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0 if report["valid"] else 1
