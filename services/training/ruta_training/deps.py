"""Route dependencies in one place: the service context, the caller, stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from ruta_shared.api import IdempotencyStore
from ruta_shared.security.access_log import AccessLog
from ruta_shared.security.crypto import BlindIndex, DataKeyStore
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal
from ruta_shared.service import ServiceContext, get_context

from ruta_training.settings import TrainingSettings
from ruta_training.store import IDEMPOTENCY

ContextDep = Annotated[ServiceContext, Depends(get_context)]

TrainingReader = Annotated[Principal, require("training:read")]
TrainingWriter = Annotated[Principal, require("training:write")]
PiiReader = Annotated[Principal, require("participant_pii:read")]
PiiWriter = Annotated[Principal, require("participant_pii:write")]


def settings_of(context: ServiceContext) -> TrainingSettings:
    """The training settings the app was built with."""
    settings = context.settings
    if not isinstance(settings, TrainingSettings):  # built by create_app, so never
        msg = "the training app needs TrainingSettings"
        raise TypeError(msg)
    return settings


def data_keys(context: ServiceContext) -> DataKeyStore:
    """Participants' data keys."""
    assert context.security is not None
    return DataKeyStore(context.db, context.security.keyring)


def blind_index(context: ServiceContext) -> BlindIndex:
    """The blind index for document numbers and emails."""
    assert context.security is not None
    return context.security.blind_index


def access_log(context: ServiceContext) -> AccessLog:
    """The record of reads of participants' personal data."""
    assert context.security is not None
    return AccessLog(
        database=context.db,
        outbox=context.outbox,
        service="training",
        metrics=context.security.access_log_metrics,
    )


def idempotency(context: ServiceContext) -> IdempotencyStore:
    """Remembered outcomes of POSTs sent with an Idempotency-Key."""
    return IdempotencyStore(context.db[IDEMPOTENCY])
