"""Pure rules of the HTCDS export: a victim's row, the generalisation hierarchies, k-anonymity.

Quasi-identifiers (age, sex, nationality, region, year) are generalised by full-domain
global recoding (every row of the export at the same level of each hierarchy), greedily
as Datafly does: while more rows than the suppression budget sit in combinations with
fewer than k rows, the quasi-identifier with the most distinct values climbs one level.
The rows still in combinations below k are then left out, so every combination of
quasi-identifiers in the file has at least k rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ruta_shared.lima import lima_date

Document = dict[str, Any]
Row = dict[str, str]
Key = tuple[str, ...]

ANY: Final = "*"
UNKNOWN: Final = "Unknown"
PERU: Final = "PE"

# CTDC's `ageBroad` bands (the Counter Trafficking Data Collaborative's published data).
AGE_BANDS: Final = (
    (0, 8, "0--8"),
    (9, 17, "09--17"),
    (18, 20, "18--20"),
    (21, 23, "21--23"),
    (24, 26, "24--26"),
    (27, 29, "27--29"),
    (30, 38, "30--38"),
    (39, 47, "39--47"),
)
OLDEST_BAND: Final = "48+"
# Level 1 of the age hierarchy: each CTDC band folds into one of these.
WIDE_BANDS: Final[Mapping[str, str]] = {
    "0--8": "0--17",
    "09--17": "0--17",
    "0--17": "0--17",
    "18--20": "18--29",
    "21--23": "18--29",
    "24--26": "18--29",
    "27--29": "18--29",
    "30--38": "30--47",
    "39--47": "30--47",
    "48+": "48+",
    "18+": "18+",
}
MINOR_BANDS: Final = frozenset({"0--8", "09--17", "0--17"})

# Peru's departments (INEI ubigeo) as ISO 3166-2:PE subdivision codes.
SUBDIVISIONS: Final[Mapping[str, str]] = {
    "01": "PE-AMA", "02": "PE-ANC", "03": "PE-APU", "04": "PE-ARE", "05": "PE-AYA",
    "06": "PE-CAJ", "07": "PE-CAL", "08": "PE-CUS", "09": "PE-HUV", "10": "PE-HUC",
    "11": "PE-ICA", "12": "PE-JUN", "13": "PE-LAL", "14": "PE-LAM", "15": "PE-LIM",
    "16": "PE-LOR", "17": "PE-MDD", "18": "PE-MOQ", "19": "PE-PAS", "20": "PE-PIU",
    "21": "PE-PUN", "22": "PE-SAM", "23": "PE-TAC", "24": "PE-TUM", "25": "PE-UCA",
}  # fmt: skip
# Level 1 of the region hierarchy: Ruta's own grouping of departments into macro-regions.
MACRO_REGIONS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("PE-ANC", "PE-CAJ", "PE-LAL", "PE-LAM", "PE-PIU", "PE-TUM"), "North"),
    **dict.fromkeys(("PE-AYA", "PE-HUV", "PE-HUC", "PE-ICA", "PE-JUN", "PE-PAS"), "Centre"),
    **dict.fromkeys(("PE-APU", "PE-ARE", "PE-CUS", "PE-MOQ", "PE-PUN", "PE-TAC"), "South"),
    **dict.fromkeys(("PE-AMA", "PE-LOR", "PE-MDD", "PE-SAM", "PE-UCA"), "Amazon"),
    **dict.fromkeys(("PE-LIM", "PE-CAL"), "Lima and Callao"),
}
YEAR_SPAN: Final = 5

GENDERS: Final[Mapping[str, str]] = {"female": "Female", "male": "Male", "unknown": UNKNOWN}
STATUSES: Final[Mapping[str, str]] = {"open": "Active", "in_care": "Active", "closed": "Closed"}
RECRUITMENT: Final[Mapping[str, str]] = {
    "job_offer": "Job offer/advertisement",
    "personal_relationship": "Intimate partner/marriage proposition",
    "marriage_proposal": "Intimate partner/marriage proposition",
    "family_member": "Familial",
    "online": "Internet (social media, online advertisement)",
    "education_offer": "Educational Facility",
    "abduction": "Abduction",
    "other": "Other",
    "unknown": "Unknown",
}
CONTROL: Final[Mapping[str, str]] = {
    "debt_bondage": "DebtBondage",
    "threats": "Threats",
    "threats_to_family": "Threats",
    "physical_abuse": "PhysicalAbuse",
    "sexual_abuse": "SexualAbuse",
    "psychological_abuse": "PsychologicalAbuse",
    "restricted_movement": "RestrictsMovement",
    "isolation": "RestrictsMovement",
    "withheld_documents": "WithholdsDocuments",
    "withheld_wages": "TakesEarnings",
    "substance_dependence": "PsychoactiveSubstances",
    "excessive_working_hours": "ExcessiveWorkingHours",
    "false_promises": "FalsePromises",
    "other": "Other",
}
LABOUR_PURPOSES: Final = frozenset({"labour", "domestic_work", "begging", "criminal_activities"})
OTHER_PURPOSES: Final = frozenset({"forced_marriage", "organ_removal", "other"})
LABOUR_TYPES: Final[Mapping[str, str]] = {
    "domestic_work": "DomesticWork",
    "begging": "Begging",
    "criminal_activities": "IllicitActivities",
    "mining_camp": "MiningOrDrilling",
    "agriculture": "Agriculture",
    "factory": "Manufacturing",
    "street": "Peddling",
}
SEX_TYPES: Final[Mapping[str, str]] = {
    "bar_or_nightclub": "Prostitution",
    "brothel": "Prostitution",
    "street": "Prostitution",
    "private_home": "PrivateSexualServices",
    "online": "RemoteInteractiveServices",
}


def age_band(age: int | None, group: str | None) -> str:
    """The CTDC band of an age; from the age group alone when the age is not known."""
    if age is None:
        return {"minor": "0--17", "adult": "18+"}.get(group or "", UNKNOWN)
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return OLDEST_BAND


def majority_of(band: str) -> str:
    """Minor / Adult / Unknown from an age value at any level of its hierarchy."""
    if band == ANY:
        return ANY
    if band == UNKNOWN:
        return UNKNOWN
    return "Minor" if band in MINOR_BANDS else "Adult"


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _joined(values: Iterable[str]) -> str:
    return ";".join(sorted(set(values)))


def victim_row(case: Document, victim: Document) -> Row:
    """One victim's HTCDS row: non-identifying attributes only (no ids, names, dates, text)."""
    purposes = set(case.get("exploitation_purposes") or [])
    detail = victim.get("trafficking") or {}
    setting = str(detail.get("exploitation_setting") or "")
    labour = [LABOUR_TYPES[p] for p in purposes if p in LABOUR_TYPES]
    if purposes & LABOUR_PURPOSES and setting in LABOUR_TYPES:
        labour.append(LABOUR_TYPES[setting])
    sexual = "sexual" in purposes or "csec" in (case.get("crime_types") or [])
    region = case.get("region_of_exploitation")
    return {
        "yearOfRegistration": str(lima_date(case["opened_at"]).year),
        "cas_Status": STATUSES.get(str(case.get("status")), UNKNOWN),
        "prs_Gender": GENDERS.get(str(victim.get("sex")), UNKNOWN),
        "ageBroad": (band := age_band(victim.get("age_at_intake"), victim.get("age_group"))),
        "majorityStatus": majority_of(band),
        "prs_Nationality": victim.get("nationality") or UNKNOWN,
        "hte_State": SUBDIVISIONS.get(str(region), UNKNOWN),
        "isSexualExploit": _flag(sexual),
        "isForcedLabour": _flag(bool(purposes & LABOUR_PURPOSES)),
        "isOtherExploit": _flag(bool(purposes & OTHER_PURPOSES)),
        "vic_TypeOfLabourExploitation": _joined(labour),
        "vic_TypeOfSexExploitation": SEX_TYPES.get(setting, "") if sexual else "",
        "vic_MethodOfRecruitment": RECRUITMENT.get(detail.get("recruitment_method") or "", ""),
        "vic_MethodsOfControl": _joined(
            CONTROL[m] for m in detail.get("means_of_control") or [] if m in CONTROL
        ),
    }


