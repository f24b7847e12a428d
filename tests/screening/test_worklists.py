"""The coordinator's worklist and the investigator's sign-off queue."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from screening.decisions.services import signature_record
from screening.models import Signature
from screening.reports.worklists import hours_left
from tests.factories import TEST_PASSWORD, amend, eligible_candidate


def test_the_worklist_lists_incomplete_candidates_with_what_to_collect(
    client, trial, coordinator, record
):
    waiting = record(eligible_candidate(screening_number="30-001", he_grade=None))
    record(eligible_candidate(screening_number="30-002"))
    client.force_login(coordinator)
    page = client.get(reverse("screening:worklist", args=[trial.slug]))
    assert page.status_code == HTTPStatus.OK
    rows = page.context["rows"]
    assert [r.screening_number for r in rows] == ["30-001"]
    assert rows[0].to_collect_labels
    # Re-screened with the value, the candidate leaves the worklist.
    record(
        eligible_candidate(screening_number="30-001"),
        supersedes=waiting,
        supersede_reason="HE grade assessed",
    )
    page = client.get(reverse("screening:worklist", args=[trial.slug]))
    assert list(page.context["rows"]) == []


def test_the_queue_lists_what_this_investigator_may_sign(
    client, trial, coordinator, investigator, record
):
    first = record(eligible_candidate(screening_number="31-001"))
    second = record(eligible_candidate(screening_number="31-002"))
    client.force_login(investigator)
    url = reverse("screening:sign_queue", args=[trial.slug])
    assert [d.pk for d in client.get(url).context["rows"]] == [first.pk, second.pk]
    signature_record(
        decision=first,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    assert [d.pk for d in client.get(url).context["rows"]] == [second.pk]


def test_an_investigator_never_sees_their_own_screening_in_the_queue(
    client, trial, investigator
):
    from screening.decisions.services import decision_record

    decision_record(
        trial=trial,
        data=eligible_candidate(screening_number="31-010"),
        user=investigator,
    )
    client.force_login(investigator)
    page = client.get(reverse("screening:sign_queue", args=[trial.slug]))
    assert list(page.context["rows"]) == []


def test_home_is_the_work_of_the_role(
    client, trial, coordinator, investigator, monitor
):
    for user, name in (
        (coordinator, "screening:worklist"),
        (investigator, "screening:sign_queue"),
        (monitor, "screening:log"),
    ):
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response["Location"] == reverse(name, args=[trial.slug]), user


# I6 is met by any one marker above its limit: TNF-alpha and PCT measured, not.
QUIET_TNF_PCT = {
    "tnf_alpha": {"value": "6", "unit": "pg/mL"},
    "pct": {"value": "0.04", "unit": "ng/mL"},
}


def test_the_worklist_groups_what_to_collect_as_the_criterion_reads(
    client, trial, coordinator, record
):
    record(
        eligible_candidate(
            screening_number="32-001",
            il6={"status": "pending"},
            crp=None,
            **QUIET_TNF_PCT,
        )
    )
    record(
        eligible_candidate(
            screening_number="32-002",
            il6={"status": "pending"},
            crp={"value": "4", "unit": "mg/L"},
            **QUIET_TNF_PCT,
        )
    )
    client.force_login(coordinator)
    page = client.get(reverse("screening:worklist", args=[trial.slug]))
    groups = {r.screening_number: r.collect_groups for r in page.context["rows"]}
    # I6 (inclusion) is met by any one marker above its limit.
    (both,) = groups["32-001"]
    assert (both["code"], both["any_one"], both["all_of"]) == ("I6", True, False)
    assert len(both["conditions"]) == 2
    # IL-6 is awaited from the laboratory; CRP was not entered at all.
    assert len(both["pending"]) == 1 and both["pending"][0] in both["conditions"]
    (one,) = groups["32-002"]
    assert (one["code"], one["any_one"], one["pending"]) == (
        "I6",
        False,
        one["conditions"],
    )
    html = page.content.decode()
    assert 'data-code="I6"' in html and "any one of" in html and "pending:" in html


def test_an_exclusion_needs_all_its_conditions_and_meld_all_its_inputs(
    client, trial, coordinator, record
):
    # E1: severe bleeding or DIC; both unanswered: both are needed to rule it out.
    # E4 (MELD): one condition that needs TBil, INR, creatinine and dialysis.
    record(
        eligible_candidate(
            screening_number="34-001",
            severe_active_bleeding=None,
            dic=None,
            dialysis_twice_past_week=None,
        )
    )
    client.force_login(coordinator)
    page = client.get(reverse("screening:worklist", args=[trial.slug]))
    (row,) = page.context["rows"]
    groups = {g["code"]: g for g in row.collect_groups}
    e1 = next(g for g in groups.values() if len(g["conditions"]) == 2)
    assert (e1["any_one"], e1["all_of"]) == (False, True)
    assert "all of" in page.content.decode()
    meld = [g for g in groups.values() if len(g["conditions"]) == 1]
    assert meld and all(not g["any_one"] and not g["all_of"] for g in meld)


@pytest.mark.parametrize(
    ("elapsed", "left"),
    [
        (timedelta(hours=47, minutes=30), 1),
        (timedelta(hours=47), 1),
        (timedelta(hours=46, minutes=59), 2),
        (timedelta(hours=48), -1),
        (timedelta(hours=48, minutes=1), -1),
        (timedelta(hours=49), -1),
        (timedelta(hours=49, seconds=1), -2),
        (timedelta(0), 48),
    ],
)
def test_hours_left_in_the_screening_window(elapsed, left):
    now = timezone.now()
    assert hours_left(first_screened=now - elapsed, window_hours=48, now=now) == left


def test_no_window_no_hours_left():
    now = timezone.now()
    assert hours_left(first_screened=now, window_hours=None, now=now) is None


def test_the_worklist_shows_the_window_left_most_urgent_first(
    client, trial, coordinator, record
):
    assert trial.versions.get(state="ACTIVE").screening_window_hours == 48
    record(eligible_candidate(screening_number="35-001", he_grade=None))

    def six_hours(draft):
        draft.screening_window_hours = 6
        draft._change_reason = "Amendment: screening within 6 hours"
        draft.save()

    amend(trial, six_hours)
    # Screened later, under a version with a 6-hour window: more urgent.
    record(eligible_candidate(screening_number="35-002", he_grade=None))
    client.force_login(coordinator)
    url = reverse("screening:worklist", args=[trial.slug])
    rows = client.get(url).context["rows"]
    assert [(r.screening_number, r.hours_left) for r in rows] == [
        ("35-002", 6),
        ("35-001", 48),
    ]
    with translation.override("zh-hans"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "剩余 6 小时" in page and "剩余 48 小时" in page


def test_the_menu_counts_the_decisions_waiting_for_this_investigator(
    client, trial, coordinator, investigator, record
):
    first = record(eligible_candidate(screening_number="33-001"))
    record(eligible_candidate(screening_number="33-002"))
    client.force_login(investigator)
    url = reverse("screening:log", args=[trial.slug])
    page = client.get(url).content.decode()
    assert 'id="sign-queue-count" aria-hidden="true">2<' in page
    signature_record(
        decision=first,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    assert (
        'id="sign-queue-count" aria-hidden="true">1<'
        in client.get(url).content.decode()
    )
    # A coordinator signs nothing: no count.
    client.force_login(coordinator)
    assert 'id="sign-queue-count"' not in client.get(url).content.decode()


def test_the_menu_counts_up_to_its_cap_then_says_more(
    client, trial, investigator, record, monkeypatch
):
    """The badge is on every page: it counts a bounded number of records, so a
    trial of a million unsigned records costs what one of a hundred does."""
    from screening.reports import worklists

    monkeypatch.setattr(worklists, "QUEUE_COUNT_CAP", 2)
    for n in range(3):
        record(eligible_candidate(screening_number=f"36-00{n}"))
    client.force_login(investigator)
    url = reverse("screening:log", args=[trial.slug])
    page = client.get(url).content.decode()
    assert 'id="sign-queue-count" aria-hidden="true">2+<' in page
    assert "More than 2 decisions waiting" in page
    with translation.override("zh-hans"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "超过 2 条待签字" in page
    # At the cap exactly, the count is exact.
    monkeypatch.setattr(worklists, "QUEUE_COUNT_CAP", 3)
    page = client.get(url).content.decode()
    assert 'id="sign-queue-count" aria-hidden="true">3<' in page
    assert "3 decisions waiting" in page and "More than" not in page


def test_the_window_counts_from_the_first_screening_not_the_correction(
    client, trial, coordinator, record
):
    """A candidate re-screened and still incomplete keeps the time of their
    number's first record: the window does not start again with a correction."""
    first = record(eligible_candidate(screening_number="37-001", he_grade=None))
    correction = record(
        eligible_candidate(screening_number="37-001", he_grade=None),
        supersedes=first,
        supersede_reason="Values rechecked; HE grade still to assess",
    )
    client.force_login(coordinator)
    rows = client.get(reverse("screening:worklist", args=[trial.slug])).context["rows"]
    assert [r.pk for r in rows] == [correction.pk]
    assert rows[0].first_screened == first.recorded_at
    assert rows[0].first_screened < correction.recorded_at


