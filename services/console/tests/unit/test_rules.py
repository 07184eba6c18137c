"""Pure rules of the console: field errors in Spanish, Lima dates, form -> body, the timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from ruta_console.audit.rules import event_label, verdict
from ruta_console.cases.rules import (
    case_body,
    duplicate_notices,
    is_duplicate,
    route_of_care,
    victim_body,
)
from ruta_console.figures.rules import bar_chart, figure_filters
from ruta_console.referrals.rules import referral_body, return_body
from ruta_console.rules import day, field_messages, field_name, lima_datetime, number
from starlette.datastructures import FormData


def test_service_fields_become_form_fields() -> None:
    assert field_name("body.victims.0.sex") == "victims.0.sex"
    assert field_name("query.purpose") == "purpose"
    assert field_name("body.hours_attended") == "hours"
    assert field_name("justification") == "justification"


def test_the_services_spanish_messages_are_shown_as_sentences() -> None:
    messages = field_messages(
        [
            {"field": "body.office", "type": "literal_error", "message": "elija una de: lima"},
            {"field": "body.crime_types", "type": "too_short", "message": ""},
            {"field": "body.document_number", "type": "invalid", "message": "ya registrado"},
            {"field": "body.document_number", "type": "invalid", "message": "second one"},
            "not a dict",
        ]
    )
    assert messages == {
        "office": "Elija una de: lima.",
        "crime_types": "El valor no es válido.",
        "document_number": "Ya registrado.",
    }


def test_dates_are_shown_in_lima_time() -> None:
    assert lima_datetime("2026-12-01T03:30:00+00:00") == "30/11/2026 22:30"
    assert lima_datetime(datetime(2026, 1, 1, 12, tzinfo=UTC)) == "01/01/2026 07:00"
    assert lima_datetime(None) == ""
    assert lima_datetime("no es fecha") == ""
    assert day("2026-12-01") == "01/12/2026"
    assert day("") == ""


def test_numbers_are_read_as_typed() -> None:
    assert number({"n": "12"}, "n") == 12
    assert number({"n": "1,5"}, "n") == 1.5
    assert number({"n": "doce"}, "n") == "doce"
    assert number({"n": " "}, "n") is None


def test_a_case_form_becomes_its_request_body() -> None:
    form = FormData(
        [
            ("office", "lima"),
            ("crime_types", "trafficking"),
            ("crime_types", "csec"),
            ("arrival_channel", "hotline"),
            ("victims.0.sex", "female"),
            ("victims.0.age_at_intake", "15"),
            ("victims.0.indigenous_people", "si"),
            ("victims.0.personal_data.given_names", " Rosa "),
            ("victims.0.personal_data.phone", ""),
        ]
    )
    body = case_body(form)
    assert body["crime_types"] == ["trafficking", "csec"]
    assert body["victims"] == [
        {
            "sex": "female",
            "age_at_intake": 15,
            "indigenous_people": True,
            "personal_data": {"given_names": "Rosa"},
            "allow_duplicate": False,
        }
    ]
    assert "exploitation_purposes" not in body
    assert victim_body(FormData([("allow_duplicate", "on")]))["allow_duplicate"] is True


def test_only_a_409_naming_a_duplicate_is_a_duplicate_warning() -> None:
    duplicate = {"detail": "x", "errors": [{"field": "body.x", "type": "duplicate"}]}
    assert is_duplicate(409, {}, duplicate)
    assert is_duplicate(409, {}, {"detail": "posible duplicado en otra oficina"})
    assert not is_duplicate(422, {}, duplicate)
    assert not is_duplicate(409, {}, {"detail": "Conflicto", "code": "consent_required"})


def test_referral_and_return_bodies() -> None:
    form = FormData([("institution_id", "fistrap-lima"), ("reason", "r"), ("urgency", "high")])
    assert referral_body(form) == {
        "institution_id": "fistrap-lima",
        "reason": "r",
        "urgency": "high",
    }
    assert return_body(FormData([("region_of_origin", "16")]))["funded"] is False


def test_the_route_of_care_is_in_time_order() -> None:
    case = {
        "case_code": "LIM-2026-0001",
        "opened_at": "2026-01-01T10:00:00+00:00",
        "victims": [{"registered_at": "2026-01-01T10:00:01+00:00"}],
        "consents": [
            {
                "granted": True,
                "institution_kind": "prosecutor",
                "recorded_at": "2026-01-02T10:00:00+00:00",
                "withdrawn_at": "2026-01-05T10:00:00+00:00",
            }
        ],
        "closed_at": None,
    }
    care = [
        {"provided_on": "2026-01-03", "care_type": "legal", "recorded_at": "2026-01-03T20:00:00Z"}
    ]
    route = {
        "referrals": [
            {
                "institution_kind": "prosecutor",
                "created_at": "2026-01-04T09:00:00+00:00",
                "sent_at": "2026-01-04T09:00:01+00:00",
            }
        ],
        "returns": [],
        "milestones": [],
    }
    steps = [m.what for m in route_of_care(case, route, care)]
    assert steps == [
        "Caso abierto",
        "Víctima registrada",
        "Consentimiento otorgado",
        "Atención",
        "Derivación solicitada",
        "Derivación enviada",
        "Consentimiento retirado",
    ]
    assert [m.what for m in route_of_care(case, None, [])][-1] == "Consentimiento retirado"


def test_bar_charts_scale_to_the_largest_value_and_draw_nothing_for_hidden_ones() -> None:
    chart = bar_chart("t", ["a", "b", "c"], [10, 5, None])
    widths = [bar.width for bar in chart.bars]
    assert widths[0] > widths[1] > 0
    assert widths[2] == 0
    assert bar_chart("t", [], []).height > 0
    assert figure_filters({"anio": "2026", "oficina": "", "mes": None}) == {"year": "2026"}


def test_the_verification_reads_as_plain_spanish() -> None:
    ok, sentence = verdict({"valid": True, "entries": 12, "chains": 2})
    assert ok
    assert "íntegro" in sentence
    assert "12 anotaciones" in sentence
    broken, sentence = verdict({"valid": False, "first_broken_link": {"position": 4}})
    assert not broken
    assert "NO está íntegro" in sentence
    assert "número 4" in sentence
    assert event_label("case.opened") == "Caso abierto"
    assert event_label("new.type") == "new.type"


def test_duplicate_notices_are_shown_as_sentences() -> None:
    notice = "posible duplicado en otra oficina; un coordinador puede revisarlo"
    case = {"victims": [{"duplicate_notice": notice}, {"duplicate_notice": None}]}
    assert duplicate_notices(case) == [
        "Posible duplicado en otra oficina; un coordinador puede revisarlo."
    ]
    assert duplicate_notices({"victim_id": "v", "duplicate_notice": None}) == []
    assert duplicate_notices("no es un cuerpo") == []
