"""How close on the record page and the worklist: words, margin, queries, outcome."""

import json
from datetime import datetime
from decimal import Decimal as D
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from screening.decisions.context import (
    how_close_rows,
    margin_text,
    projection_text,
    record_margins,
)
from tests.factories import amend, eligible_candidate
from trials import files
from trials.models import CriteriaVersion
from trials.services import trial_file_load, version_active, version_draft_create

SITE = ZoneInfo("Asia/Shanghai")
TAKEN = datetime(2026, 6, 1, 8, 0, tzinfo=SITE)


def close_call(number="40-001", **overrides):
    """CRP 9.2 (just under 10) and TBil 161 rising 17.1 a day (I3 met by the rise)."""
    values = {
        "screening_number": number,
        "crp": {"value": "9.2", "unit": "mg/L"},
        "tbil": {"value": "161", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
        "tbil_series": [
            {"time": "2026-05-31T08:00+08:00", "value": "143.9", "unit": "umol/L"}
        ],
    }
    return eligible_candidate(**{**values, **overrides})


def by_variable(found):
    return {m.variable: m for m in found}


def test_the_record_page_says_how_close_each_value_is(client, coordinator, record):
    decision = record(close_call())
    client.force_login(coordinator)
    page = client.get(decision.get_absolute_url())
    assert page.status_code == HTTPStatus.OK
    rows = {r["variable"]: r for r in page.context["how_close"]}
    assert rows["crp_mg_l"]["code"] == "I6"
    assert rows["crp_mg_l"]["text"] == "CRP 9.2 mg/L: 0.8 below 10 (8\u00a0%)"
    assert rows["crp_mg_l"]["near_miss"] is True
    assert rows["tbil_umol_l"]["code"] == "I3"
    assert "+17.1/day" in rows["tbil_umol_l"]["projection"]
    assert "06-01 22:03" in rows["tbil_umol_l"]["projection"]
    assert rows["il6_pg_ml"]["near_miss"] is False
    html = page.content.decode()
    assert 'id="how-close"' in html
    assert "near miss" in html
    # Information only: the decision and every criterion stay as recorded.
    assert decision.outcome == "ELIGIBLE"
    assert [r["outcome"].outcome for r in page.context["rows"]] == [
        o.outcome for o in decision.outcomes.order_by("position")
    ]


def test_the_projection_counts_from_now_in_the_sites_zone(record):
    decision = record(close_call())
    found = by_variable(record_margins(decision, now=TAKEN))
    tbil = found["tbil_umol_l"]
    with translation.override("en"):
        assert projection_text(tbil) == (
            "+17.1/day: reaches 171 in about 14 h; re-screen after 06-01 22:03"
        )
        assert margin_text(tbil) == "TBil 161 μmol/L: 10 below 171 (5.8\u00a0%)"
    later = datetime(2026, 6, 2, 8, 0, tzinfo=SITE)
    tbil = by_variable(record_margins(decision, now=later))["tbil_umol_l"]
    with translation.override("en"):
        assert projection_text(tbil) == (
            "+17.1/day: would have reached 171 by 06-01 22:03; re-screen now"
        )


def test_the_record_page_says_it_in_chinese(client, coordinator, record):
    decision = record(close_call())
    client.force_login(coordinator)
    page = client.get(
        decision.get_absolute_url(), headers={"accept-language": "zh-hans"}
    )
    html = page.content.decode()
    assert "距阈值多近" in html
    assert "接近阈值" in html
    rows = {r["variable"]: r for r in page.context["how_close"]}
    assert rows["crp_mg_l"]["text"].endswith("9.2 mg/L：低于 10 达 0.8 (8\u00a0%)")
    assert rows["tbil_umol_l"]["projection"].startswith("每日 +17.1：")
    translation.activate("en")


def test_a_value_entered_in_another_unit_is_shown_in_it(record):
    decision = record(close_call(crp={"value": "0.92", "unit": "mg/dL"}))
    crp = by_variable(record_margins(decision, now=TAKEN))["crp_mg_l"]
    assert (crp.value, crp.threshold, crp.unit) == (D("0.92"), D(1), "mg/dL")
    with translation.override("en"):
        assert margin_text(crp) == "CRP 0.92 mg/dL: 0.08 below 1 (8\u00a0%)"


def test_the_margin_is_the_versions(trial, record):
    def narrower(draft):
        draft.near_miss_margin_percent = D(5)
        draft.save()

    amended = amend(trial, narrower)
    decision = record(close_call())
    crp = by_variable(record_margins(decision, now=TAKEN))["crp_mg_l"]
    assert crp.near_miss is False  # 8 % from 10, outside a 5 % margin
    # A new draft starts from the margin of the version it copies.
    draft = version_draft_create(trial=trial, user=None, label="next")
    assert draft.based_on == amended
    assert draft.near_miss_margin_percent == 5


def test_a_record_read_differently_now_shows_nothing(record):
    decision = record(close_call())
    assert record_margins(decision, now=TAKEN)
    decision.outcome = "INELIGIBLE"  # not what its values give (in memory only)
    assert record_margins(decision, now=TAKEN) == ()
    decision.refresh_from_db()
    decision.snapshot.content = [{"code": "I1", "kind": "SOMETHING"}]
    assert record_margins(decision, now=TAKEN) == ()
    decision.refresh_from_db()
    decision.entered = {"screening_number": "40-001", "tbil": "lots"}
    assert record_margins(decision, now=TAKEN) == ()


def test_the_worklist_shows_near_misses_and_the_projection(
    client, trial, coordinator, record
):
    record(close_call("41-001", he_grade=None))
    record(close_call("41-002"))  # eligible: not on the worklist
    client.force_login(coordinator)
    page = client.get(reverse("screening:worklist", args=[trial.slug]))
    (row,) = page.context["rows"]
    shown = {m["variable"]: m for m in row.how_close}
    # Near misses and projections only: IL-6 at 25 is far from 7.
    assert set(shown) == {"crp_mg_l", "tbil_umol_l", "tbil_rise_per_day"}
    assert shown["crp_mg_l"]["near_miss"]
    assert shown["tbil_umol_l"]["projection"]
    html = page.content.decode()
    assert "CRP 9.2 mg/L: 0.8 below 10 (8\u00a0%)" in html
    assert "re-screen" in html


def test_worklist_queries_do_not_grow_with_rows(client, trial, coordinator, record):
    client.force_login(coordinator)
    url = reverse("screening:worklist", args=[trial.slug])
    record(close_call("42-001", he_grade=None))
    client.get(url)  # what a first request does once (session, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == HTTPStatus.OK
    for n in range(2, 12):
        record(close_call(f"42-{n:03d}", he_grade=None))
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(page.context["rows"]) == 11
    assert all(row.how_close for row in page.context["rows"])
    assert len(few.captured_queries) == len(many.captured_queries)


def test_how_close_rows_keep_only_the_notable_when_asked(record):
    found = record_margins(record(close_call()), now=TAKEN)
    every = how_close_rows(found)
    notable = how_close_rows(found, only_notable=True)
    assert len(every) == len(found) > len(notable)
    assert all(r["near_miss"] or r["projection"] for r in notable)


# --- The margin on the version ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("margin", "valid"),
    [("-0.01", False), ("0", True), ("10", True), ("100", True), ("100.01", False)],
)
def test_the_margin_is_validated_0_to_100(trial, margin, valid):
    version = CriteriaVersion(trial=trial, number=9, label="x")
    version.near_miss_margin_percent = D(margin)
    if valid:
        version.full_clean(exclude=["trial"])
    else:
        with pytest.raises(ValidationError) as refused:
            version.full_clean(exclude=["trial"])
        assert "near_miss_margin_percent" in refused.value.message_dict


@pytest.mark.django_db
def test_the_database_refuses_a_margin_outside_0_to_100(trial):
    active = version_active(trial=trial)
    assert active.near_miss_margin_percent == 10
    draft = CriteriaVersion.objects.create(trial=trial, number=9, label="draft")
    with pytest.raises(IntegrityError), transaction.atomic():
        CriteriaVersion.objects.filter(pk=draft.pk).update(
            near_miss_margin_percent=D(150)
        )


@pytest.mark.django_db
def test_a_trial_file_names_a_bad_margin_and_defaults_a_missing_one(tmp_path):
    data = json.loads(files.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["versions"][0]["near_miss_margin_percent"] = 150
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(files.TrialFileError) as refused:
        trial_file_load(path=path)
    assert [p for p, _m in refused.value.problems] == [
        "versions[0].near_miss_margin_percent"
    ]
    del data["versions"][0]["near_miss_margin_percent"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    trial = trial_file_load(path=path).trial
    assert version_active(trial=trial).near_miss_margin_percent == 10
