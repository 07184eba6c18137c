"""Spanish validation messages: from the error type and its limits, never the input."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from ruta_shared.validation_es import FALLBACK, spanish_message


class Sample(BaseModel):
    office: Literal["lima", "iquitos"]
    code: str = Field(min_length=3, pattern=r"^[A-Z]+$")
    hours: float = Field(gt=0, le=40)
    day: str | None = None


def messages(payload: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(payload)
    return {str(e["loc"][0]): spanish_message(e) for e in caught.value.errors()}


def test_each_message_is_spanish_and_names_the_limit() -> None:
    found = messages({"office": "cusco", "code": "ab", "hours": 50})
    assert found == {
        "office": "debe ser uno de: 'lima', 'iquitos'",
        "code": "debe tener al menos 3 caracteres",
        "hours": "debe ser menor o igual que 40",
    }
    assert messages({"code": "ABC", "hours": 1}) == {"office": "es obligatorio"}


def test_the_rejected_value_never_appears() -> None:
    secret = "Maria-Quispe-12345678"
    found = messages({"office": secret, "code": secret, "hours": secret})
    assert all(secret not in text for text in found.values())
    assert found["hours"] == "debe ser un número"


def test_an_unknown_type_gets_the_fallback() -> None:
    assert spanish_message({"type": "brand_new_type", "msg": "Something English"}) == FALLBACK
