"""Monitors filter the audit logs and the access log by period and user."""

from datetime import timedelta
from http import HTTPStatus

from django.urls import reverse
from django.utils import timezone

from screening.models import ScreeningLogExport


def _export(trial, user, days_ago):
    return ScreeningLogExport.objects.create(
        trial=trial,
        user=user,
        exported_at=timezone.now() - timedelta(days=days_ago),
        export_format=f"csv-{days_ago}",
    )


def test_the_export_log_by_period_and_user(client, trial, monitor, coordinator):
    _export(trial, coordinator, 0)
    _export(trial, monitor, 0)
    _export(trial, coordinator, 10)
    client.force_login(monitor)
    url = reverse("screening:audit_log", args=[trial.slug, "exports"])
    today = timezone.localdate()
    since = (today - timedelta(days=1)).isoformat()
    page = client.get(url, {"date_from": since, "user": coordinator.last_name})
    assert page.status_code == HTTPStatus.OK
    assert [row[2] for row in page.context["page"]] == ["csv-0"]
    old = client.get(url, {"date_to": (today - timedelta(days=5)).isoformat()})
    assert [row[2] for row in old.context["page"]] == ["csv-10"]
    # The filtered download is the filtered rows, and is logged with its filter.
    csv = client.get(
        url, {"date_from": since, "user": coordinator.last_name, "format": "csv"}
    )
    body = b"".join(csv.streaming_content).decode()
    assert "csv-0" in body and "csv-10" not in body
    logged = ScreeningLogExport.objects.order_by("-id").first()
    assert logged.filters == {"date_from": since, "user": coordinator.last_name}


def test_a_bad_date_is_shown_and_ignored(client, trial, monitor, coordinator):
    _export(trial, coordinator, 0)
    client.force_login(monitor)
    url = reverse("screening:audit_log", args=[trial.slug, "exports"])
    page = client.get(url, {"date_from": "2026-13-45"})
    assert page.status_code == HTTPStatus.OK
    assert page.context["form"].errors["date_from"]
    assert len(page.context["page"]) == 1


def test_the_access_log_by_user(client, trial, monitor, coordinator):
    client.force_login(coordinator)
    client.force_login(monitor)
    page = client.get(reverse("access_log"), {"user": "coordinator"})
    assert page.status_code == HTTPStatus.OK
    assert {e.username for e in page.context["page"]} == {"coordinator"}