def test_the_worklist_keeps_those_first_screened_longest_ago_up_to_its_limit(
    client, trial, coordinator, record, monkeypatch
):
    """Over the limit, the page keeps the candidates whose number was first
    screened longest ago and is still incomplete now: a correction keeps its
    number's place, a number completed since leaves it to the next one."""
    from screening.reports import worklists

    monkeypatch.setattr(worklists, "LIMIT", 2)
    oldest = record(eligible_candidate(screening_number="38-001", he_grade=None))
    completed = record(eligible_candidate(screening_number="38-002", he_grade=None))
    record(eligible_candidate(screening_number="38-003"))
    record(eligible_candidate(screening_number="38-004", he_grade=None))
    record(eligible_candidate(screening_number="38-005", he_grade=None))
    record(
        eligible_candidate(screening_number="38-002"),
        supersedes=completed,
        supersede_reason="HE grade assessed",
    )
    still = record(
        eligible_candidate(screening_number="38-001", he_grade=None),
        supersedes=oldest,
        supersede_reason="Values rechecked; HE grade still to assess",
    )
    client.force_login(coordinator)
    rows = client.get(reverse("screening:worklist", args=[trial.slug])).context["rows"]
    assert [(r.screening_number, r.pk) for r in rows][0] == ("38-001", still.pk)
    assert [r.screening_number for r in rows] == ["38-001", "38-004"]
    assert rows[0].first_screened == oldest.recorded_at
