"""Checkpoints on the real servers: offline verification of an export, key rotation, the
whole-ledger CLI, the periodic sealer and the annual report's anchor."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from ruta_analytics.audit.checkpoints import CHECKPOINTS, latest_seq, read_checkpoint
from ruta_analytics.audit.signing import SIGNING_KEY_FILE
from ruta_analytics.settings import AnalyticsSettings
from ruta_analytics.workers.sealer import seal_forever
from ruta_local.infra import free_port
from ruta_shared.security.principal import Role
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.testing.kafka import wait_for

Doc = dict[str, Any]
SCRIPTS = Path(sys.executable).parent


def offline(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`ruta-audit-verify` with no RUTA_ setting at all: nothing to reach Ruta with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUTA_")}
    command = [str(SCRIPTS / "ruta-audit-verify"), *map(str, args)]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def download(ledger: Any, case_id: str, folder: Path) -> tuple[Path, Path]:
    """An auditor downloads a trail's export and the public key of its checkpoint."""
    response = await ledger.client.get(f"/audit/trails/{case_id}/export", headers=ledger.headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    export = folder / f"{case_id}.jsonl"
    export.write_bytes(response.content)
    kid = json.loads(response.content.splitlines()[0])["body"]["key_id"]
    keys = (await ledger.client.get("/audit/keys", headers=ledger.headers())).json()
    key = folder / f"{kid}.pem"
    key.write_text(next(k["pem"] for k in keys["keys"] if k["key_id"] == kid))
    return export, key


async def test_an_export_verifies_offline_and_any_edit_of_it_does_not(
    ledger: Any, tmp_path: Path
) -> None:
    case_id, _ = await ledger.new_case()
    unsealed = await ledger.client.get(f"/audit/trails/{case_id}/export", headers=ledger.headers())
    assert unsealed.status_code == 409
    await ledger.new_case()
    await ledger.seal()
    export, key = await download(ledger, case_id, tmp_path)
    result = offline(export, "--public-key", key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VÁLIDO" in result.stdout
    as_json = json.loads(offline(export, "--public-key", key, "--json").stdout)
    assert (as_json["valid"], as_json["entries"], as_json["sealed_length"]) == (True, 5, 5)

    lines = export.read_text().splitlines()
    entry = json.loads(lines[5])
    entry["event"]["data"]["sex"] = "male"
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join([*lines[:5], json.dumps(entry), *lines[6:]]) + "\n")
    result = offline(edited, "--public-key", key)
    assert result.returncode == 1
    assert "[entry_changed]" in result.stdout

    checkpoint = json.loads(lines[0])
    checkpoint["body"]["root"] = "0" * 64
    resigned = tmp_path / "root.jsonl"
    resigned.write_text("\n".join([json.dumps(checkpoint), *lines[1:]]) + "\n")
    assert "[checkpoint_signature]" in offline(resigned, "--public-key", key).stdout

    stranger = tmp_path / "stranger.pem"
    other = await ledger.client.get("/audit/keys", headers=ledger.headers())
    stranger.write_text(other.json()["keys"][0]["pem"].replace("A", "B", 1))
    assert offline(export, "--public-key", stranger).returncode in {1, 2}
    assert offline(tmp_path / "missing.jsonl", "--public-key", key).returncode == 2


async def test_after_key_rotation_old_checkpoints_still_verify(
    ledger: Any,
    audit_settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    tmp_path: Path,
    open_api_for: Any,
) -> None:
    case_id, _ = await ledger.new_case()
    first = await ledger.seal()
    old_export, old_key = await download(ledger, case_id, tmp_path)
    # Rotation: a new signing key; the old public key stays in the key directory.
    assert audit_settings.audit_key_dir is not None
    (audit_settings.audit_key_dir / SIGNING_KEY_FILE).unlink()
    async for client in open_api_for(audit_settings, security_settings):
        rotated = ledger.with_client(client)
        other, _ = await rotated.new_case()
        second = await rotated.seal()
        assert second["body"]["key_id"] != first["body"]["key_id"]
        keys = (await client.get("/audit/keys", headers=rotated.headers())).json()
        assert {k["key_id"] for k in keys["keys"]} == {
            first["body"]["key_id"],
            second["body"]["key_id"],
        }
        assert keys["current"] == second["body"]["key_id"]
        for trail in (case_id, other):
            body = await rotated.verify(trail)
            assert (body["valid"], body["checkpoint"]["seq"]) == (True, 2), body["problems"]
        report = (await client.get("/audit/ledger/verify", headers=rotated.headers())).json()
        assert (report["valid"], report["checkpoints"], report["chains"]) == (True, 2, 2)
        (tmp_path / "rotated").mkdir()
        new_export, new_key = await download(rotated, case_id, tmp_path / "rotated")
    assert offline(old_export, "--public-key", old_key).returncode == 0
    assert offline(new_export, "--public-key", new_key).returncode == 0
    assert offline(new_export, "--public-key", old_key).returncode == 1


async def test_whole_ledger_cli_verifies_every_chain_with_a_progress_bar(
    ledger: Any, audit_settings: AnalyticsSettings
) -> None:
    cases = [(await ledger.new_case(victims=1))[0] for _ in range(3)]
    await ledger.seal()
    env = dict(os.environ)
    env.update(
        RUTA_ENVIRONMENT="test",
        RUTA_MONGO_URL=audit_settings.mongo_url,
        RUTA_MONGO_DATABASE=audit_settings.mongo_database,
        RUTA_KAFKA_BOOTSTRAP_SERVERS=audit_settings.kafka_bootstrap_servers,
        RUTA_AUDIT_CHECKPOINT_TOPIC=audit_settings.audit_checkpoint_topic,
        RUTA_AUDIT_KEY_DIR=str(audit_settings.audit_key_dir),
    )
    command = [str(SCRIPTS / "ruta-audit-verify-ledger")]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    result = await asyncio.to_thread(run)
    assert result.returncode == 0, result.stderr
    assert "chains       [##############################] 3/3" in result.stderr
    report = json.loads(result.stdout)
    assert (report["valid"], report["chains"], report["checkpoints"]) == (True, 3, 1)
    await ledger.generation.collection("audit_heads").delete_one({"_id": cases[1]})
    result = await asyncio.to_thread(run)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["broken_chains"] == [cases[1]]
    assert "head_mismatch" in report["problems"]


async def test_the_sealer_seals_every_few_seconds_and_reports_the_age(
    ledger: Any, audit_settings: AnalyticsSettings
) -> None:
    await ledger.new_case(victims=1)
    settings = audit_settings.model_copy(update={"audit_seal_seconds": 1.0})
    registry = CollectorRegistry()
    task = asyncio.create_task(seal_forever(settings, registry))

    async def sealed_twice() -> bool:
        return await latest_seq(ledger.db) >= 2

    try:
        await wait_for(sealed_twice, timeout=60, interval=0.2)
    finally:
        task.cancel()
    age = registry.get_sample_value("ruta_audit_checkpoint_age_seconds")
    assert age is not None
    assert 0 <= age < 60
    latest = await read_checkpoint(ledger.db, await latest_seq(ledger.db))
    assert latest is not None
    assert latest["body"]["prev"] is not None
    assert await ledger.db[CHECKPOINTS].count_documents({}) >= 3  # two seals and the pointer


async def test_the_annual_report_prints_the_years_last_checkpoint_root(ledger: Any) -> None:
    await ledger.new_case(victims=1)
    before = await ledger.client.get("/reports/2020/tables.csv", headers=ledger.headers())
    assert "Sello de auditoría al cierre de 2020: ninguno." in before.content.decode("utf-8-sig")
    checkpoint = await ledger.seal()
    year = int(checkpoint["body"]["sealed_at"][:4])
    csv_text = (
        await ledger.client.get(f"/reports/{year}/tables.csv", headers=ledger.headers())
    ).content.decode("utf-8-sig")
    assert f"raíz {checkpoint['body']['root']}" in csv_text
    assert f"n.º {checkpoint['body']['seq']} " in csv_text
    metrics = (await ledger.client.get("/metrics")).text
    age = next(
        line for line in metrics.splitlines() if line.startswith("ruta_audit_checkpoint_age")
    )
    assert 0 <= float(age.split()[1]) < 300


async def test_without_kafka_a_verification_or_seal_is_503_never_valid(
    ledger: Any,
    audit_settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    open_api_for: Any,
) -> None:
    case_id, _ = await ledger.new_case(victims=1)
    await ledger.seal()
    gone = audit_settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{free_port()}"})
    async for client in open_api_for(gone, security_settings):
        blind = ledger.with_client(client)
        response = await client.get(f"/audit/trails/{case_id}/verify", headers=blind.headers())
        assert response.status_code == 503
        assert response.json()["detail"].startswith("No se pudo consultar Kafka")
        sealing = await client.post("/audit/checkpoints", headers=blind.headers(Role.ADMIN))
        assert sealing.status_code == 503


async def checkpoint_age_known(client: Any) -> bool:
    """Whether an app's /metrics shows a real (finite, recent) checkpoint age."""
    metrics = (await client.get("/metrics")).text
    line = next(m for m in metrics.splitlines() if m.startswith("ruta_audit_checkpoint_age"))
    return 0 <= float(line.split()[1]) < 300


async def test_a_restarted_app_reports_the_stored_checkpoints_age_at_once(
    ledger: Any,
    audit_settings: AnalyticsSettings,
    security_settings: SecuritySettings,
    open_api_for: Any,
) -> None:
    await ledger.new_case(victims=1)
    await ledger.seal()
    async for client in open_api_for(audit_settings, security_settings):
        await wait_for(partial(checkpoint_age_known, client), timeout=30, interval=0.2)
