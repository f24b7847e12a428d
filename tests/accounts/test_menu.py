"""The top menu: readable link colours (WCAG AA) and the current page marked."""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR) / "static" / "css" / "app.css"


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_menu_link_colours_have_a_contrast_of_at_least_4_5():
    css = CSS.read_text(encoding="utf-8")
    colours = dict(re.findall(r"--(app-nav-(?:bg|link)):\s*(#[0-9a-fA-F]{6})", css))
    assert set(colours) == {"app-nav-bg", "app-nav-link"}
    assert contrast(colours["app-nav-link"], colours["app-nav-bg"]) >= 4.5
    # Hover, the current link and the brand are white.
    assert contrast("#ffffff", colours["app-nav-bg"]) >= 4.5
    assert contrast("#ffffff", "#0d6efd") < 4.6  # Bootstrap's primary, as before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "current", "value"),
    [
        ("log/", "log/", "page"),
        ("funnel/", "funnel/", "page"),
    ],
)
def test_the_link_of_the_page_shown_is_marked_current(
    client, trial, monitor, path, current, value
):
    client.force_login(monitor)
    response = client.get(f"/trials/{trial.slug}/{path}")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    marked = re.findall(
        r'<a class="nav-link" href="([^"]+)" aria-current="(\w+)"', page
    )
    assert marked == [(f"/trials/{trial.slug}/{current}", value)]


@pytest.mark.django_db
def test_a_record_marks_the_log_as_its_section(client, trial, record, monitor):
    decision = record()
    client.force_login(monitor)
    page = client.get(f"/decisions/{decision.pk}/").content.decode()
    marked = re.findall(
        r'<a class="nav-link" href="([^"]+)" aria-current="(\w+)"', page
    )
    assert marked == [(f"/trials/{trial.slug}/log/", "true")]
