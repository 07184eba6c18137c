"""Pure helpers of every page: Spanish field errors, Lima dates, reading form values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from ruta_shared.lima import LIMA

# Until every service sends Spanish 422 texts (issue 15, requirement 6) pydantic's English
# messages would reach the user: these standard error types get a Spanish sentence here.
SPANISH_BY_TYPE: Final[dict[str, str]] = {
    "missing": "Este campo es obligatorio.",
    "literal_error": "Elija una de las opciones de la lista.",
    "enum": "Elija una de las opciones de la lista.",
    "string_too_short": "Es demasiado corto.",
    "string_too_long": "Es demasiado largo.",
    "too_short": "Elija al menos una opción.",
    "too_long": "Hay demasiados elementos.",
    "string_pattern_mismatch": "El formato no es válido.",
    "int_parsing": "Escriba un número entero.",
    "int_type": "Escriba un número entero.",
    "float_parsing": "Escriba un número.",
    "decimal_parsing": "Escriba un número.",
    "greater_than": "El número es demasiado pequeño.",
    "greater_than_equal": "El número es demasiado pequeño.",
    "less_than": "El número es demasiado grande.",
    "less_than_equal": "El número es demasiado grande.",
    "date_parsing": "Escriba una fecha válida (día/mes/año).",
    "date_from_datetime_parsing": "Escriba una fecha válida (día/mes/año).",
    "datetime_parsing": "Escriba una fecha y hora válidas.",
    "bool_parsing": "Elija sí o no.",
    "value_error": "El valor no es válido.",
    "extra_forbidden": "Este campo no se admite.",
}
GENERIC_FIELD_ERROR: Final = "El valor no es válido."
_PREFIXES: Final = ("body.", "query.", "path.", "header.")


# Where a form's input has a shorter name than the service's field.
FORM_NAMES: Final = {"hours_attended": "hours"}


def field_name(field: str) -> str:
    """A service's field (`body.victims.0.sex`) as the console's form names it (`victims.0.sex`)."""
    for prefix in _PREFIXES:
        if field.startswith(prefix):
            field = field.removeprefix(prefix)
            break
    return FORM_NAMES.get(field, field)


def looks_english(message: str) -> bool:
    """Pydantic's own messages start with a capital English word ("Input should be…")."""
    return message.split(" ", 1)[0] in {"Input", "Field", "Value", "String", "List", "Extra"}


def field_messages(errors: Sequence[Any]) -> dict[str, str]:
    """Service field errors as {form field: Spanish message}; the first per field wins."""
    messages: dict[str, str] = {}
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        name = field_name(str(error.get("field", "")))
        message = str(error.get("message") or "")
        kind = str(error.get("type") or "")
        if not message or looks_english(message):
            message = SPANISH_BY_TYPE.get(kind, GENERIC_FIELD_ERROR)
        else:
            message = message[0].upper() + message[1:]
            message = message if message.endswith(".") else message + "."
        messages.setdefault(name, message)
    return messages


def _instant(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def lima_datetime(value: str | datetime | None) -> str:
    """An instant as Lima's local time, "01/12/2026 16:05"; empty when there is none."""
    instant = _instant(value)
    if instant is None:
        return ""
    return instant.astimezone(LIMA).strftime("%d/%m/%Y %H:%M")


def day(value: str | date | None) -> str:
    """A calendar date as "01/12/2026" (dates carry no time zone: they are Lima's already)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y")


def text(form: Mapping[str, Any], name: str) -> str | None:
    """A form's text value, stripped; None when empty or absent."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def number(form: Mapping[str, Any], name: str) -> str | int | float | None:
    """A number typed into a form (the service validates it; what is not a number is sent as is)."""
    raw = text(form, name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return raw


def flag(form: Mapping[str, Any], name: str) -> bool:
    """A checkbox."""
    return text(form, name) in {"on", "true", "1", "si", "sí"}


def yes_no(form: Mapping[str, Any], name: str) -> bool | None:
    """A select with "", "si", "no"."""
    raw = text(form, name)
    return None if raw is None else raw == "si"


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body without the fields left empty (so the service's defaults apply)."""
    return {key: value for key, value in values.items() if value not in (None, "", [])}
