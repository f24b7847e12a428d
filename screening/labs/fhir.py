"""A FHIR R4 Bundle of Observations, read with ``fhir.resources``.

The bundle is validated as FHIR by the library (its R4B models: R4B changed
nothing in Bundle or Observation that this reads), then each Observation gives
one ``reading.Result``: the patient is ``subject.identifier.value`` (the
trial's screening number), the test its LOINC coding, the value
``valueQuantity`` (``comparator`` kept: ``<0.05`` is censored, never 0.05),
the unit its UCUM ``code`` mapped through ``units.UCUM_UNITS`` (or, without a
UCUM code, its ``unit`` as written), the collection time ``effectiveDateTime``
and the laboratory's upper limit ``referenceRange.high``. Numbers are read
from the JSON text as decimals, so ``1.20`` stays ``1.20``. Entries that are
not Observations (a Patient, a DiagnosticReport) carry no result and are
passed over.
"""

import json
from decimal import Decimal

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from screening.domain import units
from screening.labs.reading import LabFileError, LabProblem, Result

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
FINAL_STATUSES = ("final", "amended", "corrected")
COMPARATORS = ("<", "<=", ">=", ">")


def _number(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _json(text: str):
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise LabFileError(
            [LabProblem("", "", "not_json", {"detail": str(exc)[:120]})]
        ) from None


def _raw_times(data) -> dict[int, object]:
    """effectiveDateTime as written, by entry (the library parses it to a date)."""
    times = {}
    entries = data.get("entry") if isinstance(data, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            times[index] = resource.get("effectiveDateTime")
    return times


def read_bundle(text: str) -> list[Result]:
    """The bundle's Observations as results; ``LabFileError`` if not FHIR."""
    data = _json(text)
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else type(data)
        raise LabFileError([LabProblem("", "", "not_bundle", {"type": str(kind)[:40]})])
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        raise LabFileError(
            [
                LabProblem(
                    ".".join(str(p) for p in error["loc"]),
                    "",
                    "fhir_invalid",
                    {"detail": str(error["msg"])[:160]},
                )
                for error in exc.errors()[:50]
            ]
        ) from None
    except (TypeError, ValueError) as exc:
        raise LabFileError(
            [LabProblem("", "", "fhir_invalid", {"detail": str(exc)[:160]})]
        ) from None
    raw_times = _raw_times(data)
    results = []
    for index, entry in enumerate(bundle.entry or ()):
        resource = entry.resource
        if resource is None or resource.get_resource_type() != "Observation":
            continue
        results.append(_result(index, resource, raw_times.get(index)))
    return results


def _result(index: int, obs, raw_time) -> Result:
    where = f"entry[{index}]" + (f" ({obs.id})" if obs.id else "")
    problem = None
    if obs.status not in FINAL_STATUSES:
        problem = LabProblem(
            where, "status", "status_not_final", {"status": obs.status}
        )
    patient = None
    if obs.subject is not None and obs.subject.identifier is not None:
        patient = obs.subject.identifier.value
    test = _loinc(obs)
    value = unit = comparator = None
    mapped = False
    quantity = obs.valueQuantity
    if quantity is None:
        # A result given otherwise (valueString "<0.05", a coded value) is not
        # read: only a quantity says its unit.
        other = any(
            getattr(obs, name, None) is not None
            for name in ("valueString", "valueCodeableConcept", "valueInteger")
        )
        if other:
            problem = problem or LabProblem(where, "value", "value_not_quantity")
    else:
        value = _number(quantity.value)
        comparator = quantity.comparator or ""
        if comparator and comparator not in COMPARATORS:
            problem = problem or LabProblem(
                where, "value", "comparator_not_accepted", {"comparator": comparator}
            )
            comparator = ""
        unit, mapped = _unit(quantity)
    uln = uln_unit = None
    for reference in obs.referenceRange or ():
        if reference.high is not None and reference.high.value is not None:
            uln = _number(reference.high.value)
            uln_unit, mapped_uln = _unit(reference.high)
            if not uln_unit:
                uln_unit = None  # no unit of its own: the value's
            elif not mapped_uln:
                uln_unit = units.UNIT_ALIASES.get(uln_unit, uln_unit)
            break
    return Result(
        where=where,
        position=index,
        patient=patient,
        test=test,
        value=value,
        unit=unit,
        unit_mapped=mapped,
        uln=uln,
        uln_unit=uln_unit,
        time=raw_time if isinstance(raw_time, str) else None,
        comparator=comparator or "",
        problem=problem,
    )


def _loinc(obs) -> str | None:
    codings = (obs.code.coding or ()) if obs.code is not None else ()
    loinc = [c.code for c in codings if c.system == LOINC_SYSTEM and c.code]
    if loinc:
        return loinc[0]
    # No LOINC coding: the first code, which is then refused by name.
    for coding in codings:
        if coding.code:
            return f"{coding.system or ''}|{coding.code}"
    return obs.code.text if obs.code is not None else None


def _unit(quantity) -> tuple[str | None, bool]:
    """(unit, whether it is already a registry unit) of a FHIR Quantity."""
    if quantity.system == UCUM_SYSTEM and quantity.code:
        mapped = units.UCUM_UNITS.get(quantity.code)
        if mapped is not None:
            return mapped, True
        return quantity.code, False
    return quantity.unit or quantity.code, False
