"""Validation messages in Estonian and English, keyed by a stable problem code."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (Estonian, English)
    "file_missing": ("fail puudub", "the file is missing"),
    "file_empty": ("fail on tühi (päiserida puudub)", "the file is empty (no header row)"),
    "file_not_utf8": ("fail ei ole UTF-8 kodeeringus (vigane bait {byte})",
                      "the file is not UTF-8 text (invalid byte {byte})"),
    "file_not_csv": ("faili ei saa lugeda CSV-na: {detail}", "cannot be read as CSV: {detail}"),
    "file_no_rows": ("failis pole ühtegi andmerida", "the file has no data rows"),
    "file_unreadable": ("faili ei saa lugeda: {detail}", "the file cannot be read: {detail}"),
    "row_field_count": ("real on {found} välja, päises {expected}",
                        "the row has {found} fields, the header has {expected}"),
    "column_missing": ("kohustuslik veerg puudub", "a required column is missing"),
    "column_duplicate": ("veerg on päises mitu korda", "the column appears more than once"),
    "value_required": ("väärtus on kohustuslik", "a value is required"),
    "code_unknown": ("tundmatu kood „{value}“; lubatud: {allowed}",
                     "unknown code '{value}'; allowed: {allowed}"),
    "site_unknown": ("haigla kood „{value}“ puudub failist sites.csv; lubatud: {allowed}",
                     "site '{value}' is not in sites.csv; allowed: {allowed}"),
    "site_malformed": ("haigla kood „{value}“ peab olema 1–16 suurtähte, numbrit, - või _",
                       "site code '{value}' must be 1–16 capital letters, digits, - or _"),
    "date_malformed": ("„{value}“ ei ole kuupäev kujul AAAA-KK-PP",
                       "'{value}' is not a date in the form YYYY-MM-DD"),
    "date_impossible": ("„{value}“ ei ole kalendris olemas olev kuupäev",
                        "'{value}' is not a real calendar date"),
    "date_implausible": ("kuupäev {value} on enne aastat 1900", "the date {value} is before 1900"),
    "date_after_cutoff": ("kuupäev {value} on pärast andmete lõppkuupäeva {cutoff}",
                          "the date {value} is after the data cut-off {cutoff}"),
    "number_malformed": ("„{value}“ ei ole arv", "'{value}' is not a number"),
    "number_out_of_range": ("{value} on väljaspool lubatud vahemikku {minimum}…{maximum}",
                            "{value} is outside the allowed range {minimum}…{maximum}"),
    "duplicate_patient": ("patient_id {value} esineb mitu korda (esmakordselt real {first_line})",
                          "patient_id {value} appears more than once (first on line {first_line})"),
    "duplicate_code": ("kood {value} esineb mitu korda", "the code {value} appears more than once"),
    "patient_unknown": ("patient_id {value} puudub failist patients.csv",
                        "patient_id {value} is not in patients.csv"),
    "end_reason_without_date": ("ravi lõpu põhjus on antud, kuid therapy_end_date on tühi",
                                "therapy_end_reason is set but therapy_end_date is empty"),
    "end_date_without_reason": ("ravi lõpu kuupäev on antud, kuid therapy_end_reason on tühi",
                                "therapy_end_date is set but therapy_end_reason is empty"),
    "initial_missing": ("patsiendil puudub esmane implantatsioon (kind = initial)",
                        "the patient has no initial implantation (kind = initial)"),
    "initial_repeated": ("patsiendil on {count} esmast implantatsiooni; lubatud on täpselt üks",
                         "the patient has {count} initial implantations; exactly one is allowed"),
    "initial_not_earliest": (
        "see implantatsioon ({value}) on varasem kui esmane implantatsioon ({initial})",
        "this implantation ({value}) is earlier than the initial implantation ({initial})"),
    "implant_before_birth": ("implantatsioon {value} on enne sünnikuupäeva {birth}",
                             "the implantation {value} is before the birth date {birth}"),
    "before_first_implant": ("kuupäev {value} on enne esimest implantatsiooni ({first})",
                             "the date {value} is before the first implantation ({first})"),
    "after_therapy_end": ("kuupäev {value} on pärast ravi lõppu ({end})",
                          "the date {value} is after the end of therapy ({end})"),
    "pump_field_on_revision": (
        "revisioonil uut pumpa ei paigaldata: jäta {column} tühjaks",
        "a revision places no new pump: leave {column} empty"),
    "screening_dose_unknown": (
        "proovidoos {value} µg ei ole lubatud; lubatud: {allowed} µg",
        "{value} µg is not a trial dose; allowed: {allowed} µg"),
    "trial_before_birth": ("proovidoosi kuupäev {value} on enne sünnikuupäeva {birth}",
                           "the trial date {value} is before the birth date {birth}"),
    "trial_after_implant": (
        "proovidoos {value} on pärast esimest implantatsiooni ({first}); skriining eelneb "
        "implantatsioonile",
        "the trial {value} is after the first implantation ({first}); screening precedes "
        "the implantation"),
    "value_out_of_scale": ("„{value}“ ei sobi skaalale {instrument} (lubatud: {allowed})",
                           "'{value}' is not on the {instrument} scale (allowed: {allowed})"),
    "cutoff_malformed": ("andmete lõppkuupäev „{value}“ ei ole kuupäev kujul AAAA-KK-PP",
                         "the data cut-off '{value}' is not a date in the form YYYY-MM-DD"),
    "dataset_malformed": ("faili dataset.toml ei saa lugeda: {detail}",
                          "dataset.toml cannot be read: {detail}"),
    "text_too_long": ("tekst on pikem kui {maximum} märki",
                      "the text is longer than {maximum} characters"),
    # The personal code (isikukood) itself never appears in a message: messages reach logs.
    "personal_code_format": ("isikukood peab olema 11 numbrit",
                             "the personal code must be 11 digits"),
    "personal_code_century": (
        "isikukoodi esimene number (sugu ja sünnisajand) peab olema 1–6",
        "the first digit of the personal code (sex and century of birth) must be 1–6"),
    "personal_code_birth_date": (
        "isikukoodi numbrid 2–7 ei ole kalendris olemas olev sünnikuupäev",
        "digits 2–7 of the personal code are not a real calendar date of birth"),
    "personal_code_checksum": (
        "isikukoodi kontrollnumber (viimane number) ei klapi; kas mõni number on vale?",
        "the check digit (the last digit) of the personal code does not match; is a digit "
        "wrong?"),
    "personal_code_sex_mismatch": ("isikukoodi järgi on patsiendi sugu teine",
                                   "the personal code gives the patient the other sex"),
    "personal_code_birth_mismatch": (
        "isikukoodi sünnikuupäev erineb patsiendi sünnikuupäevast",
        "the personal code's birth date differs from the patient's birth date"),
    "personal_code_duplicate": (
        "sama isikukood on juba patsiendil {other} (real {first_line})",
        "the same personal code is already given for patient_id {other} (line {first_line})"),
    "personal_code_in_registry": (
        "sama isikukood on registris juba patsiendil {other}",
        "the same personal code is already in the registry for patient_id {other}"),
}


def message(code: str, lang: str = "en", /, **params: Any) -> str:
    # Positional-only: a parameter may itself be called ``code`` (the column of sites.csv).
    et, en = MESSAGES[code]
    return (et if lang == "et" else en).format(**params)
