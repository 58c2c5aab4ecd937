"""The report's words in Estonian (following the article's own wording) and English."""

from __future__ import annotations

from typing import Any

TEXT: dict[str, tuple[str, str]] = {
    # key: (Estonian, English)
    "report_title": ("Intratekaalse baklofeenravi registri aruanne",
                     "Intrathecal baclofen therapy registry report"),
    "dataset": ("Andmestik", "Data set"),
    "cutoff": ("Andmete lõppkuupäev", "Data cut-off"),
    "software": ("Koostatud tarkvaraga", "Produced by"),
    "contents": ("Sisukord", "Contents"),
    "flow_title": ("Patsientide kulg", "Patient flow"),
    "flow_implanted": ("ITB-pump paigaldatud", "Received an ITB pump"),
    "flow_on_therapy": ("Pumbaravil andmete lõppkuupäeval", "On pump therapy at the cut-off"),
    "flow_ended": ("Pumbaravi lõppes: {reason}", "Therapy ended: {reason}"),
    "patients_n": ("Patsiente, n", "Patients, n"),
    "table1_title": ("Tabel 1. Uuritavate demograafilised ja kliinilised näitajad",
                     "Table 1. Demographic and clinical characteristics of the patients"),
    "characteristic": ("Näitaja", "Characteristic"),
    "group_overall": ("Kõik", "All"),
    "group_low": ("Madal funktsionaalsus", "Low functional level"),
    "group_high": ("Kõrge funktsionaalsus", "High functional level"),
    "group_header": ("{label} (n = {n})", "{label} (n = {n})"),
    "age_median_iqr": ("Mediaanvanus implantatsioonil, aasta (kvartiilide vahe)",
                       "Median age at implantation, years (IQR)"),
    "age_quartiles": ("Vanuse kvartiilid (Q1–Q3), aasta", "Age quartiles (Q1–Q3), years"),
    "age_range": ("Vanusevahemik, aasta", "Age range, years"),
    "age_bands": ("Vanus esmasel implantatsioonil, n (%)", "Age at first implantation, n (%)"),
    "age_band": ("{band} aastat", "{band} years"),
    "usage_mean_sd": ("Keskmine ITB-pumba kasutusaeg, aasta (SD)",
                      "Mean ITB pump usage time, years (SD)"),
    "sex": ("Sugu, n (%)", "Sex, n (%)"),
    "syndrome": ("Kliinilised sündroomid, n (%)", "Clinical syndromes, n (%)"),
    "diagnosis": ("Diagnoosid, n (%)", "Diagnoses, n (%)"),
    "contractures_before": ("Kontraktuuride esinemine enne implantatsiooni, n (%)",
                            "Contractures before implantation, n (%)"),
    "pump_implantations": ("ITB-pumba implantatsioonide arv, n (%)",
                           "Number of pump implantations, n (%)"),
    "times": ("{count} korda", "{count} time(s)"),
    "catheter_type": ("Kateetri tüüp, n (%)", "Catheter type, n (%)"),
    "catheter_tip_level": ("Kateetri tipu asukoht, n (%)", "Catheter tip level, n (%)"),
    "unknown": ("Teadmata", "Unknown"),
    "other_diagnoses_note": ("* Muud diagnoosid: {details}.", "* Other diagnoses: {details}."),
    "figure2_title": (
        "Joonis 2. Intratekaalse baklofeenravi pumba esmaste implantatsioonide arv aastate "
        "kaupa ({cutoff} seisuga)",
        "Figure 2. First implantations of an intrathecal baclofen pump per year "
        "(as of {cutoff})"),
    "figure2_alt": ("Tulpdiagramm: esmased implantatsioonid aastas haiglate kaupa",
                    "Bar chart: first implantations per year, stacked by site"),
    "year": ("Aasta", "Year"),
    "first_implantations": ("Esmaseid implantatsioone", "First implantations"),
    "site": ("Haigla", "Site"),
    "total": ("Kokku", "Total"),
    "table2_title": ("Tabel 2. Intratekaalse baklofeenravi tüsistuste esinemine ja jaotuvus ajas",
                     "Table 2. Complications of intrathecal baclofen therapy and their timing"),
    "complication": ("Tüsistus", "Complication"),
    "complication_group": ("Tüsistuste rühm", "Group"),
    "events_n": ("Esinemiste arv (n)", "Events (n)"),
    "patients_with_n": ("Patsiente (n)", "Patients (n)"),
    "mean_months": ("Keskmine tüsistuse ilmnemiseni kulunud aeg (kuudes)",
                    "Mean time to onset (months)"),
    "no_complications": ("Tüsistusi ei esinenud.", "No complications were recorded."),
    "proportion_title": ("Tüsistuste esinemissagedus", "Complication proportion"),
    "proportion_text": (
        "Tüsistusi esines {patients} patsiendil {n}-st ({percent}%); tüsistusi kokku {events}.",
        "{patients} of {n} patients ({percent}%) had at least one complication; "
        "{events} complications in all."),
    "ci_method": ("95% usaldusvahemiku meetod", "95% confidence interval method"),
    "ci_interval": ("95% usaldusvahemik", "95% confidence interval"),
    "ci_wald": ("Waldi (uuringus kasutatud)", "Wald (the study's)"),
    "ci_wilson": ("Wilsoni", "Wilson"),
    "ci_clopper_pearson": ("Clopper–Pearsoni („täpne“)", "Clopper–Pearson ('exact')"),
    "ci_recommendation": (
        "Nii väikese valimi korral soovitame Wilsoni vahemikku: Waldi vahemiku tegelik katvus "
        "jääb väikese valimi ja nullilähedase osakaalu korral alla 95%, Clopper–Pearsoni vahemik "
        "on aga tarbetult lai.",
        "For a sample this small we recommend the Wilson interval: the Wald interval covers "
        "the true proportion less often than 95% when n is small or the proportion is near 0, "
        "and Clopper–Pearson is wider than it needs to be."),
    "per_patient_title": ("Tüsistuste arv patsiendi kohta", "Complications per patient"),
    "complications_count": ("{count} tüsistus(t)", "{count} complication(s)"),
    "group_table_title": ("Tüsistused rühmade kaupa", "Complications by group"),
    "assessments_title": ("Tabel 3. Spastilisuse hindamise mõõdikud skriiningfaasis ja "
                          "operatsioonijärgsel jälgimisel",
                          "Table 3. Spasticity assessment instruments used in screening and "
                          "follow-up"),
    "instruments": ("Kasutatud mõõdikud", "Instruments used"),
    "patients_pct": ("Patsiente, n (%)", "Patients, n (%)"),
    "no_assessment": ("Andmed spastilisuse hindamise kohta puuduvad",
                      "No assessment recorded"),
    "only": ("ainult {label}", "{label} only"),
    "definitions_title": ("Mõisted", "Definitions"),
    "definitions": (
        "Vanus: täisaastad esmasel implantatsioonil. Kasutusaeg: aastad (365,25 päeva) esmasest "
        "implantatsioonist ravi lõpuni või andmete lõppkuupäevani. Pumba implantatsioonid: "
        "esmased ja pumba vahetused. Aeg tüsistuseni: kuud (30,4375 päeva) viimasest sellele "
        "eelnenud operatsioonist. Kvartiilid lineaarse interpolatsiooniga (R tüüp 7), SD valimi "
        "standardhälve. Kateetri tüüp ja tipu asukoht esmase implantatsiooni järgi.",
        "Age: completed years at the first implantation. Usage time: years (365.25 days) from "
        "the first implantation to the end of therapy or the data cut-off. Pump implantations: "
        "initial implantations and pump replacements. Time to a complication: months "
        "(30.4375 days) since the latest surgery on or before it. Quartiles by linear "
        "interpolation (R type 7); SD is the sample SD. Catheter type and tip level are those "
        "of the initial implantation."),
    # --- follow-up (issue 4): docs/follow-up.md ---
    "fu_title": ("Järelkontroll: pumba täitmised ja vahetused",
                 "Follow-up: pump refills and replacements"),
    "fu_value": ("Väärtus", "Value"),
    "fu_patient_years": ("Pumbaravi kokku, patsiendiaastat", "Pump therapy, patient-years"),
    "fu_refills": ("Täitmisi, n", "Refills, n"),
    "fu_refills_per_year": ("Täitmisi patsiendiaasta kohta", "Refills per patient-year"),
    "fu_on_time": ("Täitmisi õigel ajal, n / vahemikke (%)",
                   "Refills on time, n / intervals (%)"),
    "fu_replacements": ("Pumba vahetusi, n", "Pump replacements, n"),
    "fu_replaced_early": ("Pumpi vahetatud enne kasutusea lõppu, n / pumpi (%)",
                          "Pumps replaced before the end of their service life, n / pumps (%)"),
    "fu_reached_end": ("Pumpi jõudnud kasutusea lõppu, n / pumpi (%)",
                       "Pumps that reached the end of their service life, n / pumps (%)"),
    "fu_in_window": ("Andmete lõppkuupäeval vahetuse ajavahemikus, n",
                     "In their replacement window at the cut-off, n"),
    "fu_past_life": ("Andmete lõppkuupäeval üle kasutusea, n",
                     "Past their service life at the cut-off, n"),
    "fu_note": (
        "Patsiendiaastad esmasest implantatsioonist ravi lõpu või andmete lõppkuupäevani. "
        "Täitmine on õigel ajal, kui see on hiljemalt eelmise täitmise järgi arvutatud "
        "tähtpäeval (reservuaari alarm või ravimi 180-päevane stabiilsus); vahemikku, mille "
        "jooksul paigaldati uus pump, ei loeta. Kasutusiga mudeli järgi (SynchroMed II/III "
        "7 aastat, Prometra II 10 aastat; gaasirõhuga pumbal ja tundmatul mudelil puudub). "
        "Arvutused: docs/follow-up.et.md.",
        "Patient-years from the first implantation to the end of therapy or the data cut-off. "
        "A refill is on time when it is on or before the date due from the previous refill "
        "(the low-reservoir alarm or the drug's 180-day stability); an interval in which a new "
        "pump was placed is not counted. Service life by model (SynchroMed II/III 7 years, "
        "Prometra II 10 years; none for a gas-driven pump or an unknown model). How each is "
        "computed: docs/follow-up.md."),
}


def text(key: str, lang: str, **params: Any) -> str:
    et, en = TEXT[key]
    return (et if lang == "et" else en).format(**params)


def number(value: float | None, digits: int, lang: str) -> str:
    """A number with a fixed number of decimals; Estonian uses a decimal comma."""
    if value is None:
        return "–"
    formatted = f"{value:.{digits}f}"
    return formatted.replace(".", ",") if lang == "et" else formatted


def percent(part: int, whole: int) -> str:
    return "–" if whole == 0 else f"{round(100 * part / whole)}"
