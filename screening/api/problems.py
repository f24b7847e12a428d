"""Errors as RFC 9457 problem details (``application/problem+json``).

Every refusal of the API has ``type``, ``title``, ``status`` and ``detail``;
problems with the candidate's data add ``errors``, one per problem, each naming
the contract's field path (``tbil.unit``, ``tbil_series[1].time``) and the
parser's stable code, with a message in the request's language.
"""

import json
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaError

from screening.common.words import problem_text
from screening.domain.contract import CandidateError

PROBLEM_TYPE = "application/problem+json"
# Problem types are relative references (RFC 9457 3.1.1), documented in the README.
_TYPE_BASE = "/api/v1/problems/"

TITLES = {
    "invalid_candidate": _("The candidate's data do not fit the contract."),
    "invalid_request": _("The request is not valid."),
    "unauthenticated": _("A valid API token is required."),
    "forbidden": _("Your role does not allow this."),
    "not_found": _("Not found."),
    "conflict": _("The request conflicts with what is recorded."),
    "throttled": _("Too many requests: wait and try again."),
    "unavailable": _("Busy: please try again."),
}


def problem_body(
    status: int, kind: str, detail: str = "", errors: list[dict] | None = None
) -> dict:
    return {
        "type": _TYPE_BASE + kind,
        "title": str(TITLES[kind]),
        "status": status,
        "detail": detail or HTTPStatus(status).phrase,
        "errors": errors or [],
    }


def candidate_errors(exc: CandidateError) -> list[dict]:
    return [
        {
            "path": path,
            "code": problem["code"],
            "message": problem_text(problem),
            "params": problem["params"],
        }
        for path, problems in exc.problems.items()
        for problem in problems
    ]


def validation_errors(exc: ValidationError) -> list[dict]:
    """A service's ValidationError as field errors ("" when not about a field)."""
    pairs = (
        [(field, e) for field, errors in exc.error_dict.items() for e in errors]
        if hasattr(exc, "error_dict")
        else [("", e) for e in exc.error_list]
    )
    return [
        {
            "path": "" if field == "__all__" else field,
            "code": error.code or "invalid",
            "message": " ".join(error.messages),
            "params": {k: str(v) for k, v in (error.params or {}).items()},
        }
        for field, error in pairs
    ]


def _schema_path(loc) -> str:
    # ninja's locations start with where the value came from ("query", "path";
    # "body" and the body's parameter, which is the whole candidate).
    parts = [str(p) for p in loc[2:] if loc[0] == "body"] or [
        str(p) for p in loc[1:] if loc[0] != "body"
    ]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


# A body that is not an object: the parser's own code for it.
_SCHEMA_CODES = {"model_type": "candidate_not_object"}
_CONFLICT_CODES = {"screening_number_taken", "trial_closed", "no_criteria"}


def problem_for(exc: Exception) -> tuple[int, dict] | None:
    """The status and body of a refusal, or None for an error of ours (500)."""
    if isinstance(exc, CandidateError):
        return 422, problem_body(
            422,
            "invalid_candidate",
            str(_("See errors: each names a field of the candidate.")),
            candidate_errors(exc),
        )
    if isinstance(exc, ValidationError):
        errors = validation_errors(exc)
        codes = {e["code"] for e in errors}
        if codes & _CONFLICT_CODES:
            return 409, problem_body(409, "conflict", errors[0]["message"], errors)
        if "chain_busy" in codes:
            return 503, problem_body(503, "unavailable", errors[0]["message"], errors)
        return 422, problem_body(422, "invalid_request", errors[0]["message"], errors)
    if isinstance(exc, SchemaError):
        errors = [
            {
                "path": _schema_path(e.get("loc", ())),
                "code": _SCHEMA_CODES.get(e.get("type"), str(e.get("type", "invalid"))),
                "message": str(e.get("msg", "")),
                "params": {},
            }
            for e in exc.errors
        ]
        return 422, problem_body(422, "invalid_request", errors=errors)
    if isinstance(exc, AuthenticationError):
        return 401, problem_body(401, "unauthenticated")
    if isinstance(exc, Throttled):
        return 429, problem_body(429, "throttled")
    if isinstance(exc, PermissionDenied):
        return 403, problem_body(403, "forbidden")
    if isinstance(exc, Http404):
        return 404, problem_body(404, "not_found")
    if isinstance(exc, HttpError):
        status = exc.status_code
        kind = "not_found" if status == 404 else "invalid_request"
        return status, problem_body(status, kind, str(exc))
    return None


def problem_response(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Any path under /api/v1/ that is not an operation: a 404 problem."""
    return problem_response(404, problem_body(404, "not_found"))