def _age(value: str, level: int) -> str:
    return (value, WIDE_BANDS.get(value, value), _majority_band(value), ANY)[level]


def _majority_band(value: str) -> str:
    majority = majority_of(value)
    return {"Minor": "0--17", "Adult": "18+"}.get(majority, majority)


def _sex(value: str, level: int) -> str:
    return (value, ANY)[level]


def _nationality(value: str, level: int) -> str:
    foreign = value if value in {PERU, UNKNOWN} else "Foreign"
    return (value, foreign, ANY)[level]


def _region(value: str, level: int) -> str:
    return (value, MACRO_REGIONS.get(value, value), ANY)[level]


def _year(value: str, level: int) -> str:
    if level == 1 and value.isdigit():
        start = int(value) - int(value) % YEAR_SPAN
        return f"{start}-{start + YEAR_SPAN - 1}"
    return (value, value, ANY)[level]


@dataclass(frozen=True)
class Hierarchy:
    """One quasi-identifier's generalisation: `levels` steps, the last one `*`."""

    column: str
    levels: int
    climb: Callable[[str, int], str]


@dataclass(frozen=True)
class Plan:
    """How the k-anonymous export publishes: a level per hierarchy, combinations left out."""

    levels: tuple[int, ...]
    suppressed: frozenset[Key]
    k: int


