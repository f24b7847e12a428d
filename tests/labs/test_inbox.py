"""The lab inbox: a FHIR bundle lands, is reviewed, pre-fills the form, and the
recorded decision keeps where each value came from."""

import json
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from accounts import roles
from accounts.models import Membership
from accounts.scope import SCREEN, scope_for
from screening.decisions.forms import post_data_from_contract
from screening.labs.models import LabImport, LabReview, LabSource, LabValue
from screening.labs.reading import LabFileError
from screening.labs.services import lab_value_approve, lab_value_reject
from tests.factories import UserFactory, eligible_candidate
from tests.labs.conftest import FIXTURES, bundle_bytes, fixture_bytes, observation
from trials.models import Trial

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _values(record) -> dict[str, LabValue]:
    return {v.input_key: v for v in LabValue.unscoped.filter(lab_import=record)}


def _review_in_the_inbox(client, values):
    for key in ("tbil", "inr", "creatinine"):
        response = client.post(reverse("screening:labs_approve", args=[values[key].pk]))
        assert response.status_code == HTTPStatus.FOUND
    response = client.post(
        reverse("screening:labs_reject", args=[values["il6"].pk]),
        {"reason": "Sample haemolysed; repeat ordered"},
    )
    assert response.status_code == HTTPStatus.FOUND


def _prefilled_post(client, trial, number="01-001"):
    """Open the form from the inbox and post it as the browser shows it."""
    response = client.post(
        reverse("screening:labs_prefill", args=[trial.slug]),
        {"screening_number": number},
    )
    assert response.status_code == HTTPStatus.FOUND
    form = client.get(response["Location"]).context["form"]
    data = post_data_from_contract(eligible_candidate(screening_number=number))
    data.update({k: v for k, v in form.initial.items() if isinstance(v, str)})
    return response["Location"], form, data


def test_done_when_a_bundle_is_reviewed_prefills_and_the_record_says_where_from(
    trial, coordinator
):
    client = _client(coordinator)
    with (FIXTURES / "bundle.json").open("rb") as handle:
        response = client.post(
            reverse("screening:labs_import", args=[trial.slug]), {"file": handle}
        )
    assert response.status_code == HTTPStatus.FOUND
    record = LabImport.objects.get(trial=trial)
    assert record.file_format == "FHIR" and record.value_count == 4
    values = _values(record)
    inbox = client.get(reverse("screening:labs_inbox", args=[trial.slug]))
    assert inbox.status_code == HTTPStatus.OK
    assert inbox.content.count(b'data-state="PENDING"') == 4

    _review_in_the_inbox(client, values)
    reviews = {r.value.input_key: r for r in LabReview.objects.select_related("value")}
    assert {k: r.verdict for k, r in reviews.items()} == {
        "tbil": "APPROVED",
        "inr": "APPROVED",
        "creatinine": "APPROVED",
        "il6": "REJECTED",
    }
    assert reviews["il6"].reason == "Sample haemolysed; repeat ordered"

    url, form, data = _prefilled_post(client, trial)
    assert url == reverse("screening:screen", args=[trial.slug])
    assert form.initial["tbil_value"] == "185.3"
    assert form.initial["tbil_uln"] == "17.1"
    assert form.initial["tbil_time"] == "2026-06-01T07:30"
    assert form.initial["inr"] == "1.90"
    assert form.initial["creatinine_value"] == "1.02"
    assert form.initial["creatinine_unit"] == "mg/dL"
    assert "il6_value" not in form.initial  # rejected: never pre-filled

    response = client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.context["form"].errors
    decision_url = response["Location"]
    sources = {s.input_key: s for s in LabSource.objects.all()}
    assert set(sources) == {"tbil", "inr", "creatinine"}
    assert {s.source for s in sources.values()} == {"LAB"}
    tbil = sources["tbil"]
    assert tbil.value_id == values["tbil"].pk
    assert tbil.decision_hash == tbil.decision.content_hash
    assert tbil.content["message_sha256"] == record.sha256
    assert tbil.content["format"] == "FHIR"
    assert tbil.content["collected_at"] == "2026-05-31T23:30:00+00:00"
    assert tbil.content["approved_by"] == coordinator.username
    assert tbil.decision.normalised["creatinine"]["value"] == "90.168"

    page = client.get(decision_url)
    assert page.status_code == HTTPStatus.OK
    assert page.content.count(b'data-source="LAB"') == 3
    assert record.sha256.encode() in page.content


def test_a_prefilled_value_edited_before_recording_is_typed(
    trial, coordinator, import_bundle
):
    values = _values(import_bundle())
    for key in ("tbil", "inr", "creatinine"):
        lab_value_approve(value=values[key], user=coordinator)
    client = _client(coordinator)
    url, _form, data = _prefilled_post(client, trial)
    data["inr"] = "2.0"
    response = client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND
    sources = {s.input_key: s.source for s in LabSource.objects.all()}
    assert sources == {"tbil": "LAB", "inr": "TYPED", "creatinine": "LAB"}


