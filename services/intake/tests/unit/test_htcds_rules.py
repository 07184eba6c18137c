"""The HTCDS export's pure rules: rows without personal data, hierarchies, the k property."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from ruta_intake.exports.models import HEADER
from ruta_intake.exports.rules import (
    ANY,
    HIERARCHIES,
    QUASI_IDENTIFIERS,
    SUBDIVISIONS,
    Key,
    age_band,
    generalise_key,
    plan_generalisation,
    publish,
    quasi_key,
    victim_row,
)

CASE = {
    "opened_at": datetime(2024, 12, 31, 23, 30, tzinfo=UTC),  # 2024 in Lima, too
    "status": "closed",
    "region_of_exploitation": "16",
    "crime_types": ["trafficking"],
    "exploitation_purposes": ["sexual", "begging"],
}
VICTIM = {
    "victim_id": "v-1",
    "sex": "female",
    "age_at_intake": 15,
    "age_group": "minor",
    "nationality": "VE",
    "trafficking": {
        "recruitment_method": "online",
        "means_of_control": ["isolation", "restricted_movement", "withheld_wages"],
        "exploitation_setting": "bar_or_nightclub",
    },
}


def test_a_row_has_the_htcds_columns_and_no_ids_or_dates() -> None:
    row = victim_row(CASE, VICTIM)
    assert tuple(row) == HEADER
    assert row["yearOfRegistration"] == "2024"
    assert row["cas_Status"] == "Closed"
    assert (row["prs_Gender"], row["ageBroad"], row["majorityStatus"]) == (
        "Female",
        "09--17",
        "Minor",
    )
    assert (row["prs_Nationality"], row["hte_State"]) == ("VE", "PE-LOR")
    assert (row["isSexualExploit"], row["isForcedLabour"], row["isOtherExploit"]) == ("1", "1", "0")
    assert row["vic_TypeOfLabourExploitation"] == "Begging"
    assert row["vic_TypeOfSexExploitation"] == "Prostitution"
    assert row["vic_MethodOfRecruitment"] == "Internet (social media, online advertisement)"
    assert row["vic_MethodsOfControl"] == "RestrictsMovement;TakesEarnings"
    assert "v-1" not in row.values()


def test_age_bands_follow_ctdc_and_fall_back_on_the_age_group() -> None:
    assert [age_band(a, None) for a in (0, 8, 9, 17, 18, 29, 30, 47, 48, 90)] == [
        "0--8", "0--8", "09--17", "09--17", "18--20", "27--29", "30--38", "39--47", "48+", "48+",
    ]  # fmt: skip
    assert age_band(None, "minor") == "0--17"
    assert age_band(None, "adult") == "18+"
    assert age_band(None, "unknown") == "Unknown"


def test_every_hierarchy_ends_in_any_and_regions_all_have_a_macro_region() -> None:
    key = quasi_key(victim_row(CASE, VICTIM))
    assert QUASI_IDENTIFIERS == ("ageBroad", "prs_Gender", "prs_Nationality", "hte_State",
                                 "yearOfRegistration")  # fmt: skip
    assert generalise_key(key, (1, 0, 1, 1, 1)) == ("0--17", "Female", "Foreign", "Amazon",
                                                    "2020-2024")  # fmt: skip
    assert generalise_key(key, (2, 0, 0, 0, 0))[0] == "0--17"
    top = tuple(h.levels - 1 for h in HIERARCHIES)
    assert generalise_key(key, top) == (ANY,) * len(HIERARCHIES)
    for code in SUBDIVISIONS.values():
        assert generalise_key(("Unknown", "Male", "PE", code, "2020"), (0, 0, 0, 1, 0))[3] in {
            "North", "Centre", "South", "Amazon", "Lima and Callao",
        }  # fmt: skip


def test_the_plan_leaves_identifiable_rows_out_when_generalising_cannot_help() -> None:
    counts: Counter[Key] = Counter({("09--17", "Female", "PE", "PE-LIM", "2024"): 3})
    plan = plan_generalisation(counts, k=11, max_suppressed=0.05)
    row = dict.fromkeys(HEADER, "")
    row.update(zip(QUASI_IDENTIFIERS, ("09--17", "Female", "PE", "PE-LIM", "2024"), strict=True))
    assert publish(row, plan) is None


VALUES = st.tuples(
    st.sampled_from(["0--8", "09--17", "18--20", "24--26", "30--38", "48+", "0--17", "Unknown"]),
    st.sampled_from(["Female", "Male", "Unknown"]),
    st.sampled_from(["PE", "VE", "CO", "EC", "BO", "Unknown"]),
    st.sampled_from(sorted(SUBDIVISIONS.values())),
    st.sampled_from([str(y) for y in range(2016, 2026)]),
)


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(VALUES, min_size=0, max_size=400),
    k=st.integers(min_value=2, max_value=30),
    share=st.sampled_from([0.0, 0.05, 0.2]),
)
def test_every_published_combination_has_at_least_k_rows(
    keys: list[Key], k: int, share: float
) -> None:
    plan = plan_generalisation(Counter(keys), k=k, max_suppressed=share)
    published: Counter[Key] = Counter()
    left_out = 0
    for key in keys:
        row = dict.fromkeys(HEADER, "")
        row.update(zip(QUASI_IDENTIFIERS, key, strict=True))
        out = publish(row, plan)
        if out is None:
            left_out += 1
        else:
            published[quasi_key(out)] += 1
    assert all(count >= k for count in published.values())
    assert sum(published.values()) + left_out == len(keys)
    fully_generalised = plan.levels == tuple(h.levels - 1 for h in HIERARCHIES)
    # Rows are left out only within the budget, unless nothing is left to generalise.
    assert left_out <= int(len(keys) * share) or fully_generalised