HIERARCHIES: Final = (
    Hierarchy("ageBroad", 4, _age),
    Hierarchy("prs_Gender", 2, _sex),
    Hierarchy("prs_Nationality", 3, _nationality),
    Hierarchy("hte_State", 3, _region),
    Hierarchy("yearOfRegistration", 3, _year),
)
QUASI_IDENTIFIERS: Final = tuple(h.column for h in HIERARCHIES)


def quasi_key(row: Row) -> Key:
    """The row's quasi-identifiers, in HIERARCHIES' order."""
    return tuple(row[h.column] for h in HIERARCHIES)


def generalise_key(key: Key, levels: tuple[int, ...]) -> Key:
    """The quasi-identifiers of `key` at the given level of each hierarchy."""
    return tuple(h.climb(v, lv) for h, v, lv in zip(HIERARCHIES, key, levels, strict=True))


def _classes(counts: Mapping[Key, int], levels: tuple[int, ...]) -> Counter[Key]:
    merged: Counter[Key] = Counter()
    for key, count in counts.items():
        merged[generalise_key(key, levels)] += count
    return merged


def plan_generalisation(counts: Mapping[Key, int], *, k: int, max_suppressed: float) -> Plan:
    """The levels to publish at and the combinations to leave out, from the rows' counts."""
    total = sum(counts.values())
    budget = int(total * max_suppressed)
    levels = tuple(0 for _ in HIERARCHIES)
    while True:
        classes = _classes(counts, levels)
        small = {key for key, count in classes.items() if count < k}
        below = sum(classes[key] for key in small)
        climbable = [i for i, h in enumerate(HIERARCHIES) if levels[i] < h.levels - 1]
        if below <= budget or not climbable:
            return Plan(levels=levels, suppressed=frozenset(small), k=k)
        # Datafly's choice: the quasi-identifier with the most distinct values climbs.
        distinct = [len({key[i] for key in classes}) for i in range(len(HIERARCHIES))]
        step = max(climbable, key=lambda i: (distinct[i], -i))
        levels = tuple(lv + 1 if i == step else lv for i, lv in enumerate(levels))


def publish(row: Row, plan: Plan) -> Row | None:
    """The row as the k-anonymous export shows it, or None when its combination is left out."""
    key = generalise_key(quasi_key(row), plan.levels)
    if key in plan.suppressed:
        return None
    published = {**row, **{h.column: v for h, v in zip(HIERARCHIES, key, strict=True)}}
    published["majorityStatus"] = majority_of(published["ageBroad"])
    return published
