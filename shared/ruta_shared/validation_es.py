"""Spanish messages for request validation errors (pydantic's own texts are English).

Only the error type and its context (limits, allowed values) are used, never the rejected
input, which may be personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Messages by pydantic error type; `{name}` placeholders come from the error's context.
MESSAGES: Final[Mapping[str, str]] = {
    "missing": "es obligatorio",
    "missing_argument": "es obligatorio",
    "extra_forbidden": "no es un campo admitido",
    "string_type": "debe ser un texto",
    "string_too_short": "debe tener al menos {min_length} caracteres",
    "string_too_long": "debe tener como máximo {max_length} caracteres",
    "string_pattern_mismatch": "no tiene el formato esperado",
    "string_unicode": "debe ser un texto válido",
    "int_type": "debe ser un número entero",
    "int_parsing": "debe ser un número entero",
    "int_from_float": "debe ser un número entero",
    "float_type": "debe ser un número",
    "float_parsing": "debe ser un número",
    "decimal_parsing": "debe ser un número",
    "decimal_type": "debe ser un número",
    "greater_than": "debe ser mayor que {gt}",
    "greater_than_equal": "debe ser mayor o igual que {ge}",
    "less_than": "debe ser menor que {lt}",
    "less_than_equal": "debe ser menor o igual que {le}",
    "multiple_of": "debe ser múltiplo de {multiple_of}",
    "finite_number": "debe ser un número finito",
    "bool_type": "debe ser verdadero o falso",
    "bool_parsing": "debe ser verdadero o falso",
    "literal_error": "debe ser uno de: {expected}",
    "enum": "debe ser uno de: {expected}",
    "date_type": "debe ser una fecha (AAAA-MM-DD)",
    "date_parsing": "debe ser una fecha (AAAA-MM-DD)",
    "date_from_datetime_parsing": "debe ser una fecha (AAAA-MM-DD)",
    "date_from_datetime_inexact": "debe ser una fecha sin hora",
    "date_past": "debe ser una fecha pasada",
    "date_future": "debe ser una fecha futura",
    "datetime_type": "debe ser una fecha y hora (ISO 8601)",
    "datetime_parsing": "debe ser una fecha y hora (ISO 8601)",
    "datetime_from_date_parsing": "debe ser una fecha y hora (ISO 8601)",
    "datetime_object_invalid": "debe ser una fecha y hora válida",
    "timezone_aware": "debe indicar la zona horaria",
    "timezone_naive": "no debe indicar zona horaria",
    "time_type": "debe ser una hora",
    "time_parsing": "debe ser una hora (HH:MM)",
    "uuid_type": "debe ser un identificador UUID",
    "uuid_parsing": "debe ser un identificador UUID",
    "uuid_version": "debe ser un identificador UUID válido",
    "url_type": "debe ser una dirección web",
    "url_parsing": "debe ser una dirección web válida",
    "url_scheme": "debe empezar por {expected_schemes}",
    "url_too_long": "es una dirección web demasiado larga",
    "list_type": "debe ser una lista",
    "tuple_type": "debe ser una lista",
    "set_type": "debe ser una lista sin repetidos",
    "too_short": "debe tener al menos {min_length} elementos",
    "too_long": "debe tener como máximo {max_length} elementos",
    "dict_type": "debe ser un objeto",
    "model_type": "debe ser un objeto",
    "model_attributes_type": "debe ser un objeto",
    "json_invalid": "no es un JSON válido",
    "json_type": "no es un JSON válido",
    "is_instance_of": "no es del tipo esperado",
    "union_tag_invalid": "tiene un tipo no admitido",
    "union_tag_not_found": "falta el tipo",
    "bytes_type": "debe ser un archivo o texto",
    "bytes_too_short": "es demasiado corto",
    "bytes_too_long": "es demasiado largo",
    "value_error": "no es válido",
    "assertion_error": "no es válido",
}
FALLBACK: Final = "no es válido"


def spanish_message(error: Mapping[str, Any]) -> str:
    """The Spanish message for one pydantic/FastAPI validation error."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    template = MESSAGES.get(kind)
    if template is None:
        return FALLBACK
    try:
        return template.format(**{name: _plain(value) for name, value in context.items()})
    except (KeyError, IndexError, ValueError):
        return template.split(":")[0] if "{" in template else template


def _plain(value: Any) -> str:
    """A context value as Spanish text ("'a' or 'b'" becomes "'a', 'b'")."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    return str(value).replace(" or ", ", ")
