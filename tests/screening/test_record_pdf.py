"""The printed record as a PDF/A-3b, read back: text in both languages, the
signature manifestation (21 CFR 11.50(b)), the attached JSON, scope and the
export log."""

import io
import json
import re
from datetime import UTC
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from accounts import roles
from accounts.models import Membership
from screening.audit import sha256
from screening.decisions.services import signature_record
from screening.models import ScreeningLogExport, Signature
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate
from trials.models import Site, Trial

pytestmark = pytest.mark.django_db

NUMBER = "07-013"


@pytest.fixture
def signed(record, investigator):
    decision = record(eligible_candidate(screening_number=NUMBER))
    signature_record(
        decision=decision,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning=Signature.Meaning.CONFIRM,
    )
    decision.refresh_from_db()
    return decision


def download(client, decision, language):
    response = client.get(
        reverse("screening:decision_pdf", args=[decision.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    return response


def read(response) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text


def flat(text: str) -> str:
    """The text without white space: a long hash may wrap across lines."""
    return re.sub(r"\s+", "", text)


def embedded_fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font") or {}
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_the_english_pdf_has_the_record_and_the_signature_manifestation(
    client, coordinator, signed
):
    client.force_login(coordinator)
    response = download(client, signed, "en")
    reader, text = read(response)
    signature = signed.signature
    version = signed.criteria_version
    assert "Wang Jun" in text
    assert signature.signer_full_name == "Wang Jun"
    assert "I confirm the eligibility assessment" in text
    assert f"v{version.number}" in text and version.label in text
    assert f"Screening {NUMBER}" in text
    assert "Eligible: every criterion is decided" in text
    assert "Signature manifestation (21 CFR 11.50)" in text
    # Printed name, the date and time in UTC and in the site's zone, the meaning.
    utc = signature.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    local = signature.signed_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    assert f"{utc} UTC" in text
    assert local.strftime("%Y-%m-%d %H:%M:%S %z") in text
    assert settings.TIME_ZONE in text
    # Every criterion, with its outcome; entered and computed values with units.
    for outcome in signed.outcomes.all():
        assert outcome.code in text
    assert "180 μmol/L" in text
    assert "25 pg/mL" in text
    assert "MELD" in text
    # The chain position and the hash.
    assert f"#{signed.sequence}" in text
    assert signed.content_hash in flat(text)
    assert len(reader.pages) >= 2
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)


def test_the_chinese_pdf_is_in_chinese_with_cjk_fonts_embedded(
    client, coordinator, signed
):
    client.force_login(coordinator)
    response = download(client, signed, "zh-hans")
    reader, text = read(response)
    with translation.override("zh-hans"):
        meaning = str(Signature.Meaning.CONFIRM.label)
        eligible = str(signed.get_outcome_display())
    assert meaning != "I confirm the eligibility assessment"
    assert "Wang Jun" in text
    assert meaning in text
    assert f"筛选记录 {NUMBER}" in text
    assert eligible in text
    assert f"v{signed.criteria_version.number}" in text
    # The version's label in the page's language.
    assert signed.criteria_version.label_zh_hans == "注册时的方案（v1）"
    assert "注册时的方案（v1）" in flat(text)
    assert signed.criteria_version.label not in text
    assert "电子签名显示（21 CFR 11.50）" in text
    assert "年龄18至65岁" in text  # the criterion's Chinese wording
    # The Chinese glyphs come from an embedded Noto Sans CJK (not tofu boxes).
    assert any("Noto-Sans-CJK-SC" in name for name in embedded_fonts(reader))


def test_the_pdf_is_pdf_a_3b_with_the_records_json_attached(
    client, coordinator, signed
):
    client.force_login(coordinator)
    reader, _text = read(download(client, signed, "en"))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part="3"', xmp) or "<pdfaid:part>3<" in xmp
    assert re.search(r'pdfaid:conformance="B"', xmp) or "<pdfaid:conformance>B<" in xmp
    assert reader.trailer["/Root"]["/OutputIntents"]
    assert reader.trailer["/Root"]["/AF"]  # the associated file of PDF/A-3
    assert list(reader.attachments) == ["record.json"]
    (data,) = reader.attachments["record.json"]
    content = json.loads(data)
    # The attachment is the sealed content: its SHA-256 is the record's hash.
    assert content["decision_id"] == signed.pk
    assert content["content_hash"] == signed.content_hash
    assert sha256(content["decision"]) == signed.content_hash
    assert content["decision"]["screening_number"] == NUMBER
    assert content["decision"]["outcome"] == signed.outcome
    assert content["criteria_version"]["number"] == signed.criteria_version.number
    signature = content["signature"]
    assert signature["signer_full_name"] == "Wang Jun"
    assert signature["meaning"] == "CONFIRM"
    assert signature["decision_hash"] == signed.content_hash
    assert signature["content_hash"] == signed.signature.content_hash


def test_the_download_is_an_attachment_without_the_screening_number_and_is_logged(
    client, coordinator, signed
):
    client.force_login(coordinator)
    response = download(client, signed, "zh-hans")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="screening-record-{signed.pk}.pdf"' in disposition
    assert NUMBER not in disposition
    export = ScreeningLogExport.objects.get()
    assert export.user == coordinator
    assert export.trial_id == signed.trial_id
    assert export.export_format == "record-pdf"
    assert export.filters == {"decision": signed.pk, "language": "zh-hans"}


def test_an_unsigned_record_says_it_is_not_signed(client, coordinator, record):
    decision = record(eligible_candidate(screening_number="07-014"))
    client.force_login(coordinator)
    _reader, text = read(download(client, decision, "en"))
    assert "Not signed" in text
    assert "Screening 07-014" in text


def test_a_member_of_another_trial_gets_404_and_nothing_is_logged(client, signed):
    other = Trial.objects.create(
        slug="other-trial",
        title="Another liver trial",
        registry_id="NCT00000000",
        sponsor="Someone else",
        site="Elsewhere",
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    outsider = UserFactory(username="elsewhere")
    outsider.groups.add(Group.objects.get(name=roles.INVESTIGATOR))
    Membership.objects.create(user=outsider, trial=other, role=roles.INVESTIGATOR)
    client.force_login(outsider)
    response = client.get(reverse("screening:decision_pdf", args=[signed.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not ScreeningLogExport.objects.exists()


def test_the_record_page_has_a_print_pdf_button(client, coordinator, signed):
    client.force_login(coordinator)
    page = client.get(signed.get_absolute_url())
    url = reverse("screening:decision_pdf", args=[signed.pk])
    assert f'href="{url}"' in page.text
    assert "Print / PDF" in page.text


def _close_call():
    """CRP 9.2 (just under 10) and TBil 161 rising 17.1 a day (tests/screening/
    test_how_close.py)."""
    return eligible_candidate(
        screening_number="07-015",
        crp={"value": "9.2", "unit": "mg/L"},
        tbil={"value": "161", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
        tbil_series=[
            {"time": "2026-05-31T08:00+08:00", "value": "143.9", "unit": "umol/L"}
        ],
    )


@pytest.mark.parametrize(
    ("language", "title", "crp", "near_miss", "rise"),
    [
        (
            "en",
            "How close",
            "CRP 9.2 mg/L: 0.8 below 10 (8 %)",
            "near miss",
            "+17.1/day",
        ),
        (
            "zh-hans",
            "距阈值多近",
            "9.2 mg/L：低于 10 达 0.8 (8 %)",
            "接近阈值",
            "每日 +17.1：",
        ),
    ],
)
def test_the_pdf_says_how_close_like_the_record_page(
    client, coordinator, record, language, title, crp, near_miss, rise
):
    decision = record(_close_call())
    client.force_login(coordinator)
    page = client.get(decision.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    rows = page.context["how_close"]
    assert rows
    _reader, text = read(download(client, decision, language))
    # The no-break space before "%" reads back as a space.
    text = text.replace("\u00a0", " ")
    assert title in text
    assert crp in text
    assert near_miss in text
    assert rise in text
    for row in rows:
        assert flat(row["text"]) in flat(text)
        if row["projection"]:
            assert flat(row["projection"]) in flat(text)
    # Information only: the outcome printed is the record's.
    assert decision.outcome == "ELIGIBLE"
