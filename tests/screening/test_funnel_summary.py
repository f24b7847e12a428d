"""The funnel's summary: kept with each decision and signature, equal to a recount."""

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction

from accounts import roles
from accounts.models import Membership
from accounts.scope import Scope, scope_for
from screening.audit import decision_content, verify_chains
from screening.decisions.services import signature_record
from screening.ledger.verification import verify_ledger
from screening.models import (
    CriterionOutcome,
    EligibilityDecision,
    FunnelBlocking,
    FunnelCount,
    Signature,
)
from screening.reports.selectors import screening_funnel
from screening.reports.summary import funnel_recount, funnel_stored
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate
from trials.models import Site

EVERYTHING = Scope(user_id=None, everything=True)


def _funnel_by_recount(trial, *, sites=None, date_from=None, date_to=None):
    """The funnel computed straight from the records, as the page computed it."""
    counts, blocking = funnel_recount(trial=trial)

    def kept(site, day):
        return (
            (sites is None or site in sites)
            and (date_from is None or day >= date_from)
            and (date_to is None or day <= date_to)
        )

    outcomes = {}
    for (site, day, outcome), n in counts.items():
        if kept(site, day):
            outcomes[outcome] = outcomes.get(outcome, 0) + n
    reasons = {}
    for (site, day, code, _kind, _position), n in blocking.items():
        if kept(site, day):
            reasons[code] = reasons.get(code, 0) + n
    return outcomes, reasons


def _as_dicts(funnel):
    outcomes = {
        key: n
        for key, n in (
            ("ELIGIBLE", funnel.eligible),
            ("INELIGIBLE", funnel.ineligible),
            ("INCOMPLETE", funnel.incomplete),
        )
        if n
    }
    return outcomes, {code: n for code, _kind, n in funnel.reasons}


def _disagree(decision, signer, override):
    return signature_record(
        decision=decision,
        signer=signer,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.DISAGREE,
        reason="Seen in clinic",
        override_outcome=override,
    )


@pytest.fixture
def two_sites(trial):
    first = trial.sites.order_by("code").first() or Site.objects.create(
        trial=trial, code="01", name="First site"
    )
    second = Site.objects.create(trial=trial, code="02", name="Second site")
    return first, second


@pytest.mark.criterion("I4", "E1")
def test_summary_equals_a_recount_after_a_mixed_history(
    trial, record, investigator, two_sites
):
    first, second = two_sites
    mistyped = eligible_candidate(inr="3.5", pta_percent="10")  # MELD too high
    bleeding = {"severe_active_bleeding": True}
    made = {}
    for site, prefix in ((first, "01"), (second, "02")):
        made[prefix, "eligible"] = record(
            eligible_candidate(screening_number=f"{prefix}-001"), site=site
        )
        made[prefix, "wrong"] = record(
            {**mistyped, "screening_number": f"{prefix}-002"}, site=site
        )
        made[prefix, "old"] = record(
            eligible_candidate(
                screening_number=f"{prefix}-003",
                screening_date="2025-01-10",
                **bleeding,
            ),
            site=site,
        )
        made[prefix, "missing"] = record(
            eligible_candidate(screening_number=f"{prefix}-004", he_grade=None),
            site=site,
        )
    # A correction of an ineligible record, and one of a record an investigator
    # had overruled; disagreements both ways and a confirmation.
    record(
        eligible_candidate(screening_number="01-002"),
        supersedes=made["01", "wrong"],
        supersede_reason="INR was mistyped",
    )
    _disagree(made["02", "wrong"], investigator, "ELIGIBLE")
    _disagree(made["01", "eligible"], investigator, "INELIGIBLE")
    record(
        {**mistyped, "screening_number": "01-001"},
        supersedes=made["01", "eligible"],
        supersede_reason="INR repeated",
    )
    _disagree(made["02", "eligible"], investigator, "INELIGIBLE")
    _disagree(made["02", "missing"], investigator, "INELIGIBLE")
    signature_record(
        decision=made["01", "old"],
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )

    assert funnel_stored(trial=trial) == funnel_recount(trial=trial)
    everything = screening_funnel(
        scope=EVERYTHING, trial=trial, date_from=None, date_to=None
    )
    assert _as_dicts(everything) == _funnel_by_recount(trial)
    assert _as_dicts(everything) == (
        {"ELIGIBLE": 2, "INELIGIBLE": 5, "INCOMPLETE": 1},
        {"I4": 1, "E1": 2},
    )
    recent = screening_funnel(
        scope=EVERYTHING, trial=trial, date_from=date(2026, 1, 1), date_to=None
    )
    assert _as_dicts(recent) == _funnel_by_recount(trial, date_from=date(2026, 1, 1))
    assert recent.screened == 6

    # A monitor of the second site sees its counts only.
    monitor = UserFactory(username="monitor-02")
    monitor.groups.add(Group.objects.get(name=roles.MONITOR))
    Membership.objects.create(
        user=monitor, trial=trial, site=second, role=roles.MONITOR
    )
    own = screening_funnel(
        scope=scope_for(monitor), trial=trial, date_from=None, date_to=None
    )
    assert _as_dicts(own) == _funnel_by_recount(trial, sites={second.pk})
    assert own.screened == 4

    # The rebuild gives the same rows back.
    FunnelCount.objects.filter(trial=trial).update(candidates=99)
    FunnelBlocking.objects.filter(trial=trial).delete()
    out = io.StringIO()
    call_command("funnel_rebuild", "--trial", trial.slug, stdout=out)
    assert "funnel rebuilt" in out.getvalue()
    assert funnel_stored(trial=trial) == funnel_recount(trial=trial)


