"""Every route, every role: the expected status, from one table.

The test walks the whole URL configuration. A route without an entry here fails,
so a new page cannot ship without deciding who may see it.
"""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import roles
from accounts.models import AccessEvent, Membership
from screening.api.tokens import api_token_create
from screening.decisions.services import signature_record
from screening.models import (
    BackgroundJob,
    PrescreenUpload,
    ScreeningLogExport,
    Signature,
)
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate

OK = HTTPStatus.OK
FOUND = HTTPStatus.FOUND  # for anonymous users: the login page
FORBIDDEN = HTTPStatus.FORBIDDEN
NOT_ALLOWED = HTTPStatus.METHOD_NOT_ALLOWED

ROLES = [
    "anonymous",
    "norole",
    "coordinator",
    "investigator",
    "monitor",
    "trial_admin",
    "superuser",
]


def row(anonymous, norole, coordinator, investigator, monitor, trial_admin, superuser):
    return dict(
        zip(
            ROLES,
            (
                anonymous,
                norole,
                coordinator,
                investigator,
                monitor,
                trial_admin,
                superuser,
            ),
            strict=True,
        )
    )


F, Y, X, N, NF = FOUND, OK, FORBIDDEN, NOT_ALLOWED, HTTPStatus.NOT_FOUND
U = HTTPStatus.UNAUTHORIZED

# Statuses of a GET. Anonymous users are sent to the login page (302).
TABLE = {
    "home": row(F, X, F, F, F, F, F),
    "login": row(Y, Y, Y, Y, Y, Y, Y),
    "logout": row(F, N, N, N, N, N, N),
    "access_log": row(F, X, X, X, Y, X, Y),
    "password_change": row(F, Y, Y, Y, Y, Y, Y),
    "password_change_done": row(F, Y, Y, Y, Y, Y, Y),
    "set_language": row(F, F, F, F, F, F, F),
    # A trial's pages: a non-member gets 404; a member whose role there does
    # not allow the page gets 403.
    "screening:screen": row(F, NF, Y, Y, X, X, Y),
    "screening:log": row(F, NF, Y, Y, Y, X, Y),
    "screening:worklist": row(F, NF, Y, Y, X, X, Y),
    "screening:sign_queue": row(F, NF, X, Y, X, X, Y),
    "screening:export": row(F, NF, Y, Y, Y, X, Y),
    "screening:export_screening_log": row(F, NF, Y, Y, Y, X, Y),
    "screening:funnel": row(F, NF, Y, Y, Y, X, Y),
    "screening:prescreen": row(F, NF, Y, Y, X, X, Y),
    "screening:prescreen_template": row(F, NF, Y, Y, X, X, Y),
    "screening:audit_log": row(F, NF, X, X, Y, X, Y),
    "screening:audit_review": row(F, NF, X, X, Y, X, Y),
    # Criteria versions: monitors read, trial admins also act.
    "screening:versions": row(F, NF, X, X, Y, Y, Y),
    "screening:version_impact": row(F, NF, X, X, Y, Y, Y),
    "screening:version_draft": row(F, N, N, N, N, N, N),  # POST only
    "screening:version_activate": row(F, NF, X, X, X, Y, Y),
    # Records: visible to members whose role reads records (404 otherwise).
    "screening:candidate": row(F, NF, Y, Y, Y, NF, Y),
    "screening:prescreen_results": row(F, NF, Y, Y, X, NF, Y),
    "screening:prescreen_results_csv": row(F, NF, Y, Y, X, NF, Y),
    "screening:prescreen_prefill": row(F, N, N, N, N, N, N),  # POST only
    "screening:prescreen_purge": row(F, N, N, N, N, N, N),  # POST only
    # A large upload's background job: who may upload sees and retries it.
    "screening:prescreen_job": row(F, NF, Y, Y, X, NF, Y),
    "screening:prescreen_job_status": row(F, NF, Y, Y, X, NF, Y),
    "screening:prescreen_job_retry": row(F, N, N, N, N, N, N),  # POST only
    "screening:decision": row(F, NF, Y, Y, Y, NF, Y),
    "screening:decision_pdf": row(F, NF, Y, Y, Y, NF, Y),
    "screening:correct": row(F, NF, Y, Y, X, NF, Y),
    "screening:sign": row(F, NF, X, Y, X, NF, Y),
    "screening:enrol": row(F, N, N, N, N, N, N),  # POST only
    # The lab inbox: who may screen imports, reviews and pre-fills from it.
    "screening:labs_inbox": row(F, NF, Y, Y, X, X, Y),
    "screening:labs_import": row(F, NF, Y, Y, X, X, Y),
    "screening:labs_prefill": row(F, N, N, N, N, N, N),  # POST only
    "screening:labs_approve": row(F, N, N, N, N, N, N),  # POST only
    "screening:labs_reject": row(F, N, N, N, N, N, N),  # POST only
    # A large lab import's background job: who may import sees and retries it.
    "screening:labs_job": row(F, NF, Y, Y, X, NF, Y),
    "screening:labs_job_status": row(F, NF, Y, Y, X, NF, Y),
    "screening:labs_job_retry": row(F, N, N, N, N, N, N),  # POST only
    # The user's own API tokens: any signed-in user; revoking is a POST.
    "api_tokens": row(F, Y, Y, Y, Y, Y, Y),
    "api_token_revoke": row(F, N, N, N, N, N, N),
    # The JSON API answers only to a bearer token (tests/api): a session, even a
    # superuser's, is not one (401), so a page's cookie cannot drive the API.
    # The schema and its docs page are public; evaluating is a POST.
    "api:openapi-json": row(Y, Y, Y, Y, Y, Y, Y),
    "api:openapi-view": row(Y, Y, Y, Y, Y, Y, Y),
    "api:api-root": row(NF, NF, NF, NF, NF, NF, NF),
    "api_not_found": row(NF, NF, NF, NF, NF, NF, NF),
    "api:evaluate": row(N, N, N, N, N, N, N),
    "api:decisions": row(U, U, U, U, U, U, U),
    "api:decision": row(U, U, U, U, U, U, U),
    "api:criteria": row(U, U, U, U, U, U, U),
    "api:labs": row(N, N, N, N, N, N, N),  # POST only
}
# Routes of one trial, and those of one record of it (at site 01).
TRIAL_ROUTES = {route for route in TABLE if route.startswith("screening:")}
RECORD_ROUTES = {
    "screening:candidate",
    "screening:prescreen_results",
    "screening:prescreen_results_csv",
    "screening:prescreen_job",
    "screening:prescreen_job_status",
    "screening:labs_job",
    "screening:labs_job_status",
    "screening:decision",
    "screening:decision_pdf",
    "screening:correct",
    "screening:sign",
}

