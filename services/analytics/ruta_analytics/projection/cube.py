"""What each fact adds to the figures' aggregate documents (pure): counters per cell.

An aggregate document is one (period, office, region): `m:YYYY-MM`, `y:YYYY` or `a:*` (all
time), an office or `*` (all offices), a region (of exploitation for case facts, of the
session for training) or `*`. Inside it, the cell `<crime type>|<project>` (either may be
`*`) holds the counters of every figure (stored as blobs: `projection.storage`). Training
has no crime type: its counters are in the cells of their own slot, `+training|<project>`,
so that a read filtered by crime type does not load the `*` cells (every case counter) for
the training figures it shows.
A fact adds 1 to each counter it belongs to in every document and cell that covers it (its
own and the `*` roll-ups), so a read takes one cell of one document per period and office it
asks for, whatever the filters: its cost grows with the number of years and offices asked
for, not with the data.

Distinct counts (victims cared for, referred, returned, reintegrated; participants reached)
come from presence documents, one per counted thing (`presence_id`), that list its
occurrences; a presence adds 1 per period in which it occurs, with the attributes of its
first occurrence there. For year ranges, `q.<previous year>.<counter>` in a year's document
counts the things that also occurred in the previous year they occurred in: the things seen
in years a..b are then the sum of the years' counts minus the `q` pairs inside the range.
Route stages and plan tasks have their counters in `route_cube`; a stage counts at two
moments (`MOMENTS`: where it was entered, and where it was left).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, Final, NamedTuple

from ruta_analytics.projection.models import (
    CARE,
    CASES,
    MILESTONES,
    REFERRALS,
    RETURNS,
    SESSIONS,
    STAGES,
    TASKS,
    VICTIMS,
    Document,
)
from ruta_analytics.projection.route_cube import (
    STAGE_KINDS,
    STAGE_PRESENCE,
    due_counters,
    stage_counters,
    stage_moments,
    stage_unit,
    task_counters,
)

ALL: Final = "*"
NONE: Final = "sin_dato"
CUBE: Final = "cube"
PRESENCE: Final = "presence"
Delta = Counter[tuple[str, str]]  # (aggregate document id, counter path) -> amount
LEVELS: Final = ("m", "y", "a")
TRAINING: Final = "+training"  # training's crime-type slot (no crime type is spelt so)
TRAINING_ONLY: Final = (TRAINING,)


def safe(value: Any) -> str:
    """A value usable inside a field name (no dots, no leading `$`); None is `sin_dato`."""
    if value is None or value == "":
        return NONE
    return str(value).replace(".", "_").replace("$", "_")


def cell_key(crime: str, project: str) -> str:
    """The cell of a crime type (or `*`) and a project (or `*`)."""
    return f"{safe(crime) if crime != ALL else ALL}|{safe(project) if project != ALL else ALL}"


def doc_id(level: str, period: str, office: str, region: str) -> str:
    """The aggregate document of a period at `level`, an office and a region (or `*`)."""
    return f"{level}:{period}:{office}:{region}"


def period_of(level: str, year: int, month: int) -> str:
    """The period key at `level` of a year and month."""
    if level == "m":
        return f"{year:04d}-{month:02d}"
    return str(year) if level == "y" else ALL


class Where(NamedTuple):
    """Where a fact counts: its period, office, region, crime types and project."""

    year: int
    month: int
    office: str
    region: str
    crimes: tuple[str, ...]
    project: str | None

    def places(self) -> Iterator[tuple[str, str, str, str]]:
        """(office, region, crime, project) of every roll-up that covers the fact."""
        for office in (self.office, ALL):
            for region in (self.region, ALL):
                for crime in self.crimes if self.crimes == TRAINING_ONLY else (*self.crimes, ALL):
                    for project in (self.project, ALL) if self.project else (ALL,):
                        yield office, region, crime, project


def where(doc: Document, *, training: bool = False) -> Where | None:
    """A fact's place, or None when it does not count yet (no period or office)."""
    year, month, office = doc.get("year"), doc.get("month"), doc.get("office")
    if not isinstance(year, int) or not isinstance(month, int) or not office:
        return None
    region = doc.get("region") if training else doc.get("region_of_exploitation")
    crimes = TRAINING_ONLY if training else _crimes(tuple(doc.get("crime_types") or ()))
    project = doc.get("project_code") or doc.get("case_project")
    return Where(
        year, month, safe(office), safe(region), crimes, safe(project) if project else None
    )


@lru_cache(maxsize=1_024)
def _crimes(given: tuple[str, ...]) -> tuple[str, ...]:
    """A fact's crime types as its cells name them: distinct, sorted (few distinct lists)."""
    return tuple(sorted({safe(c) for c in given}))