def test_an_enrolment_or_confirmation_leaves_the_counts(trial, record, investigator):
    decision = record(eligible_candidate(screening_number="30-001"))
    before = funnel_stored(trial=trial)
    signature_record(
        decision=decision,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    assert funnel_stored(trial=trial) == before
    from screening.decisions.enrolment import enrolment_record

    enrolment_record(
        decision=decision,
        user=investigator,
        enrolled_on=date(2026, 6, 2),
        randomisation_number="R-001",
    )
    assert funnel_stored(trial=trial) == before == funnel_recount(trial=trial)


def test_the_rebuild_command_names_an_unknown_trial(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--trial"):
        call_command("funnel_rebuild", "--trial", "no-such-trial")


class _RolledBack(Exception):
    pass


def _records(trial):
    """What each record holds, but for when it was written (and so its hashes)."""
    rows = []
    decisions = EligibilityDecision.unscoped.filter(trial=trial).order_by("sequence")
    for decision in decisions:
        outcomes = list(CriterionOutcome.objects.filter(decision=decision))
        content = decision_content(decision, outcomes)
        for moment in ("recorded_at", "previous_hash"):
            content.pop(moment)
        rows.append(content)
    return rows


def test_a_bulk_load_records_what_one_at_a_time_would(trial, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a demo passphrase for tests 7")
    call_command("demo_data", stdout=io.StringIO())  # the users, before either
    count = "300"
    try:
        with transaction.atomic():
            call_command("demo_data", "--screenings", count, stdout=io.StringIO())
            one_at_a_time = _records(trial)
            raise _RolledBack
    except _RolledBack:
        pass
    assert not EligibilityDecision.unscoped.exists()
    call_command(
        "demo_data",
        "--screenings",
        count,
        "--bulk",
        "--batch",
        "120",
        stdout=io.StringIO(),
    )
    assert _records(trial) == one_at_a_time
    assert len(one_at_a_time) == 300
    decisions, _signatures, problem = verify_chains()
    assert problem is None and decisions == 300
    report = verify_ledger()
    assert report.problem is None
    assert report.entries >= 300
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert funnel_stored(trial=trial) == funnel_recount(trial=trial)
    assert sum(funnel_stored(trial=trial)[0].values()) == 300
    assert connection.vendor in ("sqlite", "postgresql")


def test_counts_move_in_batches_of_any_size_and_never_below_zero(trial):
    """A bulk load's batch can hold thousands of keys (more than one upsert
    statement's rows); a candidate taken out that the counts do not hold is
    refused, not passed over."""
    from django.db import IntegrityError

    from screening.reports.summary import _UPSERT_ROWS, FunnelDeltas

    site = trial.sites.get()
    days = [date(2020, 1, 1) + timedelta(days=n) for n in range(_UPSERT_ROWS + 250)]
    for _round in range(2):
        deltas = FunnelDeltas(trial.pk)
        for day in days:
            deltas.candidate(
                site_id=site.pk,
                screening_date=day,
                outcome="INELIGIBLE",
                blocking=[("I1", "INCLUSION", 1), ("E4", "EXCLUSION", 10)],
            )
        deltas.apply()
    assert FunnelCount.objects.filter(trial=trial).count() == len(days)
    assert set(FunnelCount.objects.values_list("candidates", flat=True)) == {2}
    assert FunnelBlocking.objects.filter(trial=trial).count() == 2 * len(days)
    assert set(FunnelBlocking.objects.values_list("candidates", flat=True)) == {2}

    # A candidate without a site counts once per key too (site 0 in the key).
    for _round in range(2):
        deltas = FunnelDeltas(trial.pk)
        deltas.candidate(
            site_id=None, screening_date=days[0], outcome="ELIGIBLE", blocking=[]
        )
        deltas.apply()
    assert FunnelCount.objects.get(site=None, outcome="ELIGIBLE").candidates == 2

    taken = FunnelDeltas(trial.pk)
    taken.candidate(
        site_id=site.pk,
        screening_date=date(2019, 1, 1),
        outcome="ELIGIBLE",
        blocking=[],
        sign=-1,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        taken.apply()
