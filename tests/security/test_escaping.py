"""Free text is escaped on every page that shows it.

Initials and screening data are validated and cannot carry markup; reasons,
criterion wording, signer names, upload file names and user names can, so every
page that shows them must print them escaped.
"""

import csv
import io
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from screening.decisions.services import signature_record
from screening.models import EligibilityDecision, PrescreenUpload, Signature
from screening.prescreen.files import csv_template
from tests.factories import amend, eligible_candidate
from tests.screening.form_data import SCREEN_URL, screening_post

SLUG = "nct06904755"
PAYLOAD = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = '"><img src=x onerror=alert(1)>'
IMG_ESCAPED = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"


def assert_escaped(response, raw=PAYLOAD, escaped=ESCAPED):
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    assert raw not in text
    assert escaped in text


def test_initials_and_screening_number_cannot_carry_markup(client, trial, coordinator):
    client.force_login(coordinator)
    response = client.post(
        SCREEN_URL,
        screening_post(eligible_candidate(), initials="<b>", screening_number=PAYLOAD),
    )
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors["initials"]] == ["initials_format"]
    assert "screening_number_format" in [e.code for e in errors["screening_number"]]
    assert not EligibilityDecision.unscoped.exists()
    # The refused entry is shown back to the user, escaped.
    assert_escaped(response)


@pytest.fixture
def correction(client, trial, coordinator, record):
    """A decision corrected with a hostile reason, through the form."""
    original = record()
    client.force_login(coordinator)
    response = client.post(
        reverse("screening:correct", args=[original.pk]),
        {
            **screening_post(eligible_candidate(), inr="3.5"),
            "supersede_reason": PAYLOAD,
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    corrected = EligibilityDecision.unscoped.get(supersedes=original)
    assert corrected.supersede_reason == PAYLOAD
    return corrected


def test_correction_reason_is_escaped(client, correction, trial):
    assert_escaped(client.get(correction.get_absolute_url()))
    assert_escaped(client.get(reverse("screening:candidate", args=[correction.pk])))


def test_signature_reason_and_signer_name_are_escaped(
    client, record, investigator, password, trial
):
    investigator.first_name = IMG
    investigator.save()
    decision = record()
    signature_record(
        decision=decision,
        signer=investigator,
        password=password,
        meaning=Signature.Meaning.DISAGREE,
        reason=PAYLOAD,
        override_outcome="INELIGIBLE",
    )
    client.force_login(investigator)
    page = client.get(decision.get_absolute_url())
    assert_escaped(page)
    assert_escaped(page, IMG, IMG_ESCAPED)
    log = client.get(reverse("screening:log", args=[SLUG]))
    assert_escaped(log, IMG, IMG_ESCAPED)
    candidate = client.get(reverse("screening:candidate", args=[decision.pk]))
    assert_escaped(candidate, IMG, IMG_ESCAPED)


def test_signature_reason_posted_through_the_form_is_escaped(
    client, record, investigator, password
):
    decision = record()
    client.force_login(investigator)
    response = client.post(
        reverse("screening:sign", args=[decision.pk]),
        {
            "meaning": Signature.Meaning.DISAGREE,
            "override_outcome": "INCOMPLETE",
            "reason": PAYLOAD,
            "password": password,
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert_escaped(client.get(decision.get_absolute_url()))


def test_criterion_text_edited_in_the_database_is_escaped(
    client, trial, record, monitor
):
    def edit(draft):
        criterion = draft.criteria.order_by("position").first()
        criterion.text = PAYLOAD
        criterion.text_zh_hans = PAYLOAD
        criterion._change_reason = "escaping test"
        criterion.save()

    amend(trial, edit)
    # A candidate failing every inclusion lists the edited criterion as a reason.
    decision = record(
        eligible_candidate(
            date_of_birth="2020-01-01",
            inr="0.9",
            pta_percent="90",
            tbil={"value": "10", "unit": "umol/L"},
            tbil_series=[],
            written_informed_consent=False,
            able_to_communicate_and_complete=False,
        )
    )
    assert "I1" in decision.blocking_codes
    client.force_login(monitor)
    assert_escaped(client.get(decision.get_absolute_url()))
    assert_escaped(client.get(reverse("screening:funnel", args=[SLUG])))
    for language in ("zh-hans", "en"):
        client.post(reverse("set_language"), {"language": language})
        assert_escaped(client.get(decision.get_absolute_url()))


def test_log_filter_text_is_escaped(client, record, monitor):
    record()
    client.force_login(monitor)
    response = client.get(
        reverse("screening:log", args=[SLUG]), {"q": IMG, "sort": PAYLOAD}
    )
    assert_escaped(response, IMG, IMG_ESCAPED)
    assert PAYLOAD not in response.content.decode()


@pytest.fixture
def coordinator_client(client, trial, coordinator):
    client.force_login(coordinator)
    return client


def test_upload_file_name_is_escaped(coordinator_client):
    # The multipart parser keeps only what follows the last slash of a name, so
    # the hostile name has none.
    name = f"{IMG}.csv"
    response = coordinator_client.post(
        reverse("screening:prescreen", args=[SLUG]),
        {"file": SimpleUploadedFile(name, csv_template().encode(), "text/csv")},
    )
    assert response.status_code == HTTPStatus.FOUND
    upload = PrescreenUpload.unscoped.get()
    assert upload.file_name == name
    assert_escaped(coordinator_client.get(response.url), IMG, IMG_ESCAPED)
    assert_escaped(
        coordinator_client.get(reverse("screening:prescreen", args=[SLUG])),
        IMG,
        IMG_ESCAPED,
    )


def test_stored_file_name_with_a_script_tag_is_escaped(
    coordinator_client, trial, coordinator
):
    from django.utils import timezone

    content = csv_template().encode()
    upload = PrescreenUpload.unscoped.create(
        trial=trial,
        user=coordinator,
        uploaded_at=timezone.now(),
        file_name=PAYLOAD,
        file_format="csv",
        content=content,
        file_sha256="0" * 64,
        row_count=1,
        error_count=0,
    )
    assert_escaped(
        coordinator_client.get(reverse("screening:prescreen_results", args=[upload.pk]))
    )
    assert_escaped(coordinator_client.get(reverse("screening:prescreen", args=[SLUG])))


def test_hostile_cells_in_prescreen_results_are_escaped(coordinator_client):
    header, example = list(csv.reader(io.StringIO(csv_template())))
    out = io.StringIO()
    csv.writer(out).writerows(
        [header, [PAYLOAD, *example[1:]], [IMG, PAYLOAD, *example[2:]]]
    )
    response = coordinator_client.post(
        reverse("screening:prescreen", args=[SLUG]),
        {
            "file": SimpleUploadedFile(
                "hostile.csv", out.getvalue().encode(), "text/csv"
            )
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    page = coordinator_client.get(response.url)
    # Long numbers are shortened on the page: look for the escaped beginnings.
    assert_escaped(page, "<script>", "&lt;script&gt;alert(1)")
    assert_escaped(page, "<img", "&quot;&gt;&lt;img src=x")


def test_hostile_user_name_in_the_access_log_is_escaped(client, db, superuser):
    response = client.post(
        reverse("login"), {"username": PAYLOAD, "password": "not the password"}
    )
    assert response.status_code == HTTPStatus.OK
    client.post(reverse("login"), {"username": IMG, "password": "x"})
    # Failed logins under names of no member are shown to superusers only.
    client.force_login(superuser)
    page = client.get(reverse("access_log"))
    assert_escaped(page)
    assert_escaped(page, IMG, IMG_ESCAPED)
