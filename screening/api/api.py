"""The JSON API, version 1: thin operations over the same pipeline and services.

Each operation checks the token user's membership (outside it: 404; a role
that does not allow the operation: 403), then calls what the pages call:
``assessment.assess`` to evaluate, ``decisions.services.decision_record`` to
record, the decision selectors to read. Refusals are problem details.
"""

import json
from datetime import datetime
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from ninja import NinjaAPI, Path, Query, Schema, Status, Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from accounts.scope import PRESCREEN, SCREEN, VIEW, scope_for
from screening.api import schemas
from screening.api.auth import TokenAuth, TokenThrottle
from screening.api.problems import (
    PROBLEM_TYPE,
    problem_body,
    problem_for,
    problem_response,
)
from screening.assessment import active_criteria, assess, computed_values, site_zone
from screening.decisions import selectors, services
from screening.domain import contract
from screening.models import EligibilityDecision
from trials.models import Site, Trial

# PostgreSQL's bigint: a larger id is no row, not a database error.
MAX_ID = 2**63 - 1
REFUSALS = (401, 403, 404, 409, 422, 429)
# A body that is not JSON at all is a 400.
BODY_REFUSALS = (400, *REFUSALS)


class ExactNumbers(Parser):
    """A body's numbers as written: one a float would round is refused by name."""

    def parse_body(self, request: HttpRequest):
        return json.loads(request.body, parse_float=contract.json_float)


class ScreeningApi(NinjaAPI):
    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        # Patient data: no browser or proxy keeps a response.
        patch_cache_control(response, no_store=True, private=True)
        return response

    def on_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        found = problem_for(exc)
        if found is None:
            raise exc
        response = problem_response(*found)
        patch_cache_control(response, no_store=True, private=True)
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(
            path_prefix=path_prefix, path_params=path_params
        )
        return _problem_media_types(schema)


