"""Route dependencies in one place: the runtime, the caller's permissions, path ids."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Path, Request
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_training.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The running app's runtime (built when the app starts)."""
    runtime = getattr(request.app.state, "runtime", None)
    if not isinstance(runtime, Runtime):
        msg = "the training service is not started"
        raise RuntimeError(msg)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

TrainingReader = Annotated[Principal, require("training:read")]
TrainingWriter = Annotated[Principal, require("training:write")]
PiiReader = Annotated[Principal, require("participant_pii:read")]
PiiWriter = Annotated[Principal, require("participant_pii:write")]
# Coordinators: they see every office, so they handle data subjects' requests and duplicates.
ParticipantEraser = Annotated[Principal, require("participant:erase")]
ParticipantExporter = Annotated[Principal, require("participant:export")]
DuplicateResolver = Annotated[Principal, require("participant:merge")]

# Every response that holds personal data: never kept by a browser or proxy.
NO_STORE: Final = {"Cache-Control": "no-store"}

SessionId = Annotated[str, Path(pattern=ID_PATTERN, description="Id de la sesión")]
DuplicateId = Annotated[str, Path(pattern=ID_PATTERN, description="Id del posible duplicado")]
ParticipantId = Annotated[str, Path(pattern=ID_PATTERN, description="Id del participante")]
