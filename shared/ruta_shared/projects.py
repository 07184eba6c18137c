"""Whether a funded project's code may be used for an office: the one rule every service applies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruta_shared.aggregate import RuleViolationError


def check_project_fits(project: Mapping[str, Any] | None, *, office: str, field: str) -> None:
    """422 naming `field` unless the project is registered and works in `office`."""
    if project is None:
        raise RuleViolationError(field, "no es un proyecto registrado")
    if office not in project["offices"]:
        raise RuleViolationError(field, "el proyecto no trabaja en la oficina indicada")
