"""The Simplified Chinese catalogue: complete, well-formed, compiled and in use."""

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation.template import templatize

PO_PATH = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# %(name)s style and bare %s/%d; "30% < PTA" or "(PTA, %)" are not placeholders.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")
# What `makemessages` reads: the project less these folders (its --ignore list),
# with Django's gettext keywords.
NOT_SCANNED = {".venv", "staticfiles", "test-artifacts", "tests", "bench"}
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    # The pure domain marks its words with N_ (makemessages -k N_).
    "N_": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def _catalog():
    with PO_PATH.open("rb") as po_file:
        return read_po(po_file)


def _messages():
    return [m for m in _catalog() if m.id]


def _ids(message) -> tuple[str, ...]:
    return tuple(message.id) if message.pluralizable else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def _key(msgid):
    return msgid if isinstance(msgid, str) else tuple(msgid)


def _source_files(suffix: str):
    base = Path(settings.BASE_DIR)
    for path in sorted(base.rglob(f"*{suffix}")):
        folders = path.relative_to(base).parts[:-1]
        if not any(p in NOT_SCANNED or p.startswith(".") for p in folders):
            yield path


def _msgids_in_code() -> set:
    """Every msgid in Python and templates, extracted as makemessages does."""
    found = set()
    sources = [(p, p.read_bytes()) for p in _source_files(".py")]
    sources += [
        (p, templatize(p.read_text("utf-8"), origin=str(p)).encode("utf-8"))
        for p in _source_files(".html")
    ]
    for _path, source in sources:
        for _line, msgid, _comments, _context in extract(
            "python", io.BytesIO(source), keywords=KEYWORDS
        ):
            found.add(_key(msgid))
    return found


@pytest.fixture
def compiled(settings):
    """Compile the catalogues and make Django reload them (LOCALE_PATHS changes)."""
    call_command("compile_translations")
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)
    yield
    translation.deactivate()


def test_header_is_for_simplified_chinese():
    catalog = _catalog()
    assert str(catalog.locale) == "zh_Hans"
    assert catalog.charset.lower() == "utf-8"
    assert catalog.num_plurals == 1
    assert catalog.plural_expr.strip() == "0"
    assert not catalog.fuzzy


def test_catalogue_covers_many_messages():
    assert len(_messages()) > 300


def test_catalogue_has_every_string_of_the_code():
    """When this fails, update and translate the catalogue:

    manage.py makemessages -l zh_Hans --no-location --ignore=.venv
    --ignore=staticfiles --ignore=test-artifacts --ignore=tests --ignore=bench
    """
    in_catalogue = {_key(m.id) for m in _messages()}
    in_code = _msgids_in_code()
    assert sorted(map(str, in_code - in_catalogue)) == []
    assert sorted(map(str, in_catalogue - in_code)) == []


def test_no_untranslated_entries():
    untranslated = [
        _ids(m)[0] for m in _messages() if not all(s.strip() for s in _strings(m))
    ]
    assert untranslated == []


def test_no_fuzzy_entries():
    assert [_ids(m)[0] for m in _messages() if m.fuzzy] == []


def test_plural_entries_fill_the_single_chinese_form():
    plurals = [m for m in _messages() if m.pluralizable]
    assert plurals
    for message in plurals:
        assert len(_strings(message)) == 1, message.id
        assert _strings(message)[0].strip(), message.id


def test_placeholders_are_kept():
    problems = []
    for message in _messages():
        wanted = {p for msgid in _ids(message) for p in PLACEHOLDER.findall(msgid)}
        for msgstr in _strings(message):
            missing = wanted - set(PLACEHOLDER.findall(msgstr))
            extra = set(PLACEHOLDER.findall(msgstr)) - wanted
            if missing or extra:
                problems.append((_ids(message)[0], sorted(missing), sorted(extra)))
    assert problems == []


def test_units_are_kept_as_written():
    for message in _messages():
        for unit in ("μmol/L", "mg/dL", "g/L", "pg/mL", "ng/mL", "mmol/L", "mg/L"):
            if unit in message.id and not message.pluralizable:
                assert unit in message.string, (message.id, unit)


def test_compile_translations_writes_the_mo_file(compiled):
    mo_path = PO_PATH.with_suffix(".mo")
    assert mo_path.exists()
    assert mo_path.stat().st_mtime >= PO_PATH.stat().st_mtime


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("Screening log", "筛选日志"),
        ("TBil", "总胆红素"),
        ("Current total bilirubin (TBil)", "总胆红素"),
        ("Prothrombin activity (PTA)", "凝血酶原活动度"),
        ("INR", "国际标准化比值"),
        ("Hepatic encephalopathy (West Haven grade)", "肝性脑病"),
        ("Hepatic encephalopathy (West Haven grade)", "West Haven分级"),
        ("MELD", "终末期肝病模型评分"),
        ("Creatinine", "肌酐"),
        ("Albumin", "白蛋白"),
        ("Sodium", "血钠"),
        ("IL-6", "白细胞介素-6"),
        ("TNF-α", "肿瘤坏死因子-α"),
        ("CRP", "C反应蛋白"),
        ("PCT", "降钙素原"),
        ("the upper limit of normal must be above 0", "正常值上限"),
        ("Written informed consent", "知情同意书"),
        ("Diffuse intravascular coagulation", "弥散性血管内凝血"),
        ("Circulatory failure", "循环衰竭"),
        ("Dialysis at least twice, or 24 hours of CVVHD, in the past week", "透析"),
        (
            "Dialysis at least twice, or 24 hours of CVVHD, in the past week",
            "连续性静脉-静脉血液透析",
        ),
        ("Screening number", "筛选号"),
        ("Initials", "姓名缩写"),
        ("Eligible", "符合入选"),
        ("Ineligible", "不符合入选"),
        ("Incomplete", "资料不全"),
        ("Inclusion", "入选标准"),
        ("Exclusion", "排除标准"),
        ("Sign off", "签字确认"),
        ("Can view audit trails and access logs", "稽查轨迹"),
        ("Bulk pre-screening", "预筛选"),
        ("Early (30% < PTA ≤ 40%)", "早期"),
        ("Intermediate (20% < PTA ≤ 30%)", "中期"),
        ("Late (PTA ≤ 20%)", "晚期"),
        ("Correction", "更正"),
        ("This record has already been superseded.", "取代"),
    ],
)
def test_standard_clinical_terms(compiled, msgid, expected):
    with translation.override("zh-hans"):
        assert expected in gettext(msgid)


def test_form_labels_and_placeholders_in_use(compiled):
    from screening.decisions.forms import ScreeningForm, TbilMeasurementForm

    with translation.override("zh-hans"):
        form = ScreeningForm()
        assert "总胆红素" in str(form.fields["tbil_value"].label)
        assert "总胆红素" in str(TbilMeasurementForm().fields["value"].label)
        assert "肝性脑病" in str(form.fields["he_grade"].label)
        assert ngettext("%(n)s record", "%(n)s records", 3) % {"n": 3} == "3 条记录"
        message = gettext(
            "Implausible value: must be between %(low)s and %(high)s %(unit)s."
        ) % {"low": "0", "high": "1500", "unit": "μmol/L"}
        assert "0" in message and "1500 μmol/L" in message
    with translation.override("en"):
        assert gettext("Screening log") == "Screening log"