# Admin pages: staff only; a non-staff user (or anonymous) goes to the admin login.
ADMIN_GLOBAL = {
    "admin:index": row(F, F, F, F, F, Y, Y),
    "admin:login": row(Y, Y, Y, Y, Y, F, F),
    "admin:logout": row(F, F, F, F, F, N, N),
    "admin:password_change": row(F, F, F, F, F, Y, Y),
    "admin:password_change_done": row(F, F, F, F, F, Y, Y),
    "admin:autocomplete": row(F, F, F, F, F, X, X),
    "admin:jsi18n": row(F, F, F, F, F, Y, Y),
    "admin:view_on_site": row(F, F, F, F, F, F, F),
    "admin:catch_all": row(F, F, F, F, F, NF, NF),
    "admin:app_list": row(F, F, F, F, F, Y, Y),
}
# Per admin model and action: (trial admin, superuser). Non-staff: admin login.
TRIALS_MODEL = {
    "changelist": (Y, Y),
    "add": (Y, Y),
    "change": (Y, Y),
    "history": (Y, Y),
    "simple_history": (Y, Y),
    "redirect": (F, F),
}
AUDIT_MODEL = {  # read-only admin: never add, change or delete
    "changelist": (X, Y),
    "add": (X, X),
    "delete": (X, X),
    "change": (X, Y),
    "history": (X, Y),
    "redirect": (F, F),
}
ADMIN_MODELS = {
    "trials_trial": {**TRIALS_MODEL, "delete": (X, Y)},
    "trials_criterion": {**TRIALS_MODEL, "delete": (X, X)},  # deactivate instead
    "trials_condition": {**TRIALS_MODEL, "delete": (X, X)},  # on its criterion
    # Versions: drafts are copies (no add page); a signed one is read-only.
    "trials_criteriaversion": {**TRIALS_MODEL, "add": (X, X), "delete": (X, X)},
    "trials_impactreport": {
        **AUDIT_MODEL,
        "changelist": (Y, Y),
        "change": (Y, Y),
        "history": (Y, Y),
    },
    "trials_versionactivation": {
        **AUDIT_MODEL,
        "changelist": (Y, Y),
        "change": (Y, Y),
        "history": (Y, Y),
    },
    # Scoped querysets: a record outside the user's trials "does not exist".
    "screening_eligibilitydecision": {**AUDIT_MODEL, "history": (F, Y)},
    "screening_signature": {**AUDIT_MODEL, "history": (F, Y)},
    "screening_screeninglogexport": AUDIT_MODEL,
    "screening_prescreenupload": {**AUDIT_MODEL, "history": (F, Y)},
    "labs_labimport": {**AUDIT_MODEL, "history": (F, Y)},
    "labs_labvalue": {**AUDIT_MODEL, "history": (F, Y)},
    "labs_labreview": {**AUDIT_MODEL, "history": (F, Y)},
    "labs_labsource": {**AUDIT_MODEL, "history": (F, Y)},
    # Scoped to the reader's trials: an event outside them "does not exist".
    "accounts_accessevent": {**AUDIT_MODEL, "history": (F, Y)},
    "ledger_auditreview": AUDIT_MODEL,
    "ledger_signaturerefusal": {**AUDIT_MODEL, "history": (F, Y)},
    "accounts_membership": {
        "changelist": (X, Y),
        "add": (X, Y),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "redirect": (F, F),
    },
    "trials_site": {
        "changelist": (X, Y),
        "add": (X, Y),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "simple_history": (X, Y),
        "redirect": (F, F),
    },
    "auth_user": {
        "changelist": (X, Y),
        "add": (X, Y),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "password_change": (X, Y),
        "redirect": (F, F),
    },
    "auth_group": {
        "changelist": (X, Y),
        "add": (X, Y),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "redirect": (F, F),
    },
    # django-axes keeps its own read-only records of login attempts.
    "axes_accessattempt": {
        "changelist": (X, Y),
        "add": (X, X),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "redirect": (F, F),
    },
    "axes_accesslog": {
        "changelist": (X, Y),
        "add": (X, X),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "redirect": (F, F),
    },
    "axes_accessfailurelog": {
        "changelist": (X, Y),
        "add": (X, X),
        "change": (X, Y),
        "delete": (X, Y),
        "history": (X, Y),
        "redirect": (F, F),
    },
}
_ADMIN_ACTION = re.compile(
    r"^admin:(?P<model>[a-z]+_[a-z]+)_(?P<action>changelist|add|change|delete"
    r"|history|simple_history|password_change)$"
)