# Open things with a due day (pending referrals, open stages, open plan tasks) are read as
# "overdue now" against today without the all-time documents growing with every due day:
# the all-time documents count them by due month (`@<r|s|t>due.<YYYY-MM>`, months before the
# current one merged into PAST_DUE on each write), and the due month's own document
# (`d:<YYYY-MM>`, `!` counters) by due day (`<r|s|t>day.<YYYY-MM-DD>`). Overdue now is then
# the months before today's plus today's month's days before today: one more document read,
# whatever the number of due days ever seen.
DUE_COUNTERS: Final = ("rdue.", "sdue.", "tdue.")
PAST_DUE: Final = "0000-00"
DUE_LEVEL: Final = "d"


def compact_due(counters: dict[str, float], today: str) -> None:
    """Merge the due-month counters of months before `today`'s into PAST_DUE (sums
    unchanged)."""
    month = today[:7]
    for path in [p for p in counters if p.startswith(DUE_COUNTERS)]:
        prefix, due = path.rsplit(".", 1)
        if due < month and due != PAST_DUE:
            amount = counters.pop(path)
            past = f"{prefix}.{PAST_DUE}"
            counters[past] = counters.get(past, 0) + amount
            if not counters[past]:
                del counters[past]


@lru_cache(maxsize=65_536)
def roll_ups(
    office: str, region: str, crimes: tuple[str, ...], project: str | None
) -> tuple[tuple[str, str, str], ...]:
    """(office, region, cell) of every roll-up covering a place (whatever its period)."""
    place = Where(0, 0, office, region, crimes, project)
    return tuple((o, r, cell_key(c, p)) for o, r, c, p in place.places())


def due_target(path: str, office: str, region: str) -> str:
    """The due month's document of a due-day counter (`<x>day.<YYYY-MM-DD>`)."""
    return doc_id(DUE_LEVEL, path.rsplit(".", 1)[1][:7], office, region)


@lru_cache(maxsize=65_536)
def _spots(place: Where) -> tuple[tuple[str, str, bool], ...]:
    """(document, cell path prefix, all-time document?) of every roll-up covering `place`
    (computed once per distinct place: a rebuild spreads millions of counters)."""
    spots = []
    for office, region, cell in roll_ups(place.office, place.region, place.crimes, place.project):
        for level in LEVELS:
            target = doc_id(level, period_of(level, place.year, place.month), office, region)
            spots.append((target, f"c.{cell}.", level == "a"))
    return tuple(spots)


def _spread(
    delta: Delta,
    place: Where,
    counters: Iterable[tuple[str, float]],
    sign: int,
    facts: int = 1,
) -> None:
    """Add `counters` (of `facts` facts) at every level, document and cell covering `place`."""
    counters = list(counters)
    items = [(path, sign * n) for path, n in counters if n and path[0] not in "@!"]
    lasting = [(path[1:], sign * n) for path, n in counters if n and path.startswith("@")]
    due = [(path[1:], sign * n) for path, n in counters if n and path.startswith("!")]
    if not items and not lasting:
        return
    for office, region, cell in roll_ups(place.office, place.region, place.crimes, place.project):
        for path, amount in due:
            delta[(due_target(path, office, region), f"c.{cell}.{path}")] += amount  # type: ignore[assignment]
    year = f"yr.{place.year}"  # which years hold anything, for ranges and the suppressed view
    for target, prefix, all_time in _spots(place):
        for path, amount in items:
            delta[(target, prefix + path)] += amount  # type: ignore[assignment]
        if all_time:
            delta[(target, prefix + year)] += sign * facts
            for path, amount in lasting:
                delta[(target, prefix + path)] += amount  # type: ignore[assignment]


def _case_counters(doc: Document) -> list[tuple[str, float]]:
    return [("cases", 1), (f"@cy.{doc['year']}", 1)] if doc.get("opened") else []


def _victim_counters(doc: Document) -> list[tuple[str, float]]:
    if doc.get("duplicate_of") is not None:
        return []
    return [
        (f"v.{safe(doc.get('sex'))}.{safe(doc.get('age_group'))}", 1),
        (f"vo.{safe(doc.get('region_of_origin'))}", 1),
        (f"vx.{safe(doc.get('region_of_exploitation'))}", 1),
        (f"@vy.{doc['year']}", 1),
    ]


def _return_counters(doc: Document) -> list[tuple[str, float]]:
    funded = int(bool(doc.get("funded")))
    return [(f"ret.{safe(doc.get('region_of_origin'))}", 1), ("retf", funded)]


