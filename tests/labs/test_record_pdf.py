"""The printed record says where each lab value came from, read back from the PDF
in English and Chinese."""

import io
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from screening.labs.models import LabSource
from screening.labs.services import lab_value_approve
from tests.labs.test_inbox import _prefilled_post, _values

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(trial, coordinator, import_bundle):
    """01-001 recorded from the bundle: TBil and creatinine approved as they
    came, the INR approved and then changed on the form."""
    lab = import_bundle()
    values = _values(lab)
    for key in ("tbil", "inr", "creatinine"):
        lab_value_approve(value=values[key], user=coordinator)
    client = Client()
    client.force_login(coordinator)
    url, _form, data = _prefilled_post(client, trial)
    data["inr"] = "2.0"
    response = client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND
    sources = {s.input_key: s for s in LabSource.objects.all()}
    assert {k: s.source for k, s in sources.items()} == {
        "tbil": "LAB",
        "inr": "TYPED",
        "creatinine": "LAB",
    }
    return client, sources["tbil"].decision, lab, sources


def pdf_text(client, decision, language) -> str:
    response = client.get(
        reverse("screening:decision_pdf", args=[decision.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    # Words wrapped across lines in a table cell come back with a newline.
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            [
                "Where the lab values came from",
                "Laboratory",
                "Typed",
                "an approved lab value was offered and changed",
                "FHIR bundle",
                "185.3",
                "μmol/L",
                "14631-6",
                "2026-06-01 07:30 +0800",
            ],
        ),
        (
            "zh-hans",
            [
                "化验结果的来源",
                "检验科",
                "手工录入",
                "已批准的化验结果被预填后又被修改",
                "FHIR 资源包",
                "185.3",
                "μmol/L",
                "14631-6",
                "2026-06-01 07:30 +0800",
            ],
        ),
    ],
)
def test_the_pdf_shows_where_each_lab_value_came_from(
    recorded, coordinator, language, words
):
    client, decision, lab, sources = recorded
    text = flat(pdf_text(client, decision, language))
    for word in words:
        assert flat(word) in text, word
    assert lab.sha256 in text
    # The approver by name, as every page names people; not by account name.
    assert flat(coordinator.get_full_name()) in text
    assert coordinator.username not in text
    for source in sources.values():
        assert source.content_hash in text
    # The approval time, in UTC as the record keeps it.
    approved = sources["tbil"].content["approved_at"][:19].replace("T", "")
    assert approved in text


def test_a_record_without_lab_values_prints_no_provenance_block(record, coordinator):
    from tests.factories import eligible_candidate

    decision = record(eligible_candidate(screening_number="01-002"))
    client = Client()
    client.force_login(coordinator)
    text = flat(pdf_text(client, decision, "en"))
    assert flat("Where the lab values came from") not in text
