"""The peer pipeline: what an analyst would write with the usual Python tools.

pandas reads the registry CSVs, ``tableone.TableOne`` makes Table 1 grouped by functional
level, statsmodels' ``proportion_confint`` gives the complication proportion's Wald, Wilson and
Clopper–Pearson 95 % intervals, and lifelines' ``KaplanMeierFitter`` estimates
complication-free survival (first complication, censored at therapy end or cut-off). pandas
also computes the rest of the report's statistics, so that both pipelines compute the same
things: Table 2 (events, patients and mean months from the latest surgery to onset, per
complication type), Figure 2's counts (first implantations per year and site) and the
assessment combinations. Each table is written as CSV; no figure, HTML or Markdown is drawn,
and no validation is done: the data are taken as they are.

    python benchmarks/peer_pipeline.py DATA_DIR --out OUT_DIR
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pandas as pd
from lifelines import KaplanMeierFitter
from statsmodels.stats.proportion import proportion_confint
from tableone import TableOne

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = 30.4375
DATES = {
    "patients": ["birth_date", "therapy_end_date"],
    "implantations": ["implant_date"],
    "complications": ["complication_date"],
    "assessments": ["assessment_date"],
    "refills": ["refill_date"],
}
CATEGORICAL = ["sex", "syndrome", "diagnosis", "contractures_before", "pump_implantations",
               "catheter_type", "catheter_tip_level"]


def read_registry(directory: Path) -> tuple[dict[str, pd.DataFrame], pd.Timestamp]:
    tables = {
        name: pd.read_csv(directory / f"{name}.csv", parse_dates=dates, date_format="%Y-%m-%d",
                          dtype={"value": str, "body_site": str, "detail": str,
                                 "diagnosis_detail": str})
        for name, dates in DATES.items()
    }
    info = tomllib.loads((directory / "dataset.toml").read_text(encoding="utf-8"))
    return tables, pd.Timestamp(info["cutoff"])


def cohort(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> pd.DataFrame:
    implants = tables["implantations"]
    initial = implants.loc[implants["kind"] == "initial",
                           ["patient_id", "implant_date", "catheter_type", "catheter_tip_level"]]
    pumps = (implants[implants["kind"].isin(["initial", "replacement"])]
             .groupby("patient_id").size().rename("pump_implantations"))
    data = (tables["patients"].merge(initial, on="patient_id", how="left")
            .merge(pumps, on="patient_id", how="left"))
    birth, first = data["birth_date"], data["implant_date"]
    not_yet = (first.dt.month * 100 + first.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    data["age"] = first.dt.year - birth.dt.year - not_yet.astype(int)
    data["follow_up_end"] = data["therapy_end_date"].fillna(cutoff)
    data["usage_years"] = (data["follow_up_end"] - first).dt.days / DAYS_PER_YEAR
    data["pump_implantations"] = data["pump_implantations"].fillna(0).astype(int)
    return data


def table1(data: pd.DataFrame) -> pd.DataFrame:
    table = TableOne(data, columns=["age", "usage_years", *CATEGORICAL], categorical=CATEGORICAL,
                     nonnormal=["age"], groupby="functional_level", missing=True)
    return table.tableone


def complication_intervals(data: pd.DataFrame, complications: pd.DataFrame) -> pd.DataFrame:
    n = len(data)
    with_any = complications["patient_id"].nunique()
    rows = []
    for label, method in (("wald", "normal"), ("wilson", "wilson"),
                          ("clopper_pearson", "beta")):
        low, high = proportion_confint(with_any, n, alpha=0.05, method=method)
        rows.append({"method": label, "patients": with_any, "n": n,
                     "proportion": with_any / n, "low": low, "high": high})
    return pd.DataFrame(rows)


def complication_free_survival(data: pd.DataFrame,
                               complications: pd.DataFrame) -> pd.DataFrame:
    first_event = complications.groupby("patient_id")["complication_date"].min()
    survival = data[["patient_id", "implant_date", "follow_up_end"]].merge(
        first_event.rename("event_date"), left_on="patient_id", right_index=True, how="left")
    event = survival["event_date"].notna() & (survival["event_date"] <= survival["follow_up_end"])
    end = survival["event_date"].where(event, survival["follow_up_end"])
    years = (end - survival["implant_date"]).dt.days / DAYS_PER_YEAR
    fitter = KaplanMeierFitter()
    fitter.fit(years, event_observed=event, label="complication_free")
    result = fitter.survival_function_.join(fitter.confidence_interval_)
    result.index.name = "years"
    return result


def complications_by_type(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 2: per type, events, patients and mean months since the latest surgery."""
    surgeries = (tables["implantations"][["patient_id", "implant_date"]].drop_duplicates()
                 .dropna().sort_values("implant_date"))
    events = tables["complications"].dropna(subset=["complication_date"]).sort_values(
        "complication_date")
    onsets = pd.merge_asof(events, surgeries, left_on="complication_date",
                           right_on="implant_date", by="patient_id", direction="backward")
    onsets["months_to_onset"] = ((onsets["complication_date"] - onsets["implant_date"]).dt.days
                                 / DAYS_PER_MONTH)
    return onsets.groupby("type").agg(events=("patient_id", "size"),
                                      patients=("patient_id", "nunique"),
                                      mean_months_to_onset=("months_to_onset", "mean"))


def first_implantations_per_year(data: pd.DataFrame,
                                 implantations: pd.DataFrame) -> pd.DataFrame:
    """Figure 2's counts: initial implantations per year (rows) and implanting site."""
    initial = implantations.loc[implantations["kind"] == "initial", ["patient_id", "site"]]
    first = data[["patient_id", "implant_date"]].merge(initial, on="patient_id")
    return pd.crosstab(first["implant_date"].dt.year, first["site"])


def assessment_combinations(data: pd.DataFrame, assessments: pd.DataFrame) -> pd.Series:
    combos = (assessments.groupby("patient_id")["instrument"]
              .agg(lambda values: "+".join(sorted(set(values)))))
    return (data["patient_id"].map(combos).fillna("none")
            .value_counts().rename_axis("combination").rename("patients"))


def run(directory: Path, out: Path) -> None:
    tables, cutoff = read_registry(directory)
    data = cohort(tables, cutoff)
    out.mkdir(parents=True, exist_ok=True)
    table1(data).to_csv(out / "table1.csv")
    complication_intervals(data, tables["complications"]).to_csv(
        out / "complication_ci.csv", index=False)
    complication_free_survival(data, tables["complications"]).to_csv(
        out / "complication_free_survival.csv")
    complications_by_type(tables).to_csv(out / "table2.csv")
    first_implantations_per_year(data, tables["implantations"]).to_csv(
        out / "first_implantations_per_year.csv")
    assessment_combinations(data, tables["assessments"]).to_csv(
        out / "assessment_combinations.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    run(args.data_dir, args.out)


if __name__ == "__main__":
    main()
