"""The Annotated aliases analytics routes share: the runtime, path ids and who may call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from ruta_shared.ids import ID_PATTERN
from ruta_shared.security.permissions import require
from ruta_shared.security.principal import Principal

from ruta_analytics.runtime import Runtime, get_runtime

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

# A case or training session, whose trail the audit routes read.
TrailId = Annotated[str, Path(pattern=ID_PATTERN)]
Year = Annotated[int, Path(ge=1990, le=2999)]

SuppressedReader = Annotated[Principal, require("report:read_suppressed")]
ExactReader = Annotated[Principal, require("report:read_exact")]
DonorReader = Annotated[Principal, require("report:read_donor")]
AuditReader = Annotated[Principal, require("audit:read")]
LedgerVerifier = Annotated[Principal, require("audit:verify_ledger")]
Sealer = Annotated[Principal, require("audit:seal")]
AccessLogReader = Annotated[Principal, require("access_log:read")]
DashboardViewer = Annotated[Principal, require("dashboard:read")]
