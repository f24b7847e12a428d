"""Names shown for people: full names, Chinese names on Chinese pages (one helper)."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import Profile
from accounts.names import display_name, signed_name, signer_name
from screening.decisions.services import signature_record
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def fang(db):
    user = UserFactory(username="fwang", first_name="Fang", last_name="Wang")
    Profile.objects.create(user=user, display_name_zh="王芳")
    return user


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Fang Wang"), ("zh-hans", "王芳")]
)
def test_the_chinese_name_on_chinese_pages_the_full_name_on_english(
    fang, language, expected
):
    assert display_name(fang, language) == expected
    with translation.override(language):
        assert display_name(fang) == expected


def test_without_a_chinese_name_the_full_name_and_without_one_the_user_name(db):
    named = UserFactory(username="ljianguo", first_name="Jianguo", last_name="Li")
    bare = UserFactory(username="nobody", first_name="", last_name="")
    Profile.objects.create(user=bare, display_name_zh="  ")
    assert display_name(named, "zh-hans") == "Jianguo Li"
    assert display_name(bare, "zh-hans") == "nobody"
    assert display_name(bare, "en") == "nobody"
    assert display_name(None) == ""


def test_a_signature_keeps_the_name_signed_with_beside_the_chinese_name(
    trial, record, investigator
):
    Profile.objects.create(user=investigator, display_name_zh="李建国")
    signature = signature_record(
        decision=record(),
        signer=investigator,
        password=TEST_PASSWORD,
        meaning="CONFIRM",
    )
    assert signature.signer_full_name == "Wang Jun"
    assert signer_name(signature, "en") == "Wang Jun"
    assert signer_name(signature, "zh-hans") == "李建国"
    assert signed_name(signature, "en") == "Wang Jun"
    assert signed_name(signature, "zh-hans") == "李建国（Wang Jun）"


def test_the_log_shows_chinese_names_without_a_query_per_row(
    client, trial, record, coordinator, investigator
):
    Profile.objects.create(user=coordinator, display_name_zh="王芳")
    Profile.objects.create(user=investigator, display_name_zh="李建国")
    decisions = [
        record(eligible_candidate(screening_number=f"01-00{n}")) for n in (1, 2, 3)
    ]
    signature_record(
        decision=decisions[0],
        signer=investigator,
        password=TEST_PASSWORD,
        meaning="CONFIRM",
    )
    client.force_login(investigator)
    client.cookies["django_language"] = "zh-hans"
    url = f"/trials/{trial.slug}/log/"
    client.get(url)  # the session's first request does more
    with CaptureQueriesContext(connection) as three:
        response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert page.count("王芳") >= 3
    assert '<span class="signer text-nowrap">李建国</span>' in page
    assert "coordinator</td>" not in page
    for n in (4, 5, 6):
        record(eligible_candidate(screening_number=f"01-00{n}"))
    with CaptureQueriesContext(connection) as six:
        client.get(url)
    assert len(six) == len(three)
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "王芳" not in english
    assert '<span class="signer text-nowrap">Wang Jun</span>' in english


def test_the_chinese_name_is_edited_with_the_user_in_the_admin(client, superuser, fang):
    client.force_login(superuser)
    response = client.get(f"/admin/auth/user/{fang.pk}/change/")
    assert response.status_code == HTTPStatus.OK
    assert 'name="profile-0-display_name_zh"' in response.content.decode()
    assert 'value="王芳"' in response.content.decode()
