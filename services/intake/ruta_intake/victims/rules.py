"""Pure rules of victims and relatives: age at intake and age group, personal data, attributes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from ruta_shared.aggregate import RuleViolationError
from ruta_shared.events.catalog.intake import VictimRegistered
from ruta_shared.lima import lima_date
from ruta_shared.reference import AgeGroup, Office
from uuid6 import uuid7

from ruta_intake.victims.models import PersonalDataIn, VictimCreate, VictimRead

Document = dict[str, Any]

ADULT_AGE: Final = 18
MAX_AGE: Final = 120
ERASED_MESSAGE: Final = "los datos de esta víctima fueron borrados"
# The attributes a correction may change (they travel in victim.attributes_corrected).
ATTRIBUTES: Final = (
    "sex",
    "age_at_intake",
    "age_group",
    "nationality",
    "region_of_origin",
    "indigenous_people",
    "disability",
)
FROM_BIRTH_DATE: Final = (
    "se deriva de la fecha de nacimiento: rectifique la fecha en los datos personales"
)


def age_on(birth: date, day: date) -> int:
    """Completed years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def group_of(age: int) -> AgeGroup:
    """Minor under 18, adult otherwise."""
    return "minor" if age < ADULT_AGE else "adult"


def derive_age(
    *,
    birth_date: date | None,
    stated_age: int | None,
    stated_group: AgeGroup | None,
    intake_date: date,
) -> tuple[int | None, AgeGroup]:
    """Age at intake and age group, from the birth date or the stated age; never contradictory.

    The birth date wins when given; a stated age or group must agree with it. Without
    either, the stated group stands (a case worker may see that a child is a minor), or
    the group is unknown.
    """
    age = stated_age
    if birth_date is not None:
        if birth_date > intake_date:
            raise RuleViolationError(
                "personal_data.birth_date", "la fecha de nacimiento es posterior a la atención"
            )
        computed = age_on(birth_date, intake_date)
        if computed > MAX_AGE:
            raise RuleViolationError(
                "personal_data.birth_date", "la fecha de nacimiento no es plausible"
            )
        if stated_age is not None and stated_age != computed:
            raise RuleViolationError(
                "age_at_intake",
                f"no coincide con la fecha de nacimiento (edad calculada: {computed})",
            )
        age = computed
    if age is None:
        return None, stated_group or "unknown"
    group = group_of(age)
    if stated_group is not None and stated_group != group:
        raise RuleViolationError(
            "age_group",
            f"contradice la edad al ingreso ({age} años)",
        )
    return age, group


def check_personal_data(data: PersonalDataIn) -> None:
    """A document number needs its type (numbers are compared per type)."""
    if data.document_number is not None and data.document_type is None:
        raise RuleViolationError("personal_data.document_type", "indique el tipo de documento")


def check_birth_date_not_future(data: PersonalDataIn, today: date) -> None:
    """A relative's birth date is not after today."""
    if data.birth_date is not None and data.birth_date > today:
        raise RuleViolationError("personal_data.birth_date", "la fecha no puede estar en el futuro")


def check_not_erased(
    person: Document, *, field: str = "victim_id", message: str = ERASED_MESSAGE
) -> None:
    """RuleViolationError (409) when the person's personal data was erased."""
    if person.get("erased_at") is not None:
        raise RuleViolationError(field, message, status_code=409)


def intake_date_of(case: Document, victim: Document) -> date:
    """The day a victim came to intake: the opening day for victims registered with the case."""
    with_case = victim["registered_at"] <= case["created_at"]
    return lima_date(case["opened_at"] if with_case else victim["registered_at"])


def attributes_of(victim: Document) -> Document:
    """The correctable attributes of a stored victim."""
    return {name: victim.get(name) for name in ATTRIBUTES}


def corrected_attributes(
    current: Document, given: Document, *, birth_date_known: bool, intake_date: date
) -> Document:
    """A victim's attributes after a correction; the age group never contradicts the age.

    `given` holds only the fields the caller sent. Age at intake and age group follow the
    birth date when one is on record, else they are checked against each other as at
    registration.
    """
    for name in ("sex", "age_group"):
        if name in given and given[name] is None:
            raise RuleViolationError(name, "no puede quedar vacío")
    merged = {**attributes_of(current), **given}
    age_given, group_given = "age_at_intake" in given, "age_group" in given
    if birth_date_known:
        for name in ("age_at_intake", "age_group"):
            if name in given and given[name] != current.get(name):
                raise RuleViolationError(name, FROM_BIRTH_DATE)
        return merged
    if age_given or group_given:
        stated_age = merged["age_at_intake"]
        kept_group = current["age_group"] if stated_age is None else None
        merged["age_at_intake"], merged["age_group"] = derive_age(
            birth_date=None,
            stated_age=stated_age,
            stated_group=given["age_group"] if group_given else kept_group,
            intake_date=intake_date,
        )
    return merged


def victim_attributes(body: VictimCreate, *, intake_date: date, now: datetime) -> Document:
    """The non-identifying attributes of a new victim, checked and derived (age group)."""
    check_personal_data(body.personal_data)
    age, group = derive_age(
        birth_date=body.personal_data.birth_date,
        stated_age=body.age_at_intake,
        stated_group=body.age_group,
        intake_date=intake_date,
    )
    detail = body.trafficking
    if (
        detail is not None
        and detail.exploitation_region is not None
        and detail.exploitation_country not in (None, "PE")
    ):
        raise RuleViolationError(
            "trafficking.exploitation_country", "una región del Perú solo corresponde al país PE"
        )
    return {
        "victim_id": str(uuid7()),
        "sex": body.sex,
        "age_at_intake": age,
        "age_group": group,
        "nationality": body.nationality,
        "region_of_origin": body.region_of_origin,
        "indigenous_people": body.indigenous_people,
        "disability": body.disability,
        "trafficking": detail.model_dump(mode="json") if detail is not None else None,
        "registered_at": now,
        "erased_at": None,
    }


def victim_registered(case_id: str, office: Office, victim: Document) -> VictimRegistered:
    """The victim.registered event of a victim's stored attributes."""
    return VictimRegistered(
        case_id=case_id,
        victim_id=victim["victim_id"],
        office=office,
        sex=victim["sex"],
        age_group=victim["age_group"],
        age_at_intake=victim["age_at_intake"],
        nationality=victim["nationality"],
        region_of_origin=victim["region_of_origin"],
        indigenous_people=victim["indigenous_people"],
        disability=victim["disability"],
        registered_at=victim["registered_at"],
    )


def victim_read(case_id: str, victim: Document, *, notice: str | None = None) -> VictimRead:
    """A stored victim as the API shows it (with the registration's duplicate notice, if any)."""
    return VictimRead(
        case_id=case_id,
        duplicate_notice=notice,
        **{name: victim.get(name) for name in VictimRead.model_fields if name in victim},
    )
