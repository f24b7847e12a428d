from screening.models import EligibilityDecision
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL, screening_post


def test_scratch(client, trial, coordinator):
    client.force_login(coordinator)
    c = eligible_candidate(tbil_series=[])
    client.raise_request_exception = False
    r = client.post(SCREEN_URL, screening_post(c, tbil_time="0001-01-01T00:00"))
    print(r.status_code)
    r = client.post(SCREEN_URL, screening_post(c, tbil_time="0001-01-01T12:00", screening_number="01-002"))
    print(r.status_code)
    r = client.post(SCREEN_URL, screening_post(c, tbil_time="1900-01-01T12:00", screening_number="01-003"))
    print(r.status_code)
    r = client.get("/trials/nct06904755/log/?date_from=0001-01-01&date_to=9999-12-31&recorded_by=99999999999999999999&page=-1&sort=x")
    print(r.status_code)
    r = client.get("/trials/nct06904755/funnel/?date_from=0001-01-01&date_to=9999-12-31")
    print(r.status_code)
    r = client.get("/trials/nct06904755/log/export/?recorded_by=99999999999999999999")
    print(r.status_code, b"".join(r.streaming_content)[:100] if r.status_code==200 else "")
