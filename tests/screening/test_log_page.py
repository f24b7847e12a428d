"""The screening log page counts up to a cap, then says there are more."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests.factories import eligible_candidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(record):
    return [record(eligible_candidate(screening_number=f"40-00{n}")) for n in range(5)]


def _log(client, trial, query="", **headers):
    page = client.get(reverse("screening:log", args=[trial.slug]) + query, **headers)
    assert page.status_code == HTTPStatus.OK
    return page


def test_under_the_cap_the_log_counts_every_record(client, trial, monitor, five):
    client.force_login(monitor)
    page = _log(client, trial)
    assert page.context["page"].paginator.count == 5
    assert '<p class="small" id="log-count">5 records</p>' in page.content.decode()


def test_over_the_cap_it_lists_the_first_in_its_order_and_says_there_are_more(
    client, trial, monitor, five, monkeypatch
):
    from screening.reports import views

    monkeypatch.setattr(views, "LOG_COUNT_CAP", 3)
    client.force_login(monitor)
    with CaptureQueriesContext(connection) as queries:
        page = _log(client, trial)
    paginator = page.context["page"].paginator
    assert (paginator.count, paginator.more) == (3, True)
    text = page.content.decode()
    assert "More than 3 records: the first 3 in this order are listed." in text
    # The count stops at the cap: no query counts the whole log.
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert counts and all("LIMIT 4" in sql for sql in counts)
    # The newest first by default: the three last recorded.
    numbers = [d.screening_number for d in page.context["page"].object_list]
    assert numbers == ["40-004", "40-003", "40-002"]
    # Sorted the other way, the oldest three.
    page = _log(client, trial, "?sort=recorded")
    numbers = [d.screening_number for d in page.context["page"].object_list]
    assert numbers == ["40-000", "40-001", "40-002"]
    # A filter that narrows under the cap counts exactly again.
    page = _log(client, trial, "?q=40-004")
    assert (
        page.context["page"].paginator.count,
        page.context["page"].paginator.more,
    ) == (1, False)
    with translation.override("zh-hans"):
        page = _log(client, trial, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "超过 3 条记录：按当前排序列出前 3 条。" in page.content.decode()


def test_a_page_past_the_cap_shows_the_last_page_within_it(
    client, trial, monitor, five, monkeypatch
):
    from screening.reports import views

    monkeypatch.setattr(views, "LOG_COUNT_CAP", 3)
    client.force_login(monitor)
    page = _log(client, trial, "?page=99")
    assert page.context["page"].number == 1
    assert len(page.context["page"].object_list) == 3


def test_records_that_tie_on_the_sorted_column_follow_in_the_same_direction(
    client, trial, monitor, record
):
    """Records with the same MELD come in screening order when sorted up and in
    the reverse order when sorted down (the index on the column and id)."""
    same = [record(eligible_candidate(screening_number=f"41-00{n}")) for n in range(3)]
    assert len({d.meld for d in same}) == 1
    client.force_login(monitor)
    up = _log(client, trial, "?sort=meld").context["page"].object_list
    down = _log(client, trial, "?sort=-meld").context["page"].object_list
    assert [d.pk for d in up] == [d.pk for d in same]
    assert [d.pk for d in down] == [d.pk for d in reversed(same)]
