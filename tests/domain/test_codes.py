"""Code lists: every code labelled in both languages, groups known."""

from __future__ import annotations

import pytest

from itb.domain import codes
from itb.domain.codes import ALL_CODE_LISTS, CodeList


@pytest.mark.parametrize("code_list", ALL_CODE_LISTS, ids=lambda c: c.name)
def test_every_code_has_an_estonian_and_an_english_label(code_list: CodeList) -> None:
    for item in code_list:
        assert item.et.strip() and item.en.strip(), item.code
        assert code_list.label(item.code, "et") == item.et
        assert code_list.label(item.code, "en") == item.en


@pytest.mark.parametrize("code_list", ALL_CODE_LISTS, ids=lambda c: c.name)
def test_codes_are_unique(code_list: CodeList) -> None:
    assert len(set(code_list.codes)) == len(code_list.codes)


def test_the_issue_code_lists_are_complete() -> None:
    assert codes.DIAGNOSIS.codes == (
        "cerebral_palsy", "hereditary_spastic_paraplegia", "multiple_sclerosis",
        "brain_spinal_cord_injury", "neuroinfection", "autoimmune_encephalitis", "other")
    assert codes.SYNDROME.codes == (
        "spastic_tetraparesis", "spastic_paraparesis", "spastic_hemiparesis",
        "generalised_dystonia", "spastic_tetraparesis_dystonia")
    assert set(codes.COMPLICATION_TYPE.codes) == {
        "csf_leak", "catheter_break", "catheter_kink", "catheter_occlusion",
        "catheter_disconnection", "catheter_migration", "infection", "pump_malfunction",
        "wound_dehiscence", "seroma", "withdrawal", "overdose", "other"}
    assert codes.PUMP_MODEL.codes == (
        "synchromed_ii", "synchromed_iii", "prometra_ii", "constant_flow", "other")
    assert codes.INSTRUMENT.codes == (
        "mas", "tardieu", "goniometry", "gmfm", "penn", "pain_nrs", "gmfcs")


def test_tip_levels_run_c1_to_l5() -> None:
    levels = codes.CATHETER_TIP_LEVEL.codes
    assert len(levels) == 7 + 12 + 5
    assert levels[0] == "C1" and levels[7] == "T1" and levels[-1] == "L5"
    assert codes.CATHETER_TIP_LEVEL.label("T10", "et") == "T10 (10. rinnalüli)"


def test_every_complication_type_belongs_to_a_known_group() -> None:
    groups = set(codes.COMPLICATION_GROUP.codes)
    for item in codes.COMPLICATION_TYPE:
        assert item.group in groups, item.code
    assert codes.complication_group("catheter_kink") == "catheter"
    assert codes.complication_group("csf_leak") == "procedure"
    assert codes.complication_group("withdrawal") == "drug"


def test_estonian_labels_follow_the_article() -> None:
    assert codes.DIAGNOSIS.label("cerebral_palsy", "et") == "Laste tserebraalparalüüs"
    assert codes.COMPLICATION_TYPE.label("catheter_kink", "et") == "Kateetri niverdumine"
    assert codes.SYNDROME.label("spastic_tetraparesis_dystonia", "et") == (
        "Spastiline tetraparees + düstoonia")


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert codes.SEX.label("X", "en") == "X"
