"""The alert rules pass their promtool tests, every rule is tested, and every metric exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
CODE = [ROOT / "shared" / "ruta_shared", ROOT / "services"]

# Metrics the rules use before the code exports them, with the reason.
NOT_YET_EXPORTED: dict[str, str] = {}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} not found: ./scripts/test installs it "
            "(Debian: apt-get install prometheus prometheus-alertmanager)"
        )
    return path


def run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_alert_rules_pass_their_promtool_tests() -> None:
    output = run(tool("promtool"), "test", "rules", str(PROMETHEUS / "alerts.test.yml"))
    assert "SUCCESS" in output


def test_the_prometheus_config_and_its_rules_are_valid(tmp_path: Path) -> None:
    # promtool checks that secret files exist: point /run/secrets at a folder of stand-ins.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "metrics_token").write_text("stand-in\n")
    config = (PROMETHEUS / "prometheus.yml").read_text().replace("/run/secrets/", f"{secrets}/")
    (tmp_path / "prometheus.yml").write_text(config)
    (tmp_path / "alerts.yml").write_text((PROMETHEUS / "alerts.yml").read_text())
    output = run(tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml"))
    assert f"SUCCESS: {len(rules())} rules found" in output


def test_the_alertmanager_example_config_is_valid() -> None:
    output = run(tool("amtool"), "check-config", str(ALERTMANAGER))
    assert "SUCCESS" in output


def test_every_rule_is_shown_firing_by_a_test() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in rules()} == fired


def test_the_rules_cover_what_operators_must_hear_about() -> None:
    names = {rule["alert"] for rule in rules()}
    assert names == {
        "RutaServiceDown",
        "RutaAnalyticsConsumerDown",
        "RutaHighServerErrorRate",
        "RutaConsumerLagHigh",
        "RutaConsumerStalled",
        "RutaMessagesDeadLettered",
        "RutaOutboxBacklogAged",
        "RutaWebhookDeliveriesDead",
        "RutaReferralsOverdue",
        "RutaAuditVerificationFailed",
        "RutaAuditCheckpointStale",
    }
    assert all(rule["labels"]["severity"] in {"page", "ticket"} for rule in rules())


def test_every_metric_a_rule_reads_is_exported_by_the_code() -> None:
    files = [path for root in CODE for path in root.rglob("*.py") if "tests" not in path.parts]
    source = "\n".join(path.read_text() for path in files)
    used = {name for rule in rules() for name in re.findall(r"\bruta_[a-z_]+\b", rule["expr"])}
    missing = {name for name in used if f'"{name}"' not in source} - set(NOT_YET_EXPORTED)
    assert len(used) >= 10
    assert missing == set()
