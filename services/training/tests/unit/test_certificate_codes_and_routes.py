"""Verification codes, the certificate PDF, and which training routes are public."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter
from ruta_shared.security.install import protected_routes, public_routes
from ruta_shared.security.permissions import public, require
from ruta_shared.security.principal import Principal
from ruta_shared.security.settings import SecuritySettings
from ruta_shared.service import create_service_app
from ruta_shared.settings import ServiceSettings
from ruta_training.certificates.models import PrintableCertificate
from ruta_training.certificates.pdf import period, render
from ruta_training.certificates.rules import code_hash, new_code, normalise_code
from ruta_training.main import create_app
from ruta_training.settings import TrainingSettings


def test_codes_are_long_random_and_typed_loosely() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == 39
    assert code.count("-") == 7
    assert normalise_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert normalise_code("ABCD-1234") is None  # too short, and 0, 1, 8, 9 are not base32
    assert code_hash(code.replace("-", "")) != code_hash(new_code().replace("-", ""))


def test_the_pdf_is_spanish_and_carries_the_code() -> None:
    pdf = render(
        PrintableCertificate(
            full_name="Ana Quispe",
            course="Curso de atención a víctimas",
            format="talk",
            region="16",
            starts_on=date(2017, 5, 3),
            ends_on=date(2017, 5, 4),
            hours=10,
            issued_on=date(2017, 5, 5),
            code="ABCD-EFGH",
            verification_url="https://ruta.example/certificates/verify/ABCD-EFGH",
            organisation="CALP",
        )
    )
    assert pdf.startswith(b"%PDF")
    assert b"la charla" in pdf
    assert b"ABCD-EFGH" in pdf
    assert (
        period(date(2017, 5, 3), date(2017, 5, 4)) == "del 3 de mayo de 2017 al 4 de mayo de 2017"
    )


def test_only_certificate_verification_is_public(tmp_path: Path) -> None:
    app = create_app(
        TrainingSettings(environment="test"),
        security=SecuritySettings(environment="test", key_dir=tmp_path / "keys"),
    )
    assert [r.path for r in public_routes(app)] == ["/certificates/verify/{code}"]
    permissions = {r.permissions[0] for r in protected_routes(app)}
    assert permissions == {
        "self:read",
        "training:read",
        "training:write",
        "participant_pii:read",
        "participant_pii:write",
        "participant:erase",
        "participant:export",
        "participant:merge",
    }


def test_a_route_cannot_be_both_public_and_protected(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/both", dependencies=[public("for the test")])
    async def both(who: Annotated[Principal, require("training:read")]) -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="public and"):
        create_service_app(
            ServiceSettings(environment="test"),
            title="t",
            description="d",
            routers=[router],
            security=SecuritySettings(environment="test", key_dir=tmp_path / "keys"),
            encrypts_fields=False,
        )
    with pytest.raises(ValueError, match="why"):
        public(" ")
