"""Every router of the console, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter

from ruta_console.admin.credentials import router as credentials
from ruta_console.admin.users import router as users
from ruta_console.admin.views import router as admin
from ruta_console.audit.views import router as audit
from ruta_console.auth.views import router as auth
from ruta_console.cases.views import router as cases
from ruta_console.duplicates.views import router as duplicates
from ruta_console.figures.donors import router as donors
from ruta_console.figures.views import router as figures
from ruta_console.jobs.views import router as jobs
from ruta_console.partner.views import router as partner
from ruta_console.people.views import router as people
from ruta_console.protocol.projects import router as projects
from ruta_console.protocol.views import router as protocol
from ruta_console.referrals.views import router as referrals
from ruta_console.training.imports import router as imports
from ruta_console.training.views import router as training

ROUTERS: list[APIRouter] = [
    auth,
    cases,
    duplicates,
    people,
    referrals,
    protocol,
    projects,
    figures,
    donors,
    audit,
    training,
    imports,
    jobs,
    admin,
    users,
    credentials,
    partner,
]