def test_a_screened_candidate_is_prefilled_into_the_correction(
    trial, coordinator, record, import_bundle
):
    earlier = record(eligible_candidate())
    values = _values(import_bundle())
    assert values["tbil"].site_id == earlier.site_id
    lab_value_approve(value=values["creatinine"], user=coordinator)
    client = _client(coordinator)
    url, form, data = _prefilled_post(client, trial)
    assert url == reverse("screening:correct", args=[earlier.pk])
    assert form.initial["creatinine_value"] == "1.02"
    assert form.initial["initials"] == "ZW"  # the record's own values stay


def test_a_rejection_needs_a_reason_and_a_value_is_reviewed_once(
    coordinator, investigator, import_bundle
):
    value = _values(import_bundle())["il6"]
    with pytest.raises(Exception) as refused:
        lab_value_reject(value=value, user=coordinator, reason="  ")
    assert refused.value.error_dict["reason"][0].code == "required"
    lab_value_approve(value=value, user=coordinator)
    with pytest.raises(Exception) as again:
        lab_value_reject(value=value, user=investigator, reason="changed my mind")
    assert again.value.code == "already_reviewed"


def test_the_inbox_is_append_only(coordinator, import_bundle):
    value = _values(import_bundle())["tbil"]
    review = lab_value_approve(value=value, user=coordinator)
    for row in (value, review, value.lab_import):
        with pytest.raises(DatabaseError), transaction.atomic():
            type(row)._base_manager.filter(pk=row.pk).update(id=row.pk)
        with pytest.raises(DatabaseError), transaction.atomic():
            type(row)._base_manager.filter(pk=row.pk).delete()


def test_the_same_message_twice_is_refused(import_bundle):
    import_bundle()
    with pytest.raises(LabFileError) as refused:
        import_bundle()
    assert refused.value.problems[0]["code"] == "already_imported"


def test_a_refused_message_stores_nothing(import_bundle):
    def edit(data):
        observation(data, 3)["code"]["coding"][0]["code"] = "2345-7"  # glucose

    with pytest.raises(LabFileError) as refused:
        import_bundle(bundle_bytes(edit))
    assert [(p["part"], p["code"]) for p in refused.value.problems] == [
        ("test", "code_unknown")
    ]
    assert refused.value.problems[0]["params"]["code"] == "2345-7"
    assert not LabImport.objects.exists() and not LabValue.unscoped.exists()


def test_an_unscreened_patient_is_refused_when_the_trial_is_closed(
    trial, import_bundle
):
    trial.status = trial.Status.CLOSED
    trial.save()
    with pytest.raises(LabFileError) as refused:
        import_bundle()
    assert {p["code"] for p in refused.value.problems} == {"patient_unknown"}
    assert refused.value.problems[0]["params"]["patient"] == "01-001"


@pytest.mark.parametrize("name", ["lis-utf8.csv", "lis-gb18030.csv"])
def test_a_lis_export_lands_in_the_inbox(import_bundle, name):
    record = import_bundle(fixture_bytes(name))
    assert record.file_format == "CSV"
    assert record.encoding == ("utf-8" if "utf8" in name else "gb18030")
    values = _values(record)
    assert values["pta_percent"].entry["value"] == "35"
    assert values["il6"].normalised["comparator"] == "<"


# -- scoping -----------------------------------------------------------------


def test_a_monitor_may_not_import_or_review(trial, monitor, import_bundle):
    value = _values(import_bundle())["tbil"]
    client = _client(monitor)
    assert (
        client.get(reverse("screening:labs_inbox", args=[trial.slug])).status_code
        == HTTPStatus.FORBIDDEN
    )
    response = client.post(reverse("screening:labs_approve", args=[value.pk]))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not LabReview.objects.exists()


def test_a_member_of_another_trial_gets_404(trial, import_bundle):
    other = Trial.objects.create(
        slug="other-trial", title="Other", registry_id="NCT0", sponsor="x", site="y"
    )
    user = UserFactory(username="elsewhere")
    Membership.objects.create(user=user, trial=other, role=roles.COORDINATOR)
    value = _values(import_bundle())["tbil"]
    client = _client(user)
    assert (
        client.get(reverse("screening:labs_inbox", args=[trial.slug])).status_code
        == HTTPStatus.NOT_FOUND
    )
    for route in ("screening:labs_approve", "screening:labs_reject"):
        response = client.post(reverse(route, args=[value.pk]), {"reason": "x"})
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert not LabValue.objects.visible_to(scope_for(user), SCREEN).exists()


# -- the command -----------------------------------------------------------------


def test_the_command_imports_fhir_and_csv(trial, coordinator, capsys):
    call_command(
        "import_labs",
        str(FIXTURES / "bundle.json"),
        trial=trial.slug,
        user=coordinator.username,
    )
    call_command(
        "import_labs",
        str(FIXTURES / "lis-gb18030.csv"),
        trial=trial.slug,
        user=coordinator.username,
    )
    out = capsys.readouterr().out
    assert "imported 4 values from bundle.json" in out
    assert "gb18030" in out
    assert LabImport.objects.filter(channel="COMMAND").count() == 2


