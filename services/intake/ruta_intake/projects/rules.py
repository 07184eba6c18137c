"""Pure rules of projects: a valid period, the stored document, events, whether a code fits."""

from __future__ import annotations

from typing import Any

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.events.catalog.intake import ProjectRegistered, ProjectUpdated
from ruta_shared.outbox import SEQUENCE_FIELD

from ruta_intake.projects.models import ProjectFacts, ProjectRead

Document = dict[str, Any]


def check_period(facts: ProjectFacts) -> None:
    """422 naming `ends_on` when the period ends before it starts."""
    if facts.ends_on < facts.starts_on:
        raise RuleViolationError("body.ends_on", "es anterior a starts_on")


def project_fields(facts: ProjectFacts) -> Document:
    """The stored facts of a project (dates as ISO strings, offices sorted)."""
    return {
        "name": facts.name,
        "funder": facts.funder,
        "starts_on": facts.starts_on.isoformat(),
        "ends_on": facts.ends_on.isoformat(),
        "offices": sorted(set(facts.offices)),
    }


def project_event(code: str, doc: Document, *, new: bool) -> ProjectRegistered | ProjectUpdated:
    """The event of a registered or corrected project."""
    kind = ProjectRegistered if new else ProjectUpdated
    return kind(project_code=code, **{k: doc[k] for k in ProjectFacts.model_fields})


def project_read(doc: Document, version: int | None = None) -> ProjectRead:
    """The read model of a stored project."""
    return ProjectRead(
        code=str(doc["_id"]),
        version=version if version is not None else int(doc.get(SEQUENCE_FIELD, 1)),
        **{k: doc[k] for k in ProjectFacts.model_fields},
    )
