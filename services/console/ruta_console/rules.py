"""Pure helpers of every page: Spanish field errors, Lima dates, reading form values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from ruta_shared.lima import LIMA

# The services send Spanish field messages (ruta_shared.validation_es); this is for none.
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


def field_messages(errors: Sequence[Any]) -> dict[str, str]:
    """Service field errors as {form field: the service's Spanish message}; the first wins."""
    messages: dict[str, str] = {}
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        name = field_name(str(error.get("field", "")))
        message = str(error.get("message") or "")
        if not message:
            message = GENERIC_FIELD_ERROR
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
