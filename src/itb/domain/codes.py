"""The registry's code lists, each code with its Estonian and English label.

Estonian labels follow the wording of the study article (Eesti Arst, 2024) where it has one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

LANGUAGES = ("et", "en")


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    et: str
    en: str
    group: str | None = None

    def label(self, lang: str) -> str:
        return self.et if lang == "et" else self.en


@dataclass(frozen=True)
class CodeList:
    name: str
    items: tuple[Code, ...]
    _by_code: dict[str, Code] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {item.code: item for item in self.items})

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Code]:
        return iter(self.items)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def get(self, code: str) -> Code:
        return self._by_code[code]

    def label(self, code: str, lang: str) -> str:
        item = self._by_code.get(code)
        return item.label(lang) if item else code


def _codes(name: str, *items: tuple[str, ...]) -> CodeList:
    return CodeList(name, tuple(Code(*item) for item in items))


SEX = _codes("sex", ("M", "Mees", "Male"), ("F", "Naine", "Female"))

FUNCTIONAL_LEVEL = _codes(
    "functional_level",
    ("low", "Madal funktsionaalsus", "Low functional level"),
    ("high", "Kõrge funktsionaalsus", "High functional level"),
)

YES_NO = _codes("yes_no", ("yes", "Jah", "Yes"), ("no", "Ei", "No"))

DIAGNOSIS = _codes(
    "diagnosis",
    ("cerebral_palsy", "Laste tserebraalparalüüs", "Cerebral palsy"),
    ("hereditary_spastic_paraplegia", "Hereditaarne spastiline parapleegia",
     "Hereditary spastic paraplegia"),
    ("multiple_sclerosis", "Sclerosis multiplex", "Multiple sclerosis"),
    ("brain_spinal_cord_injury", "Pea- või seljaaju trauma", "Brain or spinal cord injury"),
    ("neuroinfection", "Neuroinfektsioon", "Neuroinfection"),
    ("autoimmune_encephalitis", "Autoimmuunne entsefaliit", "Autoimmune encephalitis"),
    ("other", "Muu", "Other"),
)

SYNDROME = _codes(
    "syndrome",
    ("spastic_tetraparesis", "Spastiline tetraparees", "Spastic tetraparesis"),
    ("spastic_paraparesis", "Spastiline paraparees", "Spastic paraparesis"),
    ("spastic_hemiparesis", "Spastiline hemiparees", "Spastic hemiparesis"),
    ("generalised_dystonia", "Generaliseerunud düstoonia", "Generalised dystonia"),
    ("spastic_tetraparesis_dystonia", "Spastiline tetraparees + düstoonia",
     "Spastic tetraparesis + dystonia"),
)

THERAPY_END_REASON = _codes(
    "therapy_end_reason",
    ("death", "Patsiendi surm", "Death"),
    ("replacement_not_possible", "Pumba vahetus ei olnud võimalik (üldseisund)",
     "Pump replacement not possible (general condition)"),
    ("explanted", "Pump eemaldati", "Pump explanted"),
    ("other", "Muu põhjus", "Other reason"),
)

IMPLANTATION_KIND = _codes(
    "kind",
    ("initial", "Esmane implantatsioon", "Initial implantation"),
    ("replacement", "Pumba vahetus (uus pump)", "Pump replacement (new pump)"),
    ("revision", "Revisioon (pumpa vahetamata)", "Revision (no new pump)"),
)
PUMP_KINDS = frozenset({"initial", "replacement"})

PUMP_MODEL = _codes(
    "pump_model",
    ("synchromed_ii", "Medtronic SynchroMed II", "Medtronic SynchroMed II"),
    ("synchromed_iii", "Medtronic SynchroMed III", "Medtronic SynchroMed III"),
    ("prometra_ii", "Flowonix Prometra II", "Flowonix Prometra II"),
    ("constant_flow", "Püsivoolupump (gaasirõhuga)", "Constant-flow (gas-driven) pump"),
    ("other", "Muu pump", "Other pump"),
)

CATHETER_TYPE = _codes(
    "catheter_type",
    ("ascenda", "Ascenda", "Ascenda"),
    ("silicone", "Silikoonkateeter", "Silicone catheter"),
    ("other", "Muu kateeter", "Other catheter"),
)

_REGIONS = (("C", 7, "kaelalüli", "cervical"), ("T", 12, "rinnalüli", "thoracic"),
            ("L", 5, "nimmelüli", "lumbar"))
CATHETER_TIP_LEVEL = CodeList(
    "catheter_tip_level",
    tuple(
        Code(f"{letter}{n}", f"{letter}{n} ({n}. {et})", f"{letter}{n} ({en} vertebra {n})")
        for letter, count, et, en in _REGIONS
        for n in range(1, count + 1)
    ),
)

COMPLICATION_GROUP = _codes(
    "complication_group",
    ("catheter", "Kateetriga seotud", "Catheter-related"),
    ("pump", "Pumbaga seotud", "Pump-related"),
    ("procedure", "Protseduuriga seotud", "Procedure-related"),
    ("infection", "Infektsioon", "Infection"),
    ("drug", "Ravimiga seotud", "Drug-related"),
    ("other", "Muu", "Other"),
)

COMPLICATION_TYPE = _codes(
    "complication_type",
    ("csf_leak", "Liikvori leke", "Cerebrospinal fluid leak", "procedure"),
    ("catheter_break", "Kateetri purunemine", "Catheter break", "catheter"),
    ("catheter_kink", "Kateetri niverdumine", "Catheter kink", "catheter"),
    ("catheter_occlusion", "Kateetri oklusioon", "Catheter occlusion", "catheter"),
    ("catheter_disconnection", "Kateetri lahtiühendumine", "Catheter disconnection", "catheter"),
    ("catheter_migration", "Kateetri dislokatsioon", "Catheter migration", "catheter"),
    ("infection", "Infektsioon", "Infection", "infection"),
    ("pump_malfunction", "Pumba rike", "Pump malfunction", "pump"),
    ("wound_dehiscence", "Haava lahknemine", "Wound dehiscence", "procedure"),
    ("seroma", "Seroom", "Seroma", "procedure"),
    ("withdrawal", "Baklofeeni ärajätusündroom", "Baclofen withdrawal", "drug"),
    ("overdose", "Baklofeeni üleannustamine", "Baclofen overdose", "drug"),
    ("other", "Muu tüsistus", "Other complication", "other"),
)

INSTRUMENT = _codes(
    "instrument",
    ("mas", "Modifitseeritud Ashworthi skaala (MAS)", "Modified Ashworth Scale (MAS)"),
    ("tardieu", "Tardieu skaala", "Tardieu Scale"),
    ("goniometry", "Goniomeetria", "Goniometry"),
    ("gmfm", "Gross Motor Function'i mõõdik (GMFM)", "Gross Motor Function Measure (GMFM)"),
    ("penn", "Penni spasmide sageduse skaala", "Penn Spasm Frequency Scale"),
    ("pain_nrs", "Valu numbriline hindamisskaala (NRS)", "Pain numeric rating scale (NRS)"),
    ("gmfcs", "Jämemotoorika klassifikatsioon (GMFCS)",
     "Gross Motor Function Classification System (GMFCS)"),
)

# Where the spasticity arises: it sets the usual largest titration step (domain/followup.py).
SPASTICITY_ORIGIN = _codes(
    "spasticity_origin",
    ("cerebral", "Tserebraalne (peaajust lähtuv)", "Cerebral"),
    ("spinal", "Spinaalne (seljaajust lähtuv)", "Spinal"),
)

PHASE = _codes(
    "phase",
    ("screening", "Skriiningfaas", "Screening"),
    ("follow_up", "Operatsioonijärgne jälgimine", "Follow-up"),
)

ALL_CODE_LISTS: tuple[CodeList, ...] = (
    SEX, FUNCTIONAL_LEVEL, YES_NO, DIAGNOSIS, SYNDROME, THERAPY_END_REASON, IMPLANTATION_KIND,
    PUMP_MODEL, CATHETER_TYPE, CATHETER_TIP_LEVEL, COMPLICATION_GROUP, COMPLICATION_TYPE,
    INSTRUMENT, PHASE, SPASTICITY_ORIGIN,
)


def complication_group(complication_type: str) -> str:
    group = COMPLICATION_TYPE.get(complication_type).group
    assert group is not None
    return group