def _referral_counters(doc: Document) -> list[tuple[str, float]]:
    kind, outcome = safe(doc.get("institution_kind")), safe(doc.get("outcome"))
    counters: list[tuple[str, float]] = [(f"r.{kind}.{outcome}", 1)]
    if doc.get("accepted_ever"):
        counters.append(("racc", 1))
        if doc.get("whole_days_to_acceptance") is not None:
            counters.append((f"rd.{doc['whole_days_to_acceptance']}", 1))
    if doc.get("outcome") == "pending":  # overdue now: a flag, or a due date before today
        if doc.get("overdue"):
            counters.append(("@rov", 1))
        elif doc.get("due_on"):
            counters += due_counters("r", doc["due_on"])
    return counters


def _session_counters(doc: Document) -> list[tuple[str, float]]:
    if doc.get("status") in (None, "cancelled"):
        return []
    region = safe(doc.get("region"))
    counters: list[tuple[str, float]] = [("ts", int(doc.get("status") == "held"))]
    for audience, people in sorted((doc.get("hc") or {}).items()):
        total = sum(int(people.get(s, 0)) for s in ("female", "male", "unknown"))
        counters += [(f"ths.{s}", int(people.get(s, 0))) for s in ("female", "male", "unknown")]
        counters += [(f"tha.{safe(audience)}", total), (f"thr.{region}", total), ("thc", total)]
    gains = [float(g) for g in (doc.get("gains") or {}).values()]
    counters += [("tac", len(gains)), ("tag", round(sum(gains), 6))]
    return counters


COUNTERS: Final[dict[str, Callable[[Document], list[tuple[str, float]]]]] = {
    CASES: _case_counters,
    VICTIMS: _victim_counters,
    CARE: lambda doc: [(f"care.{safe(doc.get('care_type'))}", 1)],
    REFERRALS: _referral_counters,
    RETURNS: _return_counters,
    MILESTONES: lambda doc: [(f"mil.{safe(doc.get('milestone'))}", 1)],
    SESSIONS: _session_counters,
    STAGES: stage_counters,
    TASKS: task_counters,
}
# Facts that count at more than one moment (a stage: entered, then left): (place, counters).
MOMENTS: Final[dict[str, Callable[[Document, Where], list[tuple[Where, list[Any]]]]]] = {
    STAGES: stage_moments,
}


def fact_counters(collection: str, doc: Document) -> list[tuple[str, float]]:
    """The counters one fact adds 1 (or its amount) to. `@` marks all-time-only counters."""
    counters = COUNTERS.get(collection)
    return counters(doc) if counters is not None else []


def placed(collection: str, doc: Document | None, training: bool) -> list[tuple[Where, list[Any]]]:
    """Where a fact counts and what, at each of its moments (none when it does not count)."""
    place = where(doc, training=training) if doc is not None else None
    if doc is None or place is None:
        return []
    moments = MOMENTS.get(collection)
    if moments is None:
        return [(place, fact_counters(collection, doc))]
    return moments(doc, place)


def fact_delta(
    collection: str, old: Document | None, new: Document | None, into: Delta | None = None
) -> Delta:
    """What changing a fact from `old` to `new` (None: absent) does to the aggregates
    (added to `into` when given)."""
    delta: Delta = Counter() if into is None else into
    training = collection == SESSIONS
    spotted = [placed(collection, doc, training) for doc in (old, new)]
    if spotted[0] == spotted[1]:
        return delta  # same places, same counters (a sequence or a stamp changed): no move
    for spots, sign in zip(spotted, (-1, 1), strict=True):
        for spot, counters in spots:
            _spread(delta, spot, counters, sign)
    return delta


# --- presence: distinct counts ----------------------------------------------------------

# (presence name, fact collection): what is counted once per period.
PRESENCE_OF: Final = {
    CARE: ("dc",),
    REFERRALS: ("dr", "drk"),
    RETURNS: ("dt",),
    MILESTONES: ("dm",),
    STAGES: STAGE_PRESENCE,
}
# Presences counted per kind as well (the kind's field; the kind is in the presence id).
KINDS: Final = {"drk": "institution_kind", **STAGE_KINDS}


def occurrences(collection: str, doc: Document | None) -> list[tuple[str, str, Document]]:
    """(presence id, occurrence id, occurrence) of everything a fact makes present."""
    if doc is None:
        return []
    if collection == SESSIONS:
        return _attendance_occurrences(doc)
    names = PRESENCE_OF.get(collection, ())
    place = where(doc)
    victim = stage_unit(doc) if collection == STAGES else doc.get("victim_id")
    if not names or place is None or not victim:
        return []
    occurrence = _occurrence(place, str(doc.get("day") or ""), {})
    found = []
    for name in names:
        if name in KINDS:
            kind = safe(doc.get(KINDS[name]))
            found.append(
                (f"{name}:{kind}:{victim}", str(doc["_id"]), {**occurrence, "a": {"kind": kind}})
            )
        else:
            found.append((f"{name}:{victim}", str(doc["_id"]), occurrence))
    return found