def walk(patterns, namespace="", prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield namespace, prefix, pattern


def all_routes() -> list[tuple[str, URLPattern]]:
    routes = []
    for namespace, prefix, pattern in walk(get_resolver().url_patterns):
        if pattern.name is None and prefix == "admin/":
            routes.append(("admin:catch_all", pattern))
        elif pattern.name is None:
            # Admin's object-id shortcut that redirects to the change page.
            app_label, model = prefix.removeprefix("admin/").split("/")[:2]
            routes.append((f"{namespace}{app_label}_{model}_redirect", pattern))
        else:
            routes.append((f"{namespace}{pattern.name}", pattern))
    return routes


def expected(route: str, role: str) -> HTTPStatus:
    if route in TABLE:
        return TABLE[route][role]
    if route in ADMIN_GLOBAL:
        return ADMIN_GLOBAL[route][role]
    model, action = _admin_model_action(route)
    staff_status = ADMIN_MODELS[model][action]
    if role in ("trial_admin", "superuser"):
        return staff_status[0 if role == "trial_admin" else 1]
    return FOUND


def _admin_model_action(route: str) -> tuple[str, str]:
    if route.endswith("_redirect"):
        return route.removeprefix("admin:").removesuffix("_redirect"), "redirect"
    match = _ADMIN_ACTION.match(route)
    if match is None:
        raise KeyError(route)
    return match["model"], match["action"]


def test_every_route_has_an_entry_in_the_table():
    missing = []
    for route, _pattern in all_routes():
        try:
            expected(route, "superuser")
        except KeyError:
            missing.append(route)
    assert missing == [], f"routes without an expected status per role: {missing}"


@pytest.fixture
def world(trial, coordinator, investigator, monitor, trial_admin, superuser):
    from screening.decisions.services import decision_record

    norole = UserFactory(username="norole")
    signed = decision_record(
        trial=trial,
        data=eligible_candidate(screening_number="09-001"),
        user=coordinator,
    )
    signature_record(
        decision=signed,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    unsigned = decision_record(
        trial=trial,
        data=eligible_candidate(screening_number="09-002"),
        user=coordinator,
    )
    client = Client()
    client.post(reverse("login"), {"username": "ghost", "password": "wrong"})
    client.post(reverse("login"), {"username": "norole", "password": TEST_PASSWORD})
    upload = PrescreenUpload.unscoped.create(
        trial=trial,
        site=signed.site,
        user=coordinator,
        uploaded_at=signed.recorded_at,
        file_name="x.json",
        file_format="json",
        content=b'[{"screening_number": "09-003"}]',
        file_sha256="0" * 64,
        row_count=1,
        error_count=0,
    )
    job = BackgroundJob.unscoped.create(
        kind=BackgroundJob.Kind.PRESCREEN,
        trial=trial,
        site=signed.site,
        user=coordinator,
        created_at=signed.recorded_at,
        heartbeat_at=timezone.now(),
        total=3000,
        file_name="x.csv",
        file_format="csv",
        file_sha256="0" * 64,
    )
    export = ScreeningLogExport.objects.create(
        trial=trial, user=monitor, exported_at=signed.recorded_at, export_format="csv"
    )
    from trials.models import VersionActivation
    from trials.services import version_draft_create

    draft = version_draft_create(trial=trial, user=trial_admin, label="Amendment 1")
    from screening.versions.services import impact_report_record

    report = impact_report_record(version=draft, user=trial_admin)
    # A signed activation of a third version (the draft above stays unsigned).
    third = version_draft_create(trial=trial, user=trial_admin, label="Amendment 2")
    activation = VersionActivation.objects.create(
        version=third,
        impact_report=report,
        impact_sha256=report.sha256,
        signer=trial_admin,
        signer_full_name="Trial Admin",
        signed_at=third.created_at,
        effective_from=third.created_at + timedelta(days=30),
        statement="I approve criteria version 3 for screening from later",
    )
    from screening.ledger.models import AuditReview, SignatureRefusal

    review = AuditReview.objects.create(
        trial=trial,
        period_start=signed.screening_date,
        period_end=signed.screening_date,
        content_hash="0" * 64,
        signer=monitor,
        signer_full_name="Monitor",
        meaning="I reviewed the audit trail for the day",
        signed_at=signed.recorded_at,
    )
    refusal = SignatureRefusal.objects.create(
        trial=trial, decision=unsigned, user=coordinator, refused_at=timezone.now()
    )
    criterion = trial.criteria.get(code="I6", version__number=1)
    condition = criterion.conditions.first()
    lab_import, lab_review, lab_source = _lab_rows(trial, coordinator, signed)
    users = {
        "norole": norole,
        "coordinator": coordinator,
        "investigator": investigator,
        "monitor": monitor,
        "trial_admin": trial_admin,
        "superuser": superuser,
    }
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    objects = {
        "trials_trial": trial,
        "trials_criterion": criterion,
        "trials_condition": condition,
        "trials_criteriaversion": trial.versions.get(number=1),
        "trials_impactreport": report,
        "trials_versionactivation": activation,
        "screening_eligibilitydecision": signed,
        "screening_signature": signed.signature,
        "screening_screeninglogexport": export,
        "screening_prescreenupload": upload,
        "labs_labimport": lab_import,
        "labs_labvalue": lab_review.value,
        "labs_labreview": lab_review,
        "labs_labsource": lab_source,
        "accounts_accessevent": AccessEvent.objects.first(),
        "ledger_auditreview": review,
        "ledger_signaturerefusal": refusal,
        "accounts_membership": Membership.objects.first(),
        "trials_site": trial.sites.first(),
        "auth_user": coordinator,
        "auth_group": Group.objects.first(),
        "axes_accessattempt": AccessAttempt.objects.first()
        or AccessFailureLog.objects.first(),
        "axes_accesslog": AccessLog.objects.first(),
        "axes_accessfailurelog": AccessFailureLog.objects.first(),
    }
    return {
        "users": users,
        "objects": objects,
        "trial": trial,
        "signed": signed,
        "unsigned": unsigned,
        "api_token": api_token_create(user=coordinator, name="table")[0],
        "upload": upload,
        "job": job,
        "lab_job": BackgroundJob.unscoped.create(
            kind=BackgroundJob.Kind.LAB_IMPORT,
            trial=trial,
            site=signed.site,
            user=coordinator,
            created_at=signed.recorded_at,
            heartbeat_at=timezone.now(),
            total=4,
            file_name="bundle.json",
            file_format="FHIR",
            file_sha256="0" * 64,
        ),
    }


def _lab_rows(trial, coordinator, decision):
    """A lab import of the fixture bundle, one value approved, a decision's source."""
    from screening.labs.models import LabImport, LabSource
    from screening.labs.services import lab_import, lab_value_approve
    from tests.labs.conftest import fixture_bytes

    imported = lab_import(
        trial=trial,
        user=coordinator,
        content=fixture_bytes("bundle.json"),
        channel=LabImport.Channel.PAGE,
    )
    review = lab_value_approve(value=imported.values.first(), user=coordinator)
    source = LabSource.objects.create(
        decision=decision,
        input_key="tbil",
        source=LabSource.Source.TYPED,
        content={"not_used": [review.value_id]},
        decision_hash=decision.content_hash,
        content_hash="0" * 64,
    )
    return imported, review, source


def url_for(route: str, world) -> str:
    trial, unsigned = world["trial"], world["unsigned"]
    kwargs = {
        "screening:screen": {"trial_slug": trial.slug},
        "screening:log": {"trial_slug": trial.slug},
        "screening:worklist": {"trial_slug": trial.slug},
        "screening:sign_queue": {"trial_slug": trial.slug},
        "screening:export": {"trial_slug": trial.slug},
        "screening:export_screening_log": {"trial_slug": trial.slug},
        "screening:funnel": {"trial_slug": trial.slug},
        "screening:prescreen": {"trial_slug": trial.slug},
        "screening:prescreen_template": {"trial_slug": trial.slug},
        "screening:audit_log": {"trial_slug": trial.slug, "kind": "criteria"},
        "screening:audit_review": {"trial_slug": trial.slug},
        "screening:versions": {"trial_slug": trial.slug},
        "screening:version_draft": {"trial_slug": trial.slug},
        "screening:version_impact": {"trial_slug": trial.slug, "number": 2},
        "screening:version_activate": {"trial_slug": trial.slug, "number": 2},
        "screening:candidate": {"pk": unsigned.pk},
        "screening:prescreen_results": {"pk": world["upload"].pk},
        "screening:prescreen_results_csv": {"pk": world["upload"].pk},
        "screening:prescreen_prefill": {"pk": world["upload"].pk, "row": 1},
        "screening:prescreen_purge": {"pk": world["upload"].pk},
        "screening:prescreen_job": {"pk": world["job"].pk},
        "screening:prescreen_job_status": {"pk": world["job"].pk},
        "screening:prescreen_job_retry": {"pk": world["job"].pk},
        "screening:decision": {"pk": unsigned.pk},
        "screening:decision_pdf": {"pk": unsigned.pk},
        "screening:correct": {"pk": unsigned.pk},
        "screening:sign": {"pk": unsigned.pk},
        "screening:enrol": {"pk": unsigned.pk},
        "screening:labs_inbox": {"trial_slug": trial.slug},
        "screening:labs_import": {"trial_slug": trial.slug},
        "screening:labs_prefill": {"trial_slug": trial.slug},
        "screening:labs_approve": {"pk": 1},
        "screening:labs_reject": {"pk": 1},
        "screening:labs_job": {"pk": world["lab_job"].pk},
        "screening:labs_job_status": {"pk": world["lab_job"].pk},
        "screening:labs_job_retry": {"pk": world["lab_job"].pk},
        "api:labs": {"slug": trial.slug},
        "api_token_revoke": {"pk": world["api_token"].pk},
        "api:evaluate": {"slug": trial.slug},
        "api:decisions": {"slug": trial.slug},
        "api:decision": {"id": unsigned.pk},
        "api:criteria": {"slug": trial.slug},
    }
    if route in kwargs:
        return reverse(route, kwargs=kwargs[route])
    if route == "admin:view_on_site":
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(world["signed"])
        return reverse(route, args=[ct.pk, world["signed"].pk])
    if route == "admin:app_list":
        return reverse(route, kwargs={"app_label": "trials"})
    if route == "api_not_found":
        return "/api/v1/no-such-operation"
    if route == "admin:catch_all":
        return reverse("admin:index") + "no-such-page/"
    if route in TABLE or route in ADMIN_GLOBAL:
        return reverse(route)
    model, action = _admin_model_action(route)
    obj = world["objects"][model]
    if action in ("changelist", "add"):
        return reverse(f"admin:{model}_{action}")
    if action == "redirect":
        return reverse(f"admin:{model}_changelist") + f"{obj.pk}/"
    if action == "password_change":
        return reverse(f"admin:{model}_password_change", args=[obj.pk])
    if action == "simple_history":
        history_id = obj.history.latest().history_id
        return reverse(f"admin:{model}_simple_history", args=[obj.pk, history_id])
    return reverse(f"admin:{model}_{action}", args=[obj.pk])


@pytest.mark.parametrize("role", ROLES)
def test_every_route_gives_the_expected_status_for_the_role(role, world):
    client = Client()
    if role != "anonymous":
        client.force_login(world["users"][role])
    wrong = []
    for route, _pattern in all_routes():
        response = client.get(url_for(route, world))
        want = expected(route, role)
        if response.status_code != want:
            wrong.append((route, response.status_code, int(want)))
        if role == "anonymous" and route in TABLE and want == FOUND:
            if route != "set_language":
                assert response["Location"].startswith(reverse("login")), route
    assert wrong == [], f"{role}: (route, got, expected) {wrong}"


# --- The membership dimension ----------------------------------------------------

OUTSIDE = ["other_trial", "other_site"]
MEMBER_ROLES = {
    "coordinator": roles.COORDINATOR,
    "investigator": roles.INVESTIGATOR,
    "monitor": roles.MONITOR,
}


# An amendment's impact names candidates of every site: a grant of all sites.
TRIAL_WIDE_ROUTES = {"screening:version_impact", "screening:version_activate"}


def expected_outside(route: str, role: str, where: str) -> HTTPStatus:
    """A member of another trial, or of this trial at another site only."""
    member = expected(route, role)
    if route in TRIAL_ROUTES and member != NOT_ALLOWED:
        if where == "other_trial" or route in RECORD_ROUTES:
            return NF
        if route in TRIAL_WIDE_ROUTES and member == Y:
            return X
    return member


@pytest.fixture
def outsiders(world):
    from trials.models import Site, Trial

    trial = world["trial"]
    other = Trial.objects.create(
        slug="other-trial",
        title="Another liver trial",
        registry_id="NCT00000000",
        sponsor="Someone else",
        site="Elsewhere",
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    second_site = Site.objects.create(trial=trial, code="02", name="Second site")
    users = {}
    for role, role_name in MEMBER_ROLES.items():
        for where in OUTSIDE:
            user = UserFactory(username=f"{role}-{where}")
            user.groups.add(Group.objects.get(name=role_name))
            if where == "other_trial":
                Membership.objects.create(user=user, trial=other, role=role_name)
            else:
                Membership.objects.create(
                    user=user, trial=trial, site=second_site, role=role_name
                )
            users[(role, where)] = user
    return users


def test_the_records_are_at_the_first_site(world):
    assert world["signed"].site.code == "01"
    assert world["upload"].site_id == world["signed"].site_id


@pytest.mark.parametrize("where", OUTSIDE)
@pytest.mark.parametrize("role", list(MEMBER_ROLES))
def test_outside_its_memberships_a_user_gets_404(role, where, world, outsiders):
    client = Client()
    client.force_login(outsiders[(role, where)])
    wrong = []
    for route, _pattern in all_routes():
        response = client.get(url_for(route, world))
        want = expected_outside(route, role, where)
        if response.status_code != want:
            wrong.append((route, response.status_code, int(want)))
    assert wrong == [], f"{role} of {where}: (route, got, expected) {wrong}"
