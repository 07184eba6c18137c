"""docker-compose.yml sets every setting a service reads, safely; the services build on it."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings
from ruta_shared.security.settings import SecuritySettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")

# Compose service -> (settings module, class, whether it also reads SecuritySettings).
SERVICES = {
    "intake": ("ruta_intake.settings", "IntakeSettings", True),
    "referrals": ("ruta_referrals.settings", "ReferralsSettings", True),
    "training": ("ruta_training.settings", "TrainingSettings", True),
    "analytics": ("ruta_analytics.settings", "AnalyticsSettings", True),
    "analytics-consumer": ("ruta_analytics.settings", "AnalyticsSettings", False),
    "audit-sealer": ("ruta_analytics.settings", "AnalyticsSettings", False),
    "console": ("ruta_console.settings", "ConsoleSettings", False),
}


def reasons(reason: str, *fields: str) -> dict[str, str]:
    return dict.fromkeys(fields, reason)


# Settings the compose file may leave at their documented default (see each settings module),
# each with the reason. Anything else a service reads must be set in its environment.
DEFAULTS_KEPT: dict[str, str] = {
    **reasons(
        "tuning whose default suits one node; change after measuring",
        "mongo_timeout_ms",
        "mongo_socket_timeout_ms",
        "audit_seal_seconds",
        "audit_sealer_metrics_port",
        "unavailable_retry_after_seconds",
        "idempotency_lease_seconds",
        "mongo_max_pool_size",
        "outbox_poll_interval_seconds",
        "outbox_scan_interval_seconds",
        "outbox_batch_size",
        "readiness_timeout_seconds",
        "overdue_check_interval_seconds",
        "webhook_backoff_base_seconds",
        "webhook_backoff_max_seconds",
        "webhook_batch_size",
        "webhook_lease_seconds",
        "webhook_poll_interval_seconds",
        "webhook_timeout_seconds",
        "batch_size",
        "batch_seconds",
        "dashboard_poll_seconds",
        "faust_session_timeout_seconds",
        "journal_lease_seconds",
        "job_lease_seconds",
        "job_keep_minutes",
    ),
    **reasons(
        "switches for tests and one-off tools; production runs everything (their default)",
        "run_outbox_relay",
        "run_intake_consumer",
        "run_overdue_checker",
        "run_webhook_workers",
        "seed_institutions",
    ),
    **reasons(
        "the organisation's policy, documented where it is defined; the default is the protocol's",
        "acknowledgement_deadline_seconds",
        "htcds_k",
        "htcds_max_suppressed_share",
        "answer_deadline_seconds",
        "webhook_max_attempts",
        "certificate_min_attendance_ratio",
        "import_max_bytes",
        "import_max_rows",
        "session_write_attempts",
        "break_glass_minutes",
        "break_glass_min_justification",
        "login_free_failures",
        "login_base_delay_seconds",
        "login_max_delay_seconds",
        "login_failure_memory_seconds",
        "partner_rotation_grace_minutes",
        "partner_token_minutes",
        "jwt_lifetime_minutes",
        "jwt_leeway_seconds",
        "jwt_audience",
        "login_user_delay_max_seconds",
        "account_cache_seconds",
        "password_code_minutes",
        "partner_retention_days",
        "plan_templates",
        "session_idle_minutes",
        "max_sessions",
        "upstream_timeout_seconds",
        "upstream_long_timeout_seconds",
        "route_stage_target_seconds",
        "intake_timeout_seconds",
        "intake_retry_after_seconds",
    ),
    **reasons(
        "safe by default outside local and test: X-Forwarded-For is believed from nobody (set "
        "it to the reverse proxy in front of Ruta, which compose does not include), and webhook "
        "targets must be https on public addresses, and the console's cookies are Secure",
        "trusted_proxies",
        "webhook_allow_local_targets",
        "cookie_secure",
    ),
    **reasons(
        "the default is what compose runs: Ruta's own issuer with the Ed25519 key of "
        "deploy/make-secrets.sh, exactly-once processing, every event topic",
        "auth_mode",
        "jwt_algorithm",
        "faust_processing_guarantee",
        "event_topics",
        "audit_checkpoint_topic",
    ),
    **reasons(
        "only with RUTA_AUTH_MODE=oidc",
        "oidc_jwks_url",
        "oidc_algorithms",
        "oidc_roles_claim",
        "oidc_offices_claim",
        "oidc_institution_claim",
    ),
    **reasons(
        "a secret in the environment: compose gives the *_FILE variant (a Docker secret)",
        "jwt_private_key",
        "jwt_public_key",
        "master_keys",
        "blind_index_key",
        "mongo_password",
        "metrics_token",
        "audit_key_dir",
    ),
    "master_key_version": "the highest version in master_keys.json wraps new data keys",
}
# Given only to the services that use them (least privilege).
NOT_NEEDED = {
    "intake": set(),
    "referrals": {"jwt_private_key_file"},
    "training": {"jwt_private_key_file"},
    "analytics": {"jwt_private_key_file", "master_keys_file", "blind_index_key_file"},
    "analytics-consumer": {"audit_signing_key_file"},  # the consumer signs nothing
    "audit-sealer": set(),
    "console": {"mongo_database"},  # the console reads no database
}
EXTERNAL_SECRETS = ("alertmanager_smtp_password", "alertmanager_oncall_token")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def environment(service: str) -> dict[str, str]:
    return {
        name: str(value) for name, value in compose()["services"][service]["environment"].items()
    }


def settings_classes(service: str) -> list[type[BaseSettings]]:
    module, name, security = SERVICES[service]
    classes: list[type[BaseSettings]] = [getattr(importlib.import_module(module), name)]
    return [*classes, SecuritySettings] if security else classes


def fields(service: str) -> set[str]:
    return {field for cls in settings_classes(service) for field in cls.model_fields}


def env_name(field: str) -> str:
    return f"RUTA_{field.upper()}"


def test_every_ruta_process_of_the_compose_file_is_checked_here() -> None:
    ruta = {
        name
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("ruta-")
    }
    assert ruta == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_the_service_reads_is_set_or_a_listed_default(service: str) -> None:
    given = set(environment(service))
    missing = {
        field
        for field in fields(service) - set(DEFAULTS_KEPT) - NOT_NEEDED[service]
        if env_name(field) not in given
    }
    assert missing == set(), f"{service}: set these in docker-compose.yml or list them here"


@pytest.mark.parametrize("service", SERVICES)
def test_every_ruta_variable_in_the_compose_file_is_a_setting_of_that_service(
    service: str,
) -> None:
    known = {env_name(field) for field in fields(service)}
    unknown = {name for name in environment(service) if name.startswith("RUTA_")} - known
    assert unknown == set()


def test_nothing_secret_has_a_default_or_a_value_in_the_file() -> None:
    text = COMPOSE.read_text()
    secretive = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|_KEYS\b", re.IGNORECASE)
    defaulted = [
        m.group(1)
        for m in VARIABLE.finditer(text)
        if m.group(2) == "-" and not m.group(1).endswith("_URL")
    ]
    assert [name for name in defaulted if secretive.search(name)] == []
    for service in compose()["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if secretive.search(name) and not name.endswith(("_FILE", "_USER", "_URL")):
                pytest.fail(f"{name}={value}: give secrets as files")
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) == "?"}
    assert {"RUTA_SECRETS_DIR", "RUTA_JWT_ISSUER", "RUTA_CERTIFICATE_VERIFY_URL"} <= required
    assert "MONGO_INITDB_ROOT_PASSWORD_FILE" in compose()["services"]["mongodb"]["environment"]


def test_the_kafka_cluster_and_the_services_keep_every_event_with_three_copies() -> None:
    services = compose()["services"]
    brokers = [name for name in services if name.startswith("kafka-")]
    assert len(brokers) == 3
    for broker in brokers:
        env = {k: str(v) for k, v in services[broker]["environment"].items()}
        assert env["KAFKA_LOG_RETENTION_MS"] == "-1"
        assert env["KAFKA_LOG_RETENTION_BYTES"] == "-1"
        assert env["KAFKA_LOG_CLEANUP_POLICY"] == "delete"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for service in set(SERVICES) - {"console"}:  # the console serves pages, no /metrics
        env = environment(service)
        assert env["RUTA_ENVIRONMENT"] == "production"
        assert env["RUTA_KAFKA_REPLICATION_FACTOR"] == "3"
        assert env["RUTA_KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert set(env["RUTA_KAFKA_BOOTSTRAP_SERVERS"].split(",")) == {f"{b}:9092" for b in brokers}


def test_prometheus_scrapes_every_ruta_process() -> None:
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        target
        for job in scrape["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    for service in set(SERVICES) - {"console"}:  # the console serves pages, no /metrics
        env = environment(service)
        if service == "analytics-consumer":
            port = env["RUTA_FAUST_WEB_PORT"]
        elif service == "audit-sealer":
            port = env.get("RUTA_AUDIT_SEALER_METRICS_PORT", "6067")
        else:
            port = env["RUTA_PORT"]
        assert f"{service}:{port}" in targets


def resolved(value: str, given: dict[str, str]) -> str:
    """Compose's interpolation: given values, else defaults; a required one must be given."""

    def one(match: re.Match[str]) -> str:
        name, kind, text = match.groups()
        if name in given:
            return given[name]
        assert kind == "-", f"{name} is required: {text}"
        return text

    return VARIABLE.sub(one, value)