def _problem_media_types(schema: OpenAPISchema) -> OpenAPISchema:
    """Error responses are documented as application/problem+json."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_TYPE] = content.pop("application/json")
    return schema


api = ScreeningApi(
    title="Trial screening API",
    version="1",
    description=(
        "Evaluate and record eligibility screenings with a personal API token "
        "(`Authorization: Bearer msc_...`, created at /api/tokens/). Each "
        "request acts as the token's user, within that user's trial memberships. "
        "Errors are RFC 9457 problem details naming the candidate's field paths."
    ),
    urls_namespace="api",
    parser=ExactNumbers(),
    auth=TokenAuth(),
    throttle=[TokenThrottle()],
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _errors(*statuses: int) -> dict:
    return {status: schemas.Problem for status in statuses}


def _user(request: HttpRequest):
    return request.api_user


def _trial(request: HttpRequest, slug: str, perm: str) -> Trial:
    """The trial if the user is a member (else 404) whose role allows ``perm``."""
    trial = Trial.objects.filter(slug=slug).first()
    scope = scope_for(_user(request))
    if trial is None or not scope.member_of(trial.pk):
        raise Http404
    if not scope.can(perm, trial.pk):
        raise PermissionDenied
    return trial


def _today_and_now():
    now = timezone.now()
    return timezone.localdate(now, site_zone()), now


def _criterion(result, position: int | None = None) -> dict:
    out = {
        "code": result.code,
        "kind": result.kind.value,
        "outcome": result.outcome.value,
        "blocking": result.blocking,
        "reason": result.reason,
        "details": [c.as_dict() for c in result.conditions],
        "missing": list(result.missing),
    }
    if position is not None:
        out["position"] = position
    return out


@api.post(
    "/trials/{slug}/evaluate",
    response={200: schemas.EvaluationOut, **_errors(*BODY_REFUSALS)},
    url_name="evaluate",
    summary="Evaluate a candidate (records nothing)",
)
def evaluate(request, slug: str, candidate: schemas.CandidateIn):
    """Evaluates against the trial's active criteria, as pre-screening does:
    inputs needed only for a record may be missing, and unusual values are
    listed rather than refused."""
    trial = _trial(request, slug, PRESCREEN)
    today, now = _today_and_now()
    result = assess(
        data=schemas.candidate_data(candidate),
        criteria=active_criteria(trial=trial),
        today=today,
        now=now,
    )
    evaluation = result.evaluation
    return {
        "trial": trial.slug,
        "decision": evaluation.decision.value,
        "criteria": [_criterion(r) for r in evaluation.criteria],
        "blocking": list(evaluation.blocking),
        "unknown": list(evaluation.unknown),
        "to_collect": list(evaluation.to_collect),
        "unusual": [u.path for u in result.candidate.unusual],
        "computed": computed_values(result.derived),
        "normalised": contract.normalised(result.candidate),
    }


def _summary(decision: EligibilityDecision) -> dict:
    return {
        "id": decision.pk,
        "trial": decision.trial.slug,
        "site": decision.site.code if decision.site_id else None,
        "sequence": decision.sequence,
        "screening_number": decision.screening_number,
        "screening_date": decision.screening_date,
        "outcome": decision.outcome,
        "blocking_codes": decision.blocking_codes,
        "unknown_codes": decision.unknown_codes,
        "supersedes": decision.supersedes_id,
        "recorded_by": decision.recorded_by.get_username(),
        "recorded_at": decision.recorded_at,
        "signed": hasattr(decision, "signature"),
    }


def _detail(decision: EligibilityDecision) -> dict:
    signature = getattr(decision, "signature", None)
    return {
        **_summary(decision),
        "to_collect": decision.to_collect,
        "outcomes": [
            {
                "position": o.position,
                "code": o.code,
                "kind": o.kind,
                "outcome": o.outcome,
                "blocking": o.blocking,
                "reason": o.reason,
                "details": o.details,
                "missing": o.missing,
            }
            for o in decision.outcomes.all()
        ],
        "entered": decision.entered,
        "normalised": decision.normalised,
        "computed": decision.computed,
        "signature": (
            {
                "meaning": signature.meaning,
                "signer": signature.signer.get_username(),
                "signed_at": signature.signed_at,
                "override_outcome": signature.override_outcome,
            }
            if signature is not None
            else None
        ),
        "content_hash": decision.content_hash,
    }


@api.post(
    "/trials/{slug}/decisions",
    response={201: schemas.DecisionOut, **_errors(*BODY_REFUSALS, 503)},
    url_name="decisions",
    summary="Record a decision",
)
def decision_create(
    request,
    response: HttpResponse,
    slug: str,
    candidate: schemas.CandidateIn,
    site: str | None = Query(None, max_length=10),
):
    """Records through the same service as the screening form: every input a
    record needs must be given and unusual values confirmed
    (``confirmed_unusual``). ``site`` (its code) is needed when the user screens
    at several sites of the trial."""
    trial = _trial(request, slug, SCREEN)
    at = None
    if site is not None:
        at = Site.objects.filter(trial=trial, code=site).first()
        if at is None:
            raise ValidationError(
                {"site": ValidationError("no such site in this trial", "site_unknown")}
            )
    decision = services.decision_record(
        trial=trial,
        data=schemas.candidate_data(candidate),
        user=_user(request),
        site=at,
    )
    decision = selectors.decision_detail(
        scope=scope_for(_user(request)), pk=decision.pk
    )
    response["Location"] = reverse("api:decision", kwargs={"id": decision.pk})
    return Status(HTTPStatus.CREATED, _detail(decision))


@api.get(
    "/trials/{slug}/decisions",
    response={200: schemas.DecisionPage, **_errors(*REFUSALS)},
    url_name="decisions",
    summary="List decisions, newest first",
)
def decision_list(
    request,
    slug: str,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    screening_number: str | None = Query(None, max_length=12),
):
    """The decisions of the trial at the sites the user's memberships allow."""
    trial = _trial(request, slug, VIEW)
    rows = (
        selectors.visible(scope_for(_user(request)))
        .filter(trial=trial)
        .select_related("trial", "site", "recorded_by", "signature")
        .defer("entered", "normalised", "computed", "criteria_snapshot")
        .order_by("-recorded_at", "-id")
    )
    if screening_number is not None:
        rows = rows.filter(screening_number=screening_number)
    return {
        "count": rows.count(),
        "limit": limit,
        "offset": offset,
        "items": [_summary(d) for d in rows[offset : offset + limit]],
    }