def test_the_command_names_each_refusal(trial, coordinator, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "筛选号,检验项目,结果,单位,采集时间\n"
        "01-001,血红蛋白,120,g/L,2026/06/01 07:30\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_labs", str(path), trial=trial.slug, user=coordinator.username
        )
    assert "unknown test 血红蛋白" in str(refused.value)
    assert "line 2" in str(refused.value)


def test_the_command_refuses_a_user_who_may_not_screen(trial, monitor):
    with pytest.raises(CommandError):
        call_command(
            "import_labs",
            str(FIXTURES / "bundle.json"),
            trial=trial.slug,
            user=monitor.username,
        )


# -- the API -----------------------------------------------------------------------


def test_the_api_imports_a_bundle(trial, as_role):
    path = reverse("api:labs", kwargs={"slug": trial.slug})
    response = as_role("coordinator").post(
        path, raw=fixture_bytes("bundle.json").decode()
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    assert body["format"] == "FHIR" and body["value_count"] == 4
    assert {v["input"]: v["state"] for v in body["values"]} == {
        "tbil": "PENDING",
        "inr": "PENDING",
        "creatinine": "PENDING",
        "il6": "PENDING",
    }
    again = as_role("coordinator").post(path, raw=fixture_bytes("bundle.json").decode())
    assert again.status_code == HTTPStatus.CONFLICT
    assert again["Content-Type"] == "application/problem+json"


def test_the_api_takes_a_csv_file_and_names_refusals(trial, as_role):
    path = reverse("api:labs", kwargs={"slug": trial.slug})
    client = as_role("coordinator")
    response = client.client.post(
        path, {"file": open(FIXTURES / "lis-utf8.csv", "rb")}, headers=client.headers
    )
    assert response.status_code == HTTPStatus.CREATED
    bad = client.client.post(
        path,
        "筛选号,检验项目,结果,单位,采集时间\n01-009,肌酐,88,mmol/L,2026/06/01 07:30\n",
        content_type="text/csv",
        headers=client.headers,
    )
    assert bad.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [(e["path"], e["code"]) for e in bad.json()["errors"]] == [
        ("line 2 unit", "unit_unknown")
    ]


def test_the_api_scopes_like_the_pages(trial, as_role):
    path = reverse("api:labs", kwargs={"slug": trial.slug})
    raw = fixture_bytes("bundle.json").decode()
    assert as_role("monitor").post(path, raw=raw).status_code == HTTPStatus.FORBIDDEN
    assert as_role("outsider").post(path, raw=raw).status_code == HTTPStatus.NOT_FOUND
    assert json.loads(as_role("outsider").post(path, raw=raw).content)["status"] == 404


def test_the_inbox_names_the_reviewer_as_the_pages_name_people(
    trial, investigator, import_bundle
):
    """The reviewer is shown by name, in Chinese on Chinese pages, not by
    account name."""
    from accounts.models import Profile

    Profile.objects.update_or_create(
        user=investigator, defaults={"display_name_zh": "王军"}
    )
    values = _values(import_bundle())
    lab_value_approve(value=values["tbil"], user=investigator)
    lab_value_reject(value=values["il6"], user=investigator, reason="Haemolysed")
    client = _client(investigator)
    url = reverse("screening:labs_inbox", args=[trial.slug])
    page = client.get(url).content.decode()
    assert page.count('<span class="typed-text">Wang Jun</span>') == 2
    assert '<span class="typed-text">investigator</span>' not in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert page.count('<span class="typed-text">王军</span>') == 2


def test_the_record_and_its_pdf_name_the_approver_as_the_pages_name_people(
    trial, coordinator, import_bundle
):
    """The provenance seals the approver's id and account name; the record's
    page and its PDF show their name, in Chinese on Chinese pages."""
    from accounts.models import Profile
    from screening.labs.selectors import decision_sources

    coordinator.first_name, coordinator.last_name = "Li", "Na"
    coordinator.save()
    Profile.objects.update_or_create(
        user=coordinator, defaults={"display_name_zh": "李娜"}
    )
    values = _values(import_bundle())
    for key in ("tbil", "inr", "creatinine"):
        lab_value_approve(value=values[key], user=coordinator)
    client = _client(coordinator)
    url, _form, data = _prefilled_post(client, trial)
    decision_url = client.post(url, data)["Location"]
    page = client.get(decision_url).content.decode()
    assert page.count('<span class="typed-text">Li Na</span>') == 3
    assert f'<span class="typed-text">{coordinator.username}</span>' not in page
    page = client.get(decision_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert page.count('<span class="typed-text">李娜</span>') == 3
    (source, *_rest) = decision_sources(decision=LabSource.objects.first().decision)
    assert source.content["approved_by"] == coordinator.username  # as sealed
    assert source.approver == coordinator
