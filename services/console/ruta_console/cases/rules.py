"""Pure rules of the case pages: form -> request body, and a case's route of care in time order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ruta_console.rules import compact, flag, number, text, yes_no
from ruta_console.widgets import label

PERSONAL_FIELDS = (
    "given_names",
    "family_names",
    "document_type",
    "document_number",
    "birth_date",
    "phone",
    "address",
    "notes",
)
PAGE_SIZE = 20


def many(form: Any, name: str) -> list[str]:
    """Every value of a multi-valued field (checkboxes), empty ones left out."""
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist is not None else [form.get(name)]
    return [str(value) for value in values if isinstance(value, str) and value.strip()]


def personal_data(form: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The personal-data block of a victim or relative form."""
    return compact({name: text(form, f"{prefix}personal_data.{name}") for name in PERSONAL_FIELDS})


def victim_body(form: Any, prefix: str = "") -> dict[str, Any]:
    """VictimCreate from a form whose fields are named `<prefix><field>`."""
    trafficking = compact(
        {
            "recruitment_method": text(form, f"{prefix}trafficking.recruitment_method"),
            "means_of_control": many(form, f"{prefix}trafficking.means_of_control"),
            "exploitation_setting": text(form, f"{prefix}trafficking.exploitation_setting"),
            "exploitation_region": text(form, f"{prefix}trafficking.exploitation_region"),
        }
    )
    body = compact(
        {
            "sex": text(form, f"{prefix}sex"),
            "age_at_intake": number(form, f"{prefix}age_at_intake"),
            "age_group": text(form, f"{prefix}age_group"),
            "nationality": text(form, f"{prefix}nationality"),
            "region_of_origin": text(form, f"{prefix}region_of_origin"),
            "indigenous_people": yes_no(form, f"{prefix}indigenous_people"),
            "disability": yes_no(form, f"{prefix}disability"),
            "trafficking": trafficking or None,
            "personal_data": personal_data(form, prefix),
        }
    )
    body["allow_duplicate"] = flag(form, f"{prefix}allow_duplicate")
    return body


def case_body(form: Any) -> dict[str, Any]:
    """CaseCreate with its first victim (`victims.0.*`)."""
    body = compact(
        {
            "office": text(form, "office"),
            "crime_types": many(form, "crime_types"),
            "exploitation_purposes": many(form, "exploitation_purposes"),
            "region_of_exploitation": text(form, "region_of_exploitation"),
            "arrival_channel": text(form, "arrival_channel"),
            "referring_institution_kind": text(form, "referring_institution_kind"),
            "opened_at": text(form, "opened_at"),
        }
    )
    body["crime_types"] = many(form, "crime_types")
    body["victims"] = [victim_body(form, "victims.0.")]
    return body


def consent_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """ConsentCreate."""
    return compact(
        {
            "purpose": text(form, "purpose"),
            "institution_kind": text(form, "institution_kind"),
            "given_by": text(form, "given_by"),
            "granted": text(form, "granted") != "no",
            "guardian_relative_id": text(form, "guardian_relative_id"),
        }
    )


def care_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """CareCreate."""
    return compact(
        {
            "care_type": text(form, "care_type"),
            "provided_on": text(form, "provided_on"),
            "duration_minutes": number(form, "duration_minutes"),
            "amount_pen": text(form, "amount_pen"),
        }
    )


def is_duplicate(answer_status: int, errors: Mapping[str, str], body: Any) -> bool:
    """intake's "someone with this document is already registered": a warning, not an error."""
    if answer_status != 409:
        return False
    raw = body.get("errors") if isinstance(body, dict) else None
    kinds = {e.get("type") for e in raw or [] if isinstance(e, dict)}
    return "duplicate" in kinds or (
        isinstance(body, dict) and "duplicado" in str(body.get("detail"))
    )


def duplicate_notices(body: Any) -> list[str]:
    """intake's neutral notices of a possible duplicate in another office (a case or a victim).

    The victim is registered all the same; the notice names no office, id or date.
    """
    if not isinstance(body, dict):
        return []
    listed = body.get("victims")
    victims: list[Any] = listed if isinstance(listed, list) else [body]
    notices = [str(v.get("duplicate_notice") or "") for v in victims if isinstance(v, dict)]
    # intake's sentence is lower case without a full stop; shown as a sentence of its own.
    return [n[0].upper() + n[1:].rstrip(".") + "." for n in notices if n]


@dataclass(frozen=True)
class Moment:
    """One step of a case's route of care."""

    at: str
    what: str
    detail: str = ""
    # When it was recorded (for the order of steps given only a calendar date).
    recorded: str = ""

    @property
    def order(self) -> str:
        """Sort key: the UTC instant it happened or was recorded."""
        value = self.recorded or self.at
        try:
            return datetime.fromisoformat(value).astimezone(UTC).isoformat()
        except ValueError:
            return value


def _at(value: Any) -> str:
    return str(value) if value else ""


def route_of_care(
    case: Mapping[str, Any], route: Mapping[str, Any] | None, care: list[Mapping[str, Any]]
) -> list[Moment]:
    """Opening, victims, consents, care, referrals, returns and milestones, oldest first."""
    moments = [Moment(_at(case.get("opened_at")), "Caso abierto", str(case.get("case_code", "")))]
    for number_, victim in enumerate(case.get("victims") or [], start=1):
        moments.append(
            Moment(_at(victim.get("registered_at")), "Víctima registrada", f"Víctima {number_}")
        )
    for consent in case.get("consents") or []:
        kind = label("institution_kinds", consent.get("institution_kind"))
        verb = "Consentimiento otorgado" if consent.get("granted") else "Consentimiento negado"
        moments.append(Moment(_at(consent.get("recorded_at")), verb, kind))
        if consent.get("withdrawn_at"):
            moments.append(Moment(_at(consent["withdrawn_at"]), "Consentimiento retirado", kind))
    for item in care:
        moments.append(
            Moment(
                _at(item.get("provided_on")),
                "Atención",
                label("care_types", item.get("care_type")),
                _at(item.get("recorded_at")),
            )
        )
    for referral in (route or {}).get("referrals") or []:
        kind = label("institution_kinds", referral.get("institution_kind"))
        moments.append(Moment(_at(referral.get("created_at")), "Derivación solicitada", kind))
        for stamp, what in (
            ("sent_at", "Derivación enviada"),
            ("acknowledged_at", "Derivación recibida"),
            ("accepted_at", "Derivación aceptada"),
            ("declined_at", "Derivación rechazada"),
            ("completed_at", "Derivación completada"),
            ("revoked_at", "Derivación revocada"),
        ):
            if referral.get(stamp):
                moments.append(Moment(_at(referral[stamp]), what, kind))
    for item in (route or {}).get("returns") or []:
        region = label("regions", item.get("region_of_origin"))
        moments.append(
            Moment(
                _at(item.get("returned_on")),
                "Retorno al lugar de origen",
                region,
                _at(item.get("recorded_at")),
            )
        )
    for item in (route or {}).get("milestones") or []:
        moments.append(
            Moment(
                _at(item.get("reached_on")),
                "Hito de reintegración",
                item.get("milestone_label", ""),
                _at(item.get("recorded_at")),
            )
        )
    if case.get("closed_at"):
        moments.append(Moment(_at(case["closed_at"]), "Caso cerrado"))
    if case.get("reopened_at"):
        moments.append(Moment(_at(case["reopened_at"]), "Caso reabierto"))
    return sorted(moments, key=lambda moment: moment.order)
