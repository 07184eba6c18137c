"""What figures are about: the filters users choose, and the labels of what is counted."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

Document = dict[str, Any]

UNKNOWN: Final = "sin_dato"
UNKNOWN_LABEL: Final = "Sin dato"
OTHER: Final = "otros"  # values outside the reference list, in a whole key set
OTHER_LABEL: Final = "Otros"
OUTCOMES: Final[dict[str, str]] = {
    "pending": "Pendiente",
    "accepted": "Aceptada",
    "declined": "Rechazada",
    "completed": "Concluida",
    "revoked": "Revocada",
}
SEX_ORDER: Final = ("female", "male", "unknown")
AGE_ORDER: Final = ("adult", "minor", "unknown")


@dataclass(frozen=True)
class Filters:
    """What a figure is restricted to (None: everything)."""

    year: int | None = None
    month: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    office: str | None = None
    region: str | None = None  # region of exploitation (cases); region of a training session
    crime_type: str | None = None
    project: str | None = None  # a funded project's code (cases, care, returns, sessions)
    # The offices in the caller's scope (None: all), for the suppressed view.
    offices: tuple[str, ...] | None = None

    def period(self) -> Document:
        """The period condition on a fact's year and month (Lima time)."""
        match: Document = {}
        if self.year is not None:
            match["year"] = self.year
        elif self.year_from is not None or self.year_to is not None:
            bounds: Document = {}
            if self.year_from is not None:
                bounds["$gte"] = self.year_from
            if self.year_to is not None:
                bounds["$lte"] = self.year_to
            match["year"] = bounds
        if self.month is not None:
            match["month"] = self.month
        return match

    def case_match(self, *, period: bool = True) -> Document:
        """Conditions for case facts and the facts that carry their case's attributes."""
        match = self.period() if period else {}
        match.update(self.office_match())
        if self.region is not None:
            match["region_of_exploitation"] = self.region
        if self.crime_type is not None:
            match["crime_types"] = self.crime_type
        match.update(self.project_match())
        return match

    def session_match(self) -> Document:
        """Conditions for training sessions (crime types do not apply to training)."""
        match = {**self.period(), **self.office_match(), **self.project_match()}
        if self.region is not None:
            match["region"] = self.region
        return match

    def project_match(self) -> Document:
        """The condition on a fact's project: its own, else its case's (as the cube's cells)."""
        if self.project is None:
            return {}
        own = {"project_code": self.project}
        inherited = {"project_code": None, "case_project": self.project}
        return {"$and": [{"$or": [own, inherited]}]}

    def office_match(self) -> Document:
        """The condition on a fact's office."""
        if self.office is not None:
            return {"office": self.office}
        if self.offices is not None:
            return {"office": {"$in": list(self.offices)}}
        return {}

    def as_dict(self) -> Document:
        """The filters that are set."""
        chosen = {key: value for key, value in asdict(self).items() if value is not None}
        if "offices" in chosen:
            chosen["offices"] = list(chosen["offices"])
        return chosen