@pytest.mark.parametrize("service", [name for name in SERVICES if SERVICES[name][2]])
def test_each_service_builds_in_production_on_the_compose_environment(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    subprocess.run(
        ["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)],
        check=True,
        capture_output=True,
    )
    given = {
        "RUTA_SECRETS_DIR": str(secrets),
        "RUTA_JWT_ISSUER": "https://ruta.example.org",
        "RUTA_CERTIFICATE_VERIFY_URL": "https://ruta.example.org/certificates/verify",
    }
    for name, value in environment(service).items():
        text = resolved(value, given).replace("/run/secrets/", f"{secrets}/")
        monkeypatch.setenv(name, text)
    # Compose mounts each secret under its name; the files are named as make-secrets writes them.
    for secret, spec in compose()["secrets"].items():
        source = Path(resolved(spec["file"], given))
        if secret not in EXTERNAL_SECRETS:
            assert source.exists(), source
            (secrets / secret).write_bytes(source.read_bytes())
    module, name, _ = SERVICES[service]
    settings = getattr(importlib.import_module(module), name)()
    main = importlib.import_module(f"ruta_{service}.main")

    app = main.create_app(settings)

    assert settings.environment == "production"
    assert settings.mongo_url.startswith("mongodb://ruta:")
    assert settings.mongo_url.endswith("@mongodb:27017/?authSource=admin")
    assert app.title == f"Ruta: {service}"