def _attendance_occurrences(session: Document) -> list[tuple[str, str, Document]]:
    place = where(session, training=True)
    if place is None or session.get("status") in (None, "cancelled"):
        return []
    order = str(session.get("starts_on") or session.get("held_on") or "")
    found = []
    for participant, person in sorted((session.get("att") or {}).items()):
        attributes = {
            "aud": safe(person.get("audience")),
            "sex": safe(person.get("sex")),
            "reg": place.region,
            "home": safe(person.get("region")),
        }
        found.append(
            (f"dp:{participant}", str(session["_id"]), _occurrence(place, order, attributes))
        )
    return found


def _occurrence(place: Where, order: str, attributes: Document) -> Document:
    return {
        "y": place.year,
        "m": place.month,
        "o": place.office,
        "r": place.region,
        "c": list(place.crimes),
        "p": place.project,
        "k": order,
        "a": attributes,
    }


def presence_paths(name: str, attributes: Document) -> list[str]:
    if name == "dp":
        return [
            "dp",
            f"dpa.{attributes['aud']}",
            f"dps.{attributes['sex']}",
            f"dpr.{attributes['reg']}",
            f"dph.{attributes['home']}",
        ]
    if name in KINDS:
        return [f"{name}.{attributes['kind']}"]
    return [name]


def presence_delta(old: Document | None, new: Document | None, into: Delta | None = None) -> Delta:
    """What changing a presence document does to the aggregates (added to `into`)."""
    delta: Delta = Counter() if into is None else into
    if (old or {}).get("occ") == (new or {}).get("occ"):
        return delta
    for doc, sign in ((old, -1), (new, 1)):
        if doc is not None:
            for key, amount in presence_counters(doc).items():
                delta[key] += sign * amount
    return delta


def presence_counters(doc: Document) -> Delta:
    """A presence document's counts: once per period it occurs in, at its first occurrence."""
    name = str(doc["_id"]).split(":", 1)[0]
    items = sorted((doc.get("occ") or {}).items(), key=lambda kv: (kv[1]["k"], kv[0]))
    groups: dict[tuple[str, str, str, str], list[Document]] = defaultdict(list)
    for _, occ in items:
        place = Where(occ["y"], occ["m"], occ["o"], occ["r"], tuple(occ["c"]), occ["p"])
        for spot in place.places():
            groups[spot].append(occ)
    counts: Delta = Counter()
    for (office, region, crime, project), found in groups.items():
        cell = cell_key(crime, project)
        spots: list[tuple[str, Document, str]] = [(doc_id("a", ALL, office, region), found[0], "")]
        months: dict[tuple[int, int], Document] = {}
        years: dict[int, Document] = {}
        for occ in found:
            months.setdefault((occ["y"], occ["m"]), occ)
            years.setdefault(occ["y"], occ)
        for (year, month), occ in months.items():
            spots.append((doc_id("m", period_of("m", year, month), office, region), occ, ""))
        ordered = sorted(years)
        for index, year in enumerate(ordered):
            target = doc_id("y", str(year), office, region)
            spots.append((target, years[year], ""))
            if index:
                spots.append((target, years[year], f"q.{ordered[index - 1]}."))
        for target, occ, prefix in spots:
            for path in presence_paths(name, occ["a"]):
                counts[(target, f"c.{cell}.{prefix}{path}")] += 1
    return counts


def apply_occurrences(
    presence: dict[str, Document | None],
    removed: Iterable[tuple[str, str]],
    added: Iterable[tuple[str, str, Document]],
) -> set[str]:
    """Take `removed` (presence id, occurrence id) out and put `added` in; the ids changed."""
    changed: set[str] = set()
    for presence_id, occ_id in removed:
        doc = presence.get(presence_id)
        if doc is not None and occ_id in doc.get("occ", {}):
            doc = {**doc, "occ": {k: v for k, v in doc["occ"].items() if k != occ_id}}
            presence[presence_id] = doc
            changed.add(presence_id)
    for presence_id, occ_id, occ in added:
        doc = presence.get(presence_id) or {"_id": presence_id, "occ": {}}
        if doc.get("occ", {}).get(occ_id) != occ:
            presence[presence_id] = {**doc, "occ": {**doc.get("occ", {}), occ_id: occ}}
            changed.add(presence_id)
    return changed
