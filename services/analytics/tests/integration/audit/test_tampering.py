"""Every careful rewrite of the ledger an attacker with database access can make is detected
(each on its own case, on the real FerretDB and Kafka), and an untouched trail verifies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ruta_analytics.audit.checkpoints import BUCKET_DOCS, CHECKPOINTS, LATEST, checkpoint_id
from ruta_analytics.audit.rules import build_entry
from ruta_analytics.projection.models import AUDIT, AUDIT_HEADS
from ruta_shared.security.principal import Role

Doc = dict[str, Any]


async def test_a_sealed_trail_and_its_later_entries_backed_by_kafka_verify(ledger: Any) -> None:
    case_id, builder = await ledger.new_case()
    await ledger.seal()
    body = await ledger.verify(case_id)
    assert body["problems"] == []
    assert (body["valid"], body["entries"], body["sealed_length"]) == (True, 5, 5)
    assert body["checkpoint"]["seq"] == 1
    # Appended after the checkpoint, through Kafka: backed by their messages, still valid.
    start = len(builder.envelopes)
    builder.register_victim(case_id, at=builder.envelopes[-1].occurred_at + timedelta(days=1))
    await ledger.add(builder.envelopes[start:])
    later = await ledger.verify(case_id)
    assert (later["valid"], later["sealed_length"], later["unsealed_entries"]) == (True, 5, 1)
    # Sealing is by admins only; an unknown trail is still "no records".
    forbidden = await ledger.client.post("/audit/checkpoints", headers=ledger.headers())
    assert forbidden.status_code == 403
    missing = await ledger.client.get("/audit/trails/nothing-here/verify", headers=ledger.headers())
    assert missing.status_code == 404


async def tamper_truncate_tail_and_move_head(ledger: Any, case_id: str) -> None:
    entries = await ledger.entries(case_id)
    await ledger.rewrite(case_id, entries[:-1])


async def tamper_forge_closure(ledger: Any, case_id: str, builder: Any) -> None:
    closed = builder.emit(
        "case.closed",
        "intake",
        case_id,
        {"case_id": case_id, "closure_reason": "reintegrated", "closed_at": "2024-04-01T12:00:00Z"},
        at=builder.envelopes[-1].occurred_at + timedelta(days=3),
    )
    head = await ledger.head(case_id)
    entry = build_entry(closed, position=head["position"] + 1, prev_hash=head["hash"])
    # Pointing at a real message of the case on Kafka does not back it either.
    entry["origin"] = (await ledger.entries(case_id))[-1]["origin"]
    await ledger.generation.collection(AUDIT).insert_one(entry)
    await ledger.generation.collection(AUDIT_HEADS).update_one(
        {"_id": case_id},
        {
            "$set": {"position": entry["position"], "hash": entry["hash"]},
            "$push": {"entries": entry["_id"]},
        },
    )


async def tamper_delete_middle_renumber_rehash(ledger: Any, case_id: str) -> None:
    entries = await ledger.entries(case_id)
    await ledger.rewrite(case_id, entries[:2] + entries[3:])


async def tamper_recompute_after_edit(ledger: Any, case_id: str) -> None:
    entries = await ledger.entries(case_id)
    entries[2]["event"]["data"]["sex"] = "male"
    await ledger.rewrite(case_id, entries)


async def tamper_delete_chain_and_head(ledger: Any, case_id: str) -> None:
    for entry in await ledger.entries(case_id):
        await ledger.generation.collection(AUDIT).delete_one({"_id": entry["_id"]})
    await ledger.generation.collection(AUDIT_HEADS).delete_one({"_id": case_id})


async def tamper_trail_field(ledger: Any, case_id: str) -> None:
    entries = await ledger.entries(case_id)
    await ledger.generation.collection(AUDIT).update_one(
        {"_id": entries[1]["_id"]}, {"$set": {"trail": "another-case"}}
    )


async def tamper_rewrite_checkpoint(ledger: Any, case_id: str) -> None:
    # The attacker's own chain, sealed in a checkpoint they rewrote (no signing key).
    await tamper_recompute_after_edit(ledger, case_id)
    checkpoints = ledger.db[CHECKPOINTS]
    stored = await checkpoints.find_one({"_id": checkpoint_id(1)})
    body = {**stored["body"], "root": "0" * 64}
    await checkpoints.update_one({"_id": checkpoint_id(1)}, {"$set": {"body": body}})


async def tamper_rewrite_bucket(ledger: Any, case_id: str) -> None:
    await tamper_recompute_after_edit(ledger, case_id)
    head = await ledger.head(case_id)
    async for bucket in ledger.db[BUCKET_DOCS].find({"chains": case_id}):
        heads = [
            head["hash"] if c == case_id else h
            for c, h in zip(bucket["chains"], bucket["heads"], strict=True)
        ]
        await ledger.db[BUCKET_DOCS].update_one({"_id": bucket["_id"]}, {"$set": {"heads": heads}})


async def tamper_replay_older_checkpoint(ledger: Any, case_id: str) -> None:
    # The older (valid, signed) checkpoint is put back in place of the newer one.
    checkpoints = ledger.db[CHECKPOINTS]
    await ledger.seal()
    older = await checkpoints.find_one({"_id": checkpoint_id(1)})
    await checkpoints.replace_one({"_id": checkpoint_id(2)}, {**older, "_id": checkpoint_id(2)})


async def tamper_delete_latest_checkpoint(ledger: Any, case_id: str) -> None:
    await ledger.seal()
    await ledger.db[CHECKPOINTS].delete_one({"_id": checkpoint_id(2)})
    await ledger.db[CHECKPOINTS].replace_one({"_id": LATEST}, {"seq": 1})
    # ...and rewrite the chain as the older checkpoint would have it.
    entries = await ledger.entries(case_id)
    await ledger.rewrite(case_id, entries)


TAMPERING = {
    "truncate_tail_move_head": (tamper_truncate_tail_and_move_head, {"chain_shorter_than_sealed"}),
    "forged_closure": (tamper_forge_closure, {"unbacked_entry"}),
    "delete_middle_renumber": (
        tamper_delete_middle_renumber_rehash,
        {"chain_shorter_than_sealed", "sequence_gap"},
    ),
    "recompute_after_edit": (tamper_recompute_after_edit, {"head_differs_from_sealed"}),
    "delete_chain_and_head": (tamper_delete_chain_and_head, {"chain_gone"}),
    "trail_field": (tamper_trail_field, {"entry_changed"}),
    "rewrite_checkpoint": (
        tamper_rewrite_checkpoint,
        {"checkpoint_signature", "checkpoint_missing"},
    ),
    "rewrite_bucket": (tamper_rewrite_bucket, {"not_in_checkpoint"}),
    "replay_older_checkpoint": (
        tamper_replay_older_checkpoint,
        {"checkpoint_chain", "checkpoint_missing"},
    ),
    "delete_latest_checkpoint": (tamper_delete_latest_checkpoint, {"checkpoint_missing"}),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
async def test_a_careful_rewrite_is_detected_and_named(name: str, ledger: Any) -> None:
    tamper, expected = TAMPERING[name]
    case_id, builder = await ledger.new_case()
    await ledger.new_case()  # another chain in the same checkpoint, left alone
    await ledger.seal()
    assert (await ledger.verify(case_id))["valid"] is True
    if tamper is tamper_forge_closure:
        await tamper(ledger, case_id, builder)
    else:
        await tamper(ledger, case_id)
    body = await ledger.verify(case_id)
    assert body["valid"] is False
    assert expected <= ledger.reasons(body), body["problems"]
    metrics = (await ledger.client.get("/metrics")).text
    for reason in expected:
        assert f'ruta_audit_verification_problems_total{{reason="{reason}"}} 1.0' in metrics
    assert case_id not in metrics
    # The whole-ledger check finds it too.
    report = (
        await ledger.client.get("/audit/ledger/verify", headers=ledger.headers(Role.AUDITOR))
    ).json()
    assert report["valid"] is False
    assert set(report["problems"]) & expected
