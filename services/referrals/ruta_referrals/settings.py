"""Settings of the referrals service (environment variables with the RUTA_ prefix)."""

from __future__ import annotations

from typing import get_args

from pydantic import Field, field_validator, model_validator
from ruta_shared.reference import ROUTE_STAGES, Urgency
from ruta_shared.settings import ServiceSettings

from ruta_referrals.plans.models import TemplateTask

HOUR = 3600.0

# Deadlines are configuration, not constants: the protocol confirms no numeric limits.
DEFAULT_ACKNOWLEDGEMENT_SECONDS = {
    "critical": 4 * HOUR,
    "high": 24 * HOUR,
    "normal": 72 * HOUR,
    "low": 7 * 24 * HOUR,
}
DEFAULT_ANSWER_SECONDS = {
    "critical": 24 * HOUR,
    "high": 72 * HOUR,
    "normal": 7 * 24 * HOUR,
    "low": 14 * 24 * HOUR,
}
DAY = 24 * HOUR
# Target durations of the protocol's stages: our defaults, no law fixes them.
DEFAULT_ROUTE_STAGE_SECONDS = {
    "detection_report": 7 * DAY,
    "rescue_intervention": 2 * DAY,
    "first_attention": 3 * DAY,
    "udavit_protection": 90 * DAY,
    "upe_child_protection": 60 * DAY,
    "legal_aid": 365 * DAY,
    "shelter": 180 * DAY,
    "identity_documents": 30 * DAY,
    "return_home": 14 * DAY,
    "reintegration_pri": 365 * DAY,
    "follow_up_closure": 180 * DAY,
}

# Case plan templates by "crime type:age group" (`*` for any); the most specific applies.
DEFAULT_PLAN_TEMPLATES = {
    "*:minor": [
        TemplateTask(goal="protection", task="upe_referral", due_in_days=2),
        TemplateTask(goal="wellbeing", task="psychological_assessment", due_in_days=7),
        TemplateTask(goal="justice", task="legal_counselling", due_in_days=7),
        TemplateTask(goal="rights", task="identity_documents", due_in_days=30),
        TemplateTask(goal="reintegration", task="education_plan", due_in_days=60),
    ],
    "*:*": [
        TemplateTask(goal="wellbeing", task="psychological_assessment", due_in_days=7),
        TemplateTask(goal="justice", task="legal_counselling", due_in_days=7),
        TemplateTask(goal="rights", task="identity_documents", due_in_days=30),
        TemplateTask(goal="reintegration", task="employment_plan", due_in_days=90),
    ],
}


class ReferralsSettings(ServiceSettings):
    """The referrals service's settings."""

    service_name: str = "referrals"
    port: int = 8002
    mongo_database: str = "ruta_referrals"

    # Seconds an institution has to acknowledge a sent referral, and then to accept or
    # decline it, by urgency (JSON in the environment, e.g. RUTA_ACKNOWLEDGEMENT_DEADLINE_SECONDS).
    acknowledgement_deadline_seconds: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ACKNOWLEDGEMENT_SECONDS)
    )
    answer_deadline_seconds: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ANSWER_SECONDS)
    )
    # Seconds a route stage may stay open before it is overdue, by stage code (JSON in
    # RUTA_ROUTE_STAGE_TARGET_SECONDS); counted from the start of its entry day in Lima.
    route_stage_target_seconds: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ROUTE_STAGE_SECONDS)
    )
    # Plan templates (JSON in RUTA_PLAN_TEMPLATES), see DEFAULT_PLAN_TEMPLATES.
    plan_templates: dict[str, list[TemplateTask]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_PLAN_TEMPLATES.items()}
    )
    overdue_check_interval_seconds: float = Field(default=60.0, gt=0)

    # Background work; tests and one-off tools may switch parts off.
    run_intake_consumer: bool = True
    run_webhook_workers: bool = True
    run_overdue_checker: bool = True
    seed_institutions: bool = True
    consumer_group_prefix: str = "ruta-referrals"

    # Webhook delivery: attempt n waits base * 2**(n-1) seconds (capped) before the next.
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_backoff_base_seconds: float = Field(default=10.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=6 * HOUR, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_poll_interval_seconds: float = Field(default=1.0, gt=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_batch_size: int = Field(default=50, ge=1)
    # Webhook targets may be http and private, loopback or other local addresses (the
    # tests' receiver on 127.0.0.1); None means yes in local and test, never in production.
    webhook_allow_local_targets: bool | None = None

    # Days a completed referral stays readable by its institution; then 404 as if unknown.
    partner_retention_days: float = Field(default=90.0, ge=0)

    # Intake's HTTP API, asked (as the caller) when the projection of its events lags.
    intake_url: str = "http://127.0.0.1:8001"
    intake_timeout_seconds: float = Field(default=2.0, gt=0)
    intake_retry_after_seconds: int = Field(default=2, ge=1)

    @property
    def allow_local_webhook_targets(self) -> bool:
        """Whether webhooks may go to http URLs and non-public addresses."""
        if self.webhook_allow_local_targets is None:
            return self.environment in ("local", "test")
        return self.webhook_allow_local_targets

    @model_validator(mode="after")
    def _no_local_targets_in_production(self) -> ReferralsSettings:
        """Production webhooks go to public https addresses only."""
        if self.environment == "production" and self.webhook_allow_local_targets:
            msg = "RUTA_WEBHOOK_ALLOW_LOCAL_TARGETS cannot be true in production"
            raise ValueError(msg)
        return self

    @field_validator("route_stage_target_seconds")
    @classmethod
    def _every_stage(cls, value: dict[str, float]) -> dict[str, float]:
        """A target for every stage of the catalogue and nothing else, none negative."""
        if set(value) != set(ROUTE_STAGES):
            msg = f"route stage targets must name exactly the stages: {sorted(ROUTE_STAGES)}"
            raise ValueError(msg)
        if any(seconds < 0 for seconds in value.values()):
            msg = "route stage targets cannot be negative"
            raise ValueError(msg)
        return value

    @field_validator("acknowledgement_deadline_seconds", "answer_deadline_seconds")
    @classmethod
    def _every_urgency(cls, value: dict[str, float]) -> dict[str, float]:
        """A deadline for every urgency, none negative (a missing one would fail at send)."""
        missing = set(get_args(Urgency)) - set(value)
        if missing:
            msg = f"missing deadlines for urgencies: {sorted(missing)}"
            raise ValueError(msg)
        if any(seconds < 0 for seconds in value.values()):
            msg = "deadlines cannot be negative"
            raise ValueError(msg)
        return value
