"""Test streams: a stream (`with_routes`) whose facts belong to several funded projects."""

from __future__ import annotations

import random
from typing import Final

from ruta_shared.events import EventEnvelope

OWN_PROJECT: Final = ("care.provided", "victim.returned_home")
SESSION_EVENTS: Final = ("training.session_scheduled", "training.session_held")


def with_projects(
    rng: random.Random, envelopes: list[EventEnvelope], codes: tuple[str, ...]
) -> list[EventEnvelope]:
    """The stream with facts of several projects: each case assigned to a project (as
    `with_routes` assigns about half of them) gets one of `codes`, and care, returns and
    sessions have their own project (or none) now and then."""
    sessions: dict[str, str | None] = {}
    out = []
    for envelope in envelopes:
        data = dict(envelope.data)
        if envelope.type == "case.project_assigned":
            data["project_code"] = rng.choice(codes)
        elif envelope.type in OWN_PROJECT:
            data["project_code"] = rng.choice((None, *codes))
        elif envelope.type in SESSION_EVENTS:
            data["project_code"] = sessions.setdefault(envelope.subject, rng.choice((None, *codes)))
        out.append(envelope.model_copy(update={"data": data}))
    return out
