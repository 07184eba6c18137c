"""Pure rules of route stages and case plans: catalogue, targets, leaving, templates, overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from ruta_referrals.plans.models import TemplateTask
from ruta_referrals.plans.rules import change_status, new_task, task_overdue, template_for
from ruta_referrals.settings import DEFAULT_ROUTE_STAGE_SECONDS, ReferralsSettings
from ruta_referrals.stages.models import StageEnter
from ruta_referrals.stages.rules import catalogue, leave, overdue_change, stage_entry
from ruta_shared.aggregate import RuleViolationError
from ruta_shared.lima import lima_day_start

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CASE = {"_id": "case-1", "office": "lima"}


def entry(entered_on: date, seconds: float) -> dict[str, object]:
    body = StageEnter(stage="shelter", institution_kind="shelter_car", entered_on=entered_on)
    return stage_entry(
        body, occurrence_id="occ-1", author_id="u-1", now=NOW, target_seconds=seconds, note=None
    )


def test_the_catalogue_follows_the_protocol_order_with_target_days() -> None:
    stages = catalogue(DEFAULT_ROUTE_STAGE_SECONDS).stages
    assert [s.order for s in stages] == list(range(1, 12))
    assert stages[0].code == "detection_report"
    assert stages[-1].code == "follow_up_closure"
    assert stages[1].target_days == 2


def test_every_stage_needs_a_target() -> None:
    with pytest.raises(ValueError, match="route stage targets"):
        ReferralsSettings(route_stage_target_seconds={"shelter": 1.0})


def test_a_stage_is_overdue_once_after_its_target_and_not_after_leaving() -> None:
    opened = entry(date(2026, 11, 20), 86400.0)
    assert opened["target_at"] == lima_day_start(date(2026, 11, 21))
    marked = overdue_change(CASE, opened, NOW)
    assert marked is not None
    assert marked[1].stage == "shelter"
    assert overdue_change(CASE, marked[0], NOW + timedelta(days=1)) is None
    left, event = leave(CASE, opened, date(2026, 11, 25))
    assert event.days_in_stage == 5
    assert overdue_change(CASE, left, NOW) is None
    with pytest.raises(RuleViolationError):
        leave(CASE, left, date(2026, 11, 26))
    with pytest.raises(RuleViolationError, match="anterior"):
        leave(CASE, opened, date(2026, 11, 19))


def test_the_most_specific_template_applies() -> None:
    one = [TemplateTask(goal="a", task="one", due_in_days=1)]
    two = [TemplateTask(goal="b", task="two", due_in_days=2)]
    three = [TemplateTask(goal="c", task="three", due_in_days=3)]
    templates = {"csec:minor": one, "*:minor": two, "*:*": three}
    assert template_for(templates, ["csec"], "minor") == one
    assert template_for(templates, ["trafficking"], "minor") == two
    assert template_for(templates, ["trafficking"], "adult") == three
    assert template_for({}, ["csec"], "minor") == []


def test_a_task_done_is_never_overdue_and_reopened_runs_again() -> None:
    task = new_task(
        task_id="t-1", victim_id="v-1", goal="justice", task="legal_counselling",
        assignee_id="u-1", due_on=date(2026, 11, 30), title=None, now=NOW,
    )  # fmt: skip
    assert task_overdue(CASE, task, NOW - timedelta(days=2)) is None
    done, event = change_status(CASE, task, "done", NOW)
    assert (event.from_status, event.to_status) == ("open", "done")
    assert task_overdue(CASE, done, NOW) is None
    with pytest.raises(RuleViolationError):
        change_status(CASE, done, "done", NOW)
    reopened, _ = change_status(CASE, done, "open", NOW)
    marked = task_overdue(CASE, reopened, NOW)
    assert marked is not None
    assert marked[1].due_on == date(2026, 11, 30)
