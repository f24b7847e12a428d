"""Users for bench/load.sh: coordinators, monitors, and the reference view.

Run by bench/load.sh against gunicorn on 127.0.0.1 only. Settings come from
the environment that load.sh sets:

- ``DEMO_PASSWORD``: the demo users' password;
- ``BENCH_NUMBER_START``: first site-00 screening number to submit, 0-9999
  (00-0000 up; above the earlier bench submissions, so every valid submission
  is new, and the demo data has no site 00);
- ``BENCH_PK_MIN`` / ``BENCH_PK_MAX``: the loaded decisions' ids, for record
  pages;
- ``BENCH_WAIT_MIN`` / ``BENCH_WAIT_MAX``: think time in seconds between a
  user's actions (0 and 0 for the capacity phases);
- ``BENCH_COUNTS``: where the submission counts are written as JSON at the end.

A valid submission is accepted only when the server answers 302 to the
decision's page; an invalid one only when it answers 200 with the form again.
"""

import itertools
import json
import os
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locust import HttpUser, between, events, task
from submissions import SCREEN, valid_post

TRIAL = "nct06904755"
LOG = f"/trials/{TRIAL}/log/"
PASSWORD = os.environ.get("DEMO_PASSWORD", "")
PK_MIN = int(os.environ.get("BENCH_PK_MIN", "1"))
PK_MAX = int(os.environ.get("BENCH_PK_MAX", "1"))
WAIT = between(
    float(os.environ.get("BENCH_WAIT_MIN", "0.5")),
    float(os.environ.get("BENCH_WAIT_MAX", "1.5")),
)
_numbers = itertools.count(int(os.environ.get("BENCH_NUMBER_START", "0")))
_TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
COUNTS = {
    "valid_sent": 0,
    "accepted": 0,
    "accepted_numbers": [],
    "invalid_sent": 0,
    "invalid_refused": 0,
    "statuses": {},
}


def screening_number() -> str:
    """The next bench number, of site 00: the demo data's sites are 01-99."""
    n = next(_numbers)
    if n > 9999:
        raise RuntimeError("site 00 has no bench screening number left (00-9999 used)")
    return f"00-{n:04d}"


_logged_in = {"users": 0}


def _all_logged_in(environment) -> None:
    """Start the figures afresh once every user is logged in.

    Logging in hashes the password (PBKDF2, deliberately slow): 20 logins at
    once queue for seconds and are not what the pages cost.
    """
    _logged_in["users"] += 1
    runner = environment.runner
    classes = {cls.__name__: cls for cls in environment.user_classes}
    expected = sum(
        count
        for name, count in runner.target_user_classes_count.items()
        if issubclass(classes[name], _LoggedIn)
    )
    if _logged_in["users"] == expected:
        # Counts of submissions stay whole: the database check covers the phase.
        runner.stats.reset_all()


class _LoggedIn(HttpUser):
    abstract = True
    username = ""

    def on_start(self):
        self.rng = random.Random()
        page = self.client.get("/accounts/login/", name="login form")
        token = _TOKEN_RE.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
        _all_logged_in(self.environment)

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")


class _Coordinator(_LoggedIn):
    abstract = True
    username = "demo-coordinator"
    follow_result = True

    def submit_valid(self):
        data = valid_post(screening_number(), self.rng)
        data["csrfmiddlewaretoken"] = self.csrf()
        COUNTS["valid_sent"] += 1
        with self.client.post(
            SCREEN,
            data=data,
            allow_redirects=False,
            name="screen POST valid",
            catch_response=True,
        ) as response:
            status = str(response.status_code)
            COUNTS["statuses"][status] = COUNTS["statuses"].get(status, 0) + 1
            if response.status_code == 302 and "/decisions/" in response.headers.get(
                "Location", ""
            ):
                COUNTS["accepted"] += 1
                COUNTS["accepted_numbers"].append(data["screening_number"])
                location = response.headers["Location"]
            else:
                response.failure(f"valid submission answered {status}")
                return
        if self.follow_result:
            self.client.get(location, name="result page (after submit)")

    def submit_invalid(self):
        data = valid_post(screening_number(), self.rng)
        # An implausible INR and a letter in a number: refused, nothing saved.
        data.update(inr="99", pta_percent="3O", csrfmiddlewaretoken=self.csrf())
        COUNTS["invalid_sent"] += 1
        with self.client.post(
            SCREEN,
            data=data,
            allow_redirects=False,
            name="screen POST invalid",
            catch_response=True,
        ) as response:
            if response.status_code == 200 and "is-invalid" in response.text:
                COUNTS["invalid_refused"] += 1
            else:
                response.failure(f"invalid submission answered {response.status_code}")


class Coordinator(_Coordinator):
    """Opens the form, submits it (4 in 5 valid), looks at the result."""

    weight = 10
    wait_time = WAIT

    @task(4)
    def screen_valid(self):
        self.client.get(SCREEN, name="screen form")
        self.submit_valid()

    @task(1)
    def screen_invalid(self):
        self.client.get(SCREEN, name="screen form")
        self.submit_invalid()


class Monitor(_LoggedIn):
    """Browses the log, its filters, sorts and pages, and record pages."""

    weight = 8
    wait_time = WAIT
    username = "demo-monitor"

    @task(3)
    def log(self):
        self.client.get(LOG, name="log")

    @task(2)
    def log_filtered(self):
        outcome = self.rng.choice(["INELIGIBLE", "INCOMPLETE", "ELIGIBLE"])
        blocking = self.rng.choice(["E4", "I3", "I5", ""])
        self.client.get(
            f"{LOG}?outcome={outcome}&blocking={blocking}", name="log filtered"
        )

    @task(1)
    def log_sorted_paged(self):
        page = self.rng.randint(2, 200)
        self.client.get(f"{LOG}?sort=-meld&page={page}", name="log sorted, page N")

    @task(3)
    def record(self):
        pk = self.rng.randint(PK_MIN, PK_MAX)
        self.client.get(f"/decisions/{pk}/", name="record page")

    @task(1)
    def funnel(self):
        self.client.get(f"/trials/{TRIAL}/funnel/", name="funnel")


class Reference(HttpUser):
    """The minimal view: one INSERT, same server and middleware."""

    weight = 2
    wait_time = WAIT

    @task
    def insert(self):
        self.client.post(
            "/bench/reference/", data={"payload": "x"}, name="reference INSERT"
        )


class SubmitCapacity(_Coordinator):
    """Valid submissions back to back, no think time: the throughput."""

    wait_time = between(0, 0)
    follow_result = False

    @task
    def screen_valid(self):
        self.submit_valid()


class ReferenceCapacity(Reference):
    wait_time = between(0, 0)


class FloorCapacity(HttpUser):
    """The raw-SQL floor of a submission (one decision, its outcome rows and the
    chain's HMAC in one transaction), back to back."""

    wait_time = between(0, 0)

    @task
    def write(self):
        self.client.post(
            "/bench/floor-submission/", data={"payload": "x"}, name="floor submission"
        )


@events.test_stop.add_listener
def _write_counts(environment, **_kwargs):
    path = os.environ.get("BENCH_COUNTS")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(COUNTS, handle)
