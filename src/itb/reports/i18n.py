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
    # --- time-to-event analysis (issue 5) ---
    "survival_title": ("Tüsistusteta elulemus (Kaplan–Meier)",
                       "Complication-free survival (Kaplan–Meier)"),
    "survival_alt": (
        "Kaplan–Meieri kõverad 95% usaldusvahemikuga: tüsistusteta patsientide osakaal aastate "
        "kaupa esmasest implantatsioonist, kokku ja funktsionaalsuse järgi, riskirühma "
        "suurusega all",
        "Kaplan–Meier curves with 95% confidence bands: the proportion of patients free of "
        "complications by years since the first implantation, overall and by functional "
        "level, with the numbers at risk below"),
    "km_group": ("Rühm", "Group"),
    "km_events": ("Tüsistusega (n)", "With a complication (n)"),
    "km_at_year": ("{years} a (95% uv)", "{years} y (95% CI)"),
    "km_by_level": ("Funktsionaalsuse järgi", "By functional level"),
    "km_by_catheter": ("Kateetri tüübi järgi", "By catheter type"),
    "km_by_site": ("Implanteerinud haigla järgi", "By implanting site"),
    "km_overall_label": ("Kõik patsiendid", "All patients"),
    "years_since_implant": ("Aastaid esmasest implantatsioonist",
                            "Years since the first implantation"),
    "complication_free_pct": ("Tüsistusteta, %", "Free of complications, %"),
    "at_risk_short": ("Riskirühm", "At risk"),
    "ci_band": ("95% uv", "95% CI"),
    "time_years": ("Aeg", "Time"),
    "km_ci_note": (
        "95% usaldusvahemik log-log meetodil (Greenwoodi dispersioon); „–“: nii kaua pole "
        "ühtki pumpa või patsienti jälgitud.",
        "95% confidence intervals by the log-log method (Greenwood variance); '–': no pump or "
        "patient has been followed that long."),
    "survival_text": (
        "Kõver näitab, kui suur osa patsientidest on igal ajahetkel pärast esmast "
        "implantatsiooni veel ilma ühegi tüsistuseta. Erinevalt lihtsast osakaalust arvestab "
        "see, et paljusid patsiente on jälgitud alles lühikest aega: patsient loetakse "
        "riskirühma ainult seni, kuni teda on jälgitud (ravi lõpu või andmete lõppkuupäevani).",
        "The curve shows what share of patients is still free of any complication at each "
        "time after the first implantation. Unlike a plain proportion it allows for the many "
        "patients followed only briefly: a patient counts as at risk only for as long as they "
        "have been followed (to the end of therapy or the data cut-off)."),
    "survival_method": (
        "Aeg esmasest implantatsioonist esimese tüsistuseni aastates (365,25 päeva); "
        "tsenseeritud ravi lõpul või andmete lõppkuupäeval. 95% usaldusvahemik log-log "
        "meetodil (Greenwoodi dispersioon). Riskirühm ajal t: patsiendid, keda on jälgitud "
        "vähemalt t. „–“: nii kaua pole ühtki patsienti jälgitud.",
        "Time from the first implantation to the first complication in years (365.25 days); "
        "censored at the end of therapy or the data cut-off. 95% confidence intervals by the "
        "log-log method (Greenwood variance). At risk at t: patients followed for at least t. "
        "'–': no patient has been followed that long."),
    "logrank_result": ("Log-rank-test ({what}): χ² = {chi2}, vabadusastmeid {df}, p = {p}.",
                       "Log-rank test ({what}): χ² = {chi2}, {df} degree(s) of freedom, "
                       "p = {p}."),
    "logrank_small": (
        "Ettevaatust: mõnes rühmas on alla {patients} patsiendi või tüsistusi kokku alla "
        "{events}; nii väikeste rühmade võrdlus ei ütle peaaegu midagi.",
        "Caution: a group has fewer than {patients} patients, or there are fewer than "
        "{events} complications in all; a comparison of groups this small means next to "
        "nothing."),
    "logrank_none": ("Log-rank-test ({what}): võrrelda pole (ainult üks rühm või tüsistusi "
                     "pole).",
                     "Log-rank test ({what}): nothing to compare (a single group, or no "
                     "complications)."),
    "what_functional_level": ("funktsionaalsus", "functional level"),
    "what_catheter_type": ("kateetri tüüp", "catheter type"),
    "what_site": ("haigla", "site"),
    "at_risk_title": ("Riskirühm: jälgitavaid patsiente ilma tüsistuseta",
                      "Number at risk: patients followed and still free of complications"),
    "at_risk_year": ("{years} a", "{years} y"),
    "at_risk_text": (
        "Mitu patsienti oli sel ajahetkel veel jälgimisel ja ilma tüsistuseta; mida väiksem "
        "arv, seda ebakindlam on kõver.",
        "How many patients were still followed and free of complications at that time; the "
        "smaller the number, the less certain the curve."),
    "competing_title": ("Tüsistuste kumulatiivne esinemine, surm konkureeriva sündmusena",
                        "Cumulative incidence of complications with death as a competing "
                        "event"),
    "competing_years": ("Aeg esmasest implantatsioonist", "Time since the first implantation"),
    "one_minus_km": ("1 − Kaplan–Meier", "1 − Kaplan–Meier"),
    "aalen_johansen": ("Kumulatiivne esinemine (Aalen–Johansen)",
                       "Cumulative incidence (Aalen–Johansen)"),
    "competing_counts": (
        "Patsiente {n}: esimene tüsistus {complications} patsiendil, {deaths} suri enne "
        "ühtki tüsistust.",
        "{n} patients: {complications} had a first complication, {deaths} died before any."),
    "competing_text": (
        "1 − Kaplan–Meier käsitleb surnud patsiente nii, nagu võiksid nad hiljem veel "
        "tüsistuse saada, ja näitab seetõttu riski suuremana; kumulatiivne esinemine "
        "arvestab, et surm lõpetab tüsistuse riski, ja on nende patsientide osakaal, kellel "
        "tüsistus selleks ajaks tegelikult tekkis.",
        "1 − Kaplan–Meier treats patients who died as if they could still have a "
        "complication later, and so overstates the risk; the cumulative incidence counts "
        "death as ending the risk, and is the share of patients who actually had a "
        "complication by that time."),
    "incidence_title": ("Tüsistuste esinemissagedus 100 pumba-aasta kohta",
                        "Complications per 100 pump-years"),
    "incidence_what": ("Tüsistused", "Complications"),
    "pump_years": ("Pumba-aastad", "Pump-years"),
    "per_100": ("100 pumba-aasta kohta", "Per 100 pump-years"),
    "incidence_ci": ("95% uv (täpne Poissoni)", "95% CI (exact Poisson)"),
    "incidence_overall": ("Kõik tüsistused", "All complications"),
    "incidence_by_type": ("Tüsistuse liigi järgi", "By type of complication"),
    "incidence_by_group": ("Tüsistuste rühma järgi", "By group of complication"),
    "incidence_by_level": ("Funktsionaalsuse järgi", "By functional level"),
    "incidence_timing": ("Varased ja hilised", "Early and late"),
    "incidence_early": ("Varased (≤ {days} päeva pärast operatsiooni)",
                        "Early (≤ {days} days after a surgery)"),
    "incidence_late": ("Hilised (hiljem)", "Late (later)"),
    "incidence_text": (
        "Pumba-aastad on patsientide kasutusaegade summa; loetakse iga tüsistus, mitte ainult "
        "esimene. Sagedus 100 pumba-aasta kohta ütleb, mitu tüsistust võib oodata, kui 100 "
        "patsienti kasutab pumpa ühe aasta. Varaste tüsistuste aluseks on ainult "
        "{days} operatsioonijärgset päeva (iga operatsiooni järel), hiliste aluseks ülejäänud "
        "aeg.",
        "Pump-years are the sum of the patients' usage times; every complication counts, not "
        "only the first. A rate per 100 pump-years says how many complications to expect when "
        "100 patients use a pump for one year. Early complications are set against only the "
        "{days} days after each surgery, late ones against the rest of the time."),
    "pump_ends_title": ("Pumbad: kuidas iga pumba kasutus lõppes",
                        "Pumps: how each pump's time ended"),
    "pump_end": ("Pumba kasutuse lõpp", "End of the pump's time"),
    "pumps_n": ("Pumpi (n)", "Pumps (n)"),
    "median_years": ("Mediaan, aastat", "Median, years"),
    "with_complication_n": ("Tüsistusega selle pumba ajal (n)",
                            "With a complication during its time (n)"),
    "pump_end_replacement": ("Vahetati uue pumba vastu", "Replaced by a new pump"),
    "pump_end_explanted": ("Eemaldati", "Explanted"),
    "pump_end_death": ("Patsiendi surm", "Death of the patient"),
    "pump_end_therapy_ended": ("Ravi lõppes muul põhjusel", "Therapy ended for another reason"),
    "pump_end_in_place": ("Kasutusel andmete lõppkuupäeval", "In place at the data cut-off"),
    "pump_ends_text": (
        "Iga esmane implantatsioon ja pumba vahetus paigaldab pumba; selle aeg lõpeb järgmise "
        "vahetuse, ravi lõpu või andmete lõppkuupäevaga. Tüsistus vahetuse päeval loetakse "
        "uue pumba operatsiooni juurde.",
        "Every initial implantation and pump replacement places a pump; its time ends at the "
        "next replacement, the end of therapy or the data cut-off. A complication on the day "
        "of a replacement is counted with the new pump's surgery."),
    "device_survival_title": ("Seadmete elulemus", "Device survival"),
    "pump_survival": ("Pump vahetamata ja eemaldamata (95% uv)",
                      "Pump neither replaced nor explanted (95% CI)"),
    "pumps_at_risk": ("Pumpi riskirühmas", "Pumps at risk"),
    "revision_free": ("Ilma revisioonita (95% uv)", "Free of revision (95% CI)"),
    "patients_at_risk": ("Patsiente riskirühmas", "Patients at risk"),
    "device_survival_text": (
        "Pumba elulemus: aeg pumba paigaldamisest selle vahetuse või eemaldamiseni (surm, muu "
        "ravi lõpp ja andmete lõppkuupäev tsenseerivad). Revisioonivaba elulemus: aeg esmasest "
        "implantatsioonist esimese revisioonini (operatsioon ilma uue pumbata, nt kateetri "
        "revisioon). Pump tuleb patarei tõttu vahetada keskmiselt 6–7 aasta järel.",
        "Pump survival: time from a pump's placement to its replacement or explant (death, "
        "another end of therapy and the data cut-off censor). Revision-free survival: time "
        "from the first implantation to the first revision (a surgery without a new pump, "
        "e.g. a catheter revision). A pump's battery needs replacing after 6–7 years on "
        "average."),
    "literature_title": ("Registri näitajad ja avaldatud andmed",
                         "The registry beside published figures"),
    "lit_figure": ("Näitaja", "Figure"),
    "lit_registry": ("Register", "Registry"),
    "lit_published": ("Avaldatud", "Published"),
    "lit_source": ("Allikas", "Source"),
    "lit_proportion": ("Tüsistusega patsientide osakaal", "Patients with a complication"),
    "lit_proportion_value": ("{percent}% ({patients}/{n}; 95% uv Wald {low}–{high}%)",
                             "{percent}% ({patients}/{n}; 95% CI Wald {low}–{high}%)"),
    "lit_range": ("Tüsistusega patsientide osakaal rahvusvahelistes uuringutes",
                  "Patients with a complication, international studies"),
    "lit_km5": ("Tüsistuse tõenäosus 5 aasta jooksul (1 − KM)",
                "Probability of a complication within 5 years (1 − KM)"),
    "lit_follow_up": ("Keskmine kasutusaeg, aastat (SD)", "Mean usage time, years (SD)"),
    "lit_pump_life": ("Pumba vahetus patarei tõttu", "Pump replacement for the battery"),
    "lit_pump_life_value": ("keskmiselt iga 6–7 aasta järel", "on average every 6–7 years"),
    "lit_registry_pump_life": ("vahetatud pumpade mediaan {years} a",
                               "replaced pumps' median {years} y"),
    "lit_rate": ("Tüsistusi 100 pumba-aasta kohta", "Complications per 100 pump-years"),
    "lit_rate_none": ("uuring ega selle viidatud allikad seda ei esita",
                      "not given by the study or the sources it cites"),
    "lit_not_reported": ("ei esitata", "not reported"),
    "lit_the_study": ("uuring", "the study"),
    "lit_as_quoted": ("uuringu viidatud allikad", "as quoted by the study from"),
    "literature_text": (
        "Lihtne osakaal kasvab koos jälgimisajaga: uuring ise nimetab lühikest jälgimist "
        "(keskmiselt 4 aastat) ja enamasti uusi pumpi üheks põhjuseks, miks tema 16% jääb "
        "kirjanduse 41–78% vahemikust allapoole. Pikema jälgimisega uuringutega on õiglasem "
        "võrrelda Kaplan–Meieri hinnangut kindlal ajahetkel (nt 5 aastat) või sagedust "
        "pumba-aasta kohta, mitte toorest osakaalu; ka siis erinevad rühmad (lapsed, "
        "kateetri tüüp) ja tüsistuste definitsioonid.",
        "A plain proportion grows with follow-up: the study itself names its short follow-up "
        "(mean 4 years) and mostly new pumps as one reason its 16% lies below the literature's "
        "41–78%. Against series with longer follow-up the fairer figures are a Kaplan–Meier "
        "estimate at a fixed time (e.g. 5 years) or a rate per pump-year, not the crude "
        "proportion; even then the patients (children, catheter type) and the definitions of "
        "a complication differ."),
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
