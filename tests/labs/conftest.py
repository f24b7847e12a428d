import copy
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def bundle(edit=None) -> dict:
    """The fixture bundle (TBil, INR, creatinine, IL-6 of 01-001), maybe edited."""
    data = json.loads(fixture_bytes("bundle.json"))
    if edit is not None:
        data = copy.deepcopy(data)
        edit(data)
    return data


def bundle_bytes(edit=None) -> bytes:
    return json.dumps(bundle(edit), ensure_ascii=False).encode("utf-8")


def observation(data: dict, index: int) -> dict:
    return data["entry"][index]["resource"]


@pytest.fixture
def import_bundle(trial, coordinator):
    from screening.labs.models import LabImport
    from screening.labs.services import lab_import

    def _import(content: bytes | None = None, user=None, **kwargs):
        return lab_import(
            trial=trial,
            user=user or coordinator,
            content=content if content is not None else fixture_bytes("bundle.json"),
            channel=LabImport.Channel.PAGE,
            **kwargs,
        )

    return _import


# The API's clients with a token per role (and a member of another trial).
from tests.api.conftest import as_role, other_trial, outsider, tokens  # noqa: E402, F401