@api.get(
    "/decisions/{id}",
    response={200: schemas.DecisionOut, **_errors(*REFUSALS)},
    url_name="decision",
    summary="Read one decision",
)
def decision_read(request, id: int = Path(..., ge=1, le=MAX_ID)):
    try:
        decision = selectors.decision_detail(scope=scope_for(_user(request)), pk=id)
    except EligibilityDecision.DoesNotExist:
        raise Http404 from None
    return _detail(decision)


@api.get(
    "/trials/{slug}/criteria",
    response={200: schemas.CriteriaOut, **_errors(*REFUSALS)},
    url_name="criteria",
    summary="The active criteria",
)
def criteria_read(request, slug: str):
    """The criteria a decision recorded now is evaluated against, with the
    version (history id) of each criterion and condition."""
    trial = _trial(request, slug, VIEW)
    return {"trial": trial.slug, "criteria": active_criteria(trial=trial).snapshot}


class LabValueOut(Schema):
    id: int
    screening_number: str
    input: str
    test: str
    value: str
    unit: str
    collected_at: datetime
    state: str


class LabImportOut(Schema):
    id: int
    trial: str
    format: str
    sha256: str
    encoding: str
    value_count: int
    values: list[LabValueOut]


_LAB_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "A FHIR R4 Bundle of Observations "
                "(application/fhir+json is read the same way)",
            }
        },
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "A laboratory-system CSV export (UTF-8 or GB18030)",
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


def _lab_problem(exc) -> HttpResponse:
    from screening.labs.reading import problem_words

    errors = [
        {
            "path": " ".join(p for p in (e["where"], e["part"]) if p),
            "code": e["code"],
            "message": problem_words(e),
            "params": e["params"],
        }
        for e in exc.problems
    ]
    taken = any(e["code"] == "already_imported" for e in errors)
    status = 409 if taken else 422
    kind = "conflict" if taken else "invalid_request"
    response = problem_response(
        status, problem_body(status, kind, errors[0]["message"], errors)
    )
    patch_cache_control(response, no_store=True, private=True)
    return response


@api.post(
    "/trials/{slug}/labs",
    response={201: LabImportOut, **_errors(*BODY_REFUSALS)},
    url_name="labs",
    summary="Import lab results into the inbox",
    openapi_extra={"requestBody": _LAB_BODY},
)
def labs_import(request, slug: str, site: str | None = Query(None, max_length=10)):
    """A FHIR R4 Bundle of Observations (JSON body) or a laboratory-system CSV
    export (``text/csv`` body, or a multipart ``file``; UTF-8 or GB18030).
    Each value waits in its candidate's inbox until a coordinator approves or
    rejects it. A message with any unknown test, unit or patient, or a value
    the contract refuses, is refused whole (422), each problem named;
    the same message twice is a 409. ``site`` (its code) places candidates
    not yet screened when the user screens at several sites."""
    from screening.labs.models import LabImport
    from screening.labs.reading import LabFileError
    from screening.labs.selectors import state
    from screening.labs.services import lab_import

    trial = _trial(request, slug, SCREEN)
    at = None
    if site is not None:
        at = Site.objects.filter(trial=trial, code=site).first()
        if at is None:
            raise ValidationError(
                {"site": ValidationError("no such site in this trial", "site_unknown")}
            )
    upload = request.FILES.get("file") if request.FILES else None
    content = upload.read() if upload is not None else request.body
    try:
        record = lab_import(
            trial=trial,
            user=_user(request),
            content=content,
            file_name=upload.name if upload is not None else "",
            channel=LabImport.Channel.API,
            site=at,
        )
    except LabFileError as exc:
        return _lab_problem(exc)
    values = record.values.order_by("position").select_related("review")
    return Status(
        HTTPStatus.CREATED,
        {
            "id": record.pk,
            "trial": trial.slug,
            "format": record.file_format,
            "sha256": record.sha256,
            "encoding": record.encoding,
            "value_count": record.value_count,
            "values": [
                {
                    "id": v.pk,
                    "screening_number": v.screening_number,
                    "input": v.input_key,
                    "test": v.test,
                    "value": v.value_text,
                    "unit": v.entry.get("unit", ""),
                    "collected_at": v.collected_at,
                    "state": state(v),
                }
                for v in values
            ],
        },
    )
