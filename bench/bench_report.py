"""The full standard report on the demo cohort: ours vs the obvious pandas pipeline.

Both compute, for the cohort of the seed studies' inclusion rules (every site, withdrawn
patients excluded, one index procedure per patient): every outcome (VAS, ODI, RFVH, body
height, LKA) x timepoint x technique summarised with its CI, the paired change from
baseline (t and Wilcoxon), the between-technique tests (ANOVA and Kruskal-Wallis) on values
and changes; the rates (leakage per patient, per level, by Yeom type, device rupture, adverse
events by type and grade) with Wilson CIs and the chi-square / Fisher rule; the
perioperative comparisons; and Table 1.

- ours: `outcomes.services.compute(standard_report)`, exactly what the Celery job runs
  (one snapshot read with the data version: raw rows as one COPY array per column, on
  several connections sharing the snapshot, pivoted and grouped in numpy; JSON-safe result);
- pandas: `pandas.read_sql` of the rows of every table, then groupby and scipy.

Each pipeline runs in its own process (so peak RSS is its own), alternating, BENCH_REPEAT
times (default 3); the best time of each is compared. The database is the bench database
(`make bench` passes it as DATABASE_URL); it is migrated, and seeded with
`seed_demo --seed 1` up to BENCH_PATIENTS (default 100000) patients if it has fewer.
A third child times the floor: `COPY ... TO STDOUT` of the raw columns our pipeline reads
(every row of visits, radiographs, treated levels with their fractures, procedures with
their patients, adverse events), bytes only, no parsing.

PASS (issue 8): the pandas pipeline takes at least 4 times as long as ours, ours takes at
most 5 times the COPY floor, peak memory stays under 1 GB, and both pipelines agree on the
cohort and key figures. Both ratios are printed with the times they come from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 1024
TARGET_RATIO = 4.0  # pandas pipeline / ours, at least
TARGET_FLOOR = 5.0  # ours / COPY of the columns read, at most
TIMEPOINTS = ("baseline", "2w", "12w", "1y")
OUTCOMES = ("vas", "odi", "rfvh", "body_height", "lka")
WINDOWS_START = {"baseline": -30, "2w": 7, "12w": 56, "1y": 270}
WINDOWS_END = {"baseline": 0, "2w": 28, "12w": 126, "1y": 456}
COPY_FLOOR = (
    "SELECT id, procedure_id, timepoint, visit_date, vas, odi_percent, updated_at"
    " FROM registry_followupvisit",
    "SELECT id, visit_id, treated_level_id, rfvh_percent, anterior_height_mm, lka_degrees,"
    " updated_at FROM registry_radiographicmeasurement",
    "SELECT l.id, l.procedure_id, l.cement_volume_ml, l.leakage, l.leakage_symptomatic,"
    " l.devices_used, l.devices_ruptured, l.updated_at, f.level, f.genant_grade, f.aetiology,"
    " f.updated_at FROM registry_treatedlevel l JOIN registry_fracture f ON f.id = l.fracture_id",
    "SELECT p.id, p.patient_id, p.date, p.technique_id, p.operation_time_min,"
    " p.fluoroscopy_shots, p.ambulation_hours, p.hospital_stay_days, p.updated_at, a.site_id,"
    " a.date_of_birth, a.sex, a.height_cm, a.weight_kg, a.bmd_t_score, a.asa_class, a.smoking,"
    " a.osteoporosis_treatment, a.corticosteroid_use, a.withdrawn_at, a.updated_at"
    " FROM registry_procedure p JOIN registry_patient a ON a.id = p.patient_id",
    "SELECT id, procedure_id, event_type, clavien_dindo, updated_at FROM registry_adverseevent",
)


# ------------------------------------------------------------------ ours


def ours() -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    django.setup()
    from outcomes import cohorts
    from outcomes.analyses import STANDARD_REPORT, get_analysis
    from outcomes.selectors import CohortData, Scope
    from outcomes.services import compute
    from registry.models import Site

    started = time.perf_counter()
    scope = Scope.of(Site.objects.values_list("pk", flat=True))
    data = CohortData(filters={}, rules=dict.fromkeys(cohorts.RULE_FIELDS, True), scope=scope)
    result, _ = compute(get_analysis(STANDARD_REPORT), data, {})
    seconds = time.perf_counter() - started

    body = result["body"]
    vas = next(o for o in body["trajectories"]["outcomes"] if o["key"] == "vas")
    return {
        "seconds": seconds,
        "patients": dict(result["cohort"]["techniques"]),
        "vas_baseline_mean": {
            s["group"]: s["summary"]["mean"]
            for s in vas["summaries"]
            if s["timepoint"] == "baseline"
        },
        "vas_12w_paired_p": {
            c["group"]: c["change"]["p"] for c in vas["changes"] if c["timepoint"] == "12w"
        },
        "leaked_patients": {r["group"]: r["events"] for r in body["rates"]["leakage"][0]["rates"]},
    }


# ------------------------------------------------------------------ the obvious pipeline


def pandas_pipeline() -> dict:
    import numpy as np
    import pandas as pd
    import psycopg
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    warnings.simplefilter("ignore")  # pandas warns that psycopg is not SQLAlchemy
    started = time.perf_counter()
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:

        def read(sql: str) -> pd.DataFrame:
            return pd.read_sql(sql, conn)

        patients = read(
            "SELECT id AS patient_id, site_id, date_of_birth, sex, height_cm, weight_kg,"
            " bmd_t_score, asa_class, smoking, osteoporosis_treatment, corticosteroid_use,"
            " withdrawn_at FROM registry_patient"
        )
        procedures = read(
            "SELECT p.id AS procedure_id, p.patient_id, p.date, t.code AS technique,"
            " p.operation_time_min, p.fluoroscopy_shots, p.ambulation_hours,"
            " p.hospital_stay_days FROM registry_procedure p"
            " JOIN registry_technique t ON t.id = p.technique_id"
        )
        fractures = read(
            "SELECT id AS fracture_id, patient_id, level, genant_grade, aetiology"
            " FROM registry_fracture"
        )
        levels = read(
            "SELECT id AS level_id, procedure_id, fracture_id, cement_volume_ml, leakage,"
            " devices_used, devices_ruptured FROM registry_treatedlevel"
        )
        visits = read(
            "SELECT v.id AS visit_id, v.procedure_id, v.timepoint, v.vas, v.odi_percent,"
            " v.visit_date - p.date AS day FROM registry_followupvisit v"
            " JOIN registry_procedure p ON p.id = v.procedure_id"
        )
        films = read(
            "SELECT visit_id, anterior_height_mm, rfvh_percent, lka_degrees"
            " FROM registry_radiographicmeasurement"
        )
        events = read("SELECT procedure_id, event_type, clavien_dindo FROM registry_adverseevent")

    # The cohort: index procedure, active patients, the four inclusion rules.
    index = procedures.sort_values(["patient_id", "date", "procedure_id"]).drop_duplicates(
        "patient_id"
    )
    cases = index.merge(patients, on="patient_id")
    cases = cases[cases["withdrawn_at"].isna()]
    done = pd.to_datetime(cases["date"])
    born = pd.to_datetime(cases["date_of_birth"])
    before_birthday = (done.dt.month < born.dt.month) | (
        (done.dt.month == born.dt.month) & (done.dt.day < born.dt.day)
    )
    cases["age"] = done.dt.year - born.dt.year - before_birthday.astype(int)
    visits = visits[visits["timepoint"].isin(TIMEPOINTS)]
    all_visits = visits
    # Analyses use the visits inside their timepoint's window (DOMAIN.md).
    start = visits["timepoint"].map(WINDOWS_START)
    end = visits["timepoint"].map(WINDOWS_END)
    in_window = visits[(visits["day"] >= start) & (visits["day"] <= end)]
    baseline_visits = visits[visits["timepoint"] == "baseline"]
    vas_ok = baseline_visits.loc[baseline_visits["vas"] >= 5, "procedure_id"]
    films = films.merge(all_visits[["visit_id", "procedure_id", "timepoint"]], on="visit_id")
    collapsed = films.loc[
        (films["timepoint"] == "baseline") & (films["rfvh_percent"] <= 80), "procedure_id"
    ]
    pathological = fractures.loc[fractures["aetiology"] != "osteoporotic", "patient_id"]
    cases = cases[
        (cases["age"] >= 50)
        & cases["procedure_id"].isin(vas_ok)
        & cases["procedure_id"].isin(collapsed)
        & ~cases["patient_id"].isin(pathological)
    ]
    techniques = sorted(cases["technique"].unique())

    # Outcomes per patient per timepoint (films averaged over the treated vertebrae).
    visits = in_window[in_window["procedure_id"].isin(cases["procedure_id"])]
    per_visit = (
        films.groupby(["procedure_id", "timepoint"])[
            ["rfvh_percent", "anterior_height_mm", "lka_degrees"]
        ]
        .mean()
        .reset_index()
    )
    values = visits.merge(per_visit, on=["procedure_id", "timepoint"], how="left")
    values["body_height"] = values["anterior_height_mm"] / 10
    values = values.rename(
        columns={"odi_percent": "odi", "rfvh_percent": "rfvh", "lka_degrees": "lka"}
    )
    values = values.merge(cases[["procedure_id", "technique"]], on="procedure_id")

    def describe(x: pd.Series) -> dict:
        x = x.dropna()
        n = len(x)
        mean, sd = x.mean(), x.std()
        ci = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / np.sqrt(n)) if n > 1 else None
        return {
            "n": n,
            "mean": mean,
            "sd": sd,
            "median": x.median(),
            "q1": x.quantile(0.25),
            "q3": x.quantile(0.75),
            "min": x.min(),
            "max": x.max(),
            "ci": ci,
        }

    report: dict = {"trajectories": {}}
    for outcome in OUTCOMES:
        wide = values.pivot_table(
            index=["procedure_id", "technique"], columns="timepoint", values=outcome
        ).reset_index()
        summary = values.groupby(["technique", "timepoint"])[outcome].apply(describe)
        paired, between = {}, {}
        for technique, group in wide.groupby("technique"):
            for follow_up in TIMEPOINTS[1:]:
                if follow_up not in group:
                    continue
                pairs = group[["baseline", follow_up]].dropna()
                if len(pairs) > 1:
                    diff = pairs[follow_up] - pairs["baseline"]
                    paired[technique, follow_up] = (
                        stats.ttest_rel(pairs[follow_up], pairs["baseline"]).pvalue,
                        stats.wilcoxon(diff).pvalue,
                        [describe(x) for x in (pairs["baseline"], pairs[follow_up], diff)],
                    )
        for timepoint in TIMEPOINTS:
            for of in ("value", "change"):
                if timepoint not in wide or (of == "change" and timepoint == "baseline"):
                    continue
                column = wide[timepoint] - (wide["baseline"] if of == "change" else 0)
                samples = [column[wide["technique"] == t].dropna() for t in techniques]
                between[timepoint, of] = (
                    stats.f_oneway(*samples).pvalue,
                    stats.kruskal(*samples).pvalue,
                    [describe(s) for s in samples],
                )
        report["trajectories"][outcome] = (summary, paired, between)

    # Rates with Wilson CIs and the chi-square / Fisher rule.
    def compare(events_n: dict[str, tuple[int, int]]) -> dict:
        table = np.array([[e, n - e] for e, n in events_n.values() if n > 0])
        table = table[:, table.sum(axis=0) > 0]
        cis = {t: proportion_confint(e, n, method="wilson") for t, (e, n) in events_n.items() if n}
        if table.shape[0] < 2 or table.shape[1] < 2:
            return {"ci": cis, "p": None}
        expected = stats.contingency.expected_freq(table)
        if table.shape == (2, 2) and expected.min() < 5:
            return {"ci": cis, "p": stats.fisher_exact(table).pvalue}
        return {"ci": cis, "p": stats.chi2_contingency(table, correction=False).pvalue}

    levels = levels[levels["procedure_id"].isin(cases["procedure_id"])].merge(
        cases[["procedure_id", "technique"]], on="procedure_id"
    )
    levels["leaked"] = levels["leakage"] != "none"
    n_patients = cases.groupby("technique").size()
    leaked_patients = (
        levels.groupby(["technique", "procedure_id"])["leaked"].any().groupby("technique").sum()
    )
    per_level = levels.groupby("technique").agg(
        levels=("level_id", "size"),
        leaked=("leaked", "sum"),
        used=("devices_used", "sum"),
        ruptured=("devices_ruptured", "sum"),
    )

    def per_technique(events_col: str, total_col: str) -> dict[str, tuple[int, int]]:
        return {t: (per_level.at[t, events_col], per_level.at[t, total_col]) for t in techniques}

    rates = {
        "per_patient": compare({t: (leaked_patients[t], n_patients[t]) for t in techniques}),
        "per_level": compare(per_technique("leaked", "levels")),
        "devices": compare(per_technique("ruptured", "used")),
    }
    for kind in ("B", "S", "C"):
        typed = levels[levels["leakage"] == kind].groupby("technique").size()
        rates[kind] = compare({t: (typed.get(t, 0), per_level.at[t, "levels"]) for t in techniques})
    rates["types"] = stats.chi2_contingency(pd.crosstab(levels["technique"], levels["leakage"]))
    events = events.merge(cases[["procedure_id", "technique"]], on="procedure_id")
    for column in ("event_type", "clavien_dindo"):
        for kind, rows in events.groupby(column):
            with_event = rows.groupby("technique")["procedure_id"].nunique()
            rates[column, kind] = compare(
                {t: (with_event.get(t, 0), n_patients[t]) for t in techniques}
            )
    any_event = events.groupby("technique")["procedure_id"].nunique()
    rates["any_event"] = compare({t: (any_event.get(t, 0), n_patients[t]) for t in techniques})
    report["rates"] = rates

    # Perioperative items and Table 1.
    cement = levels.groupby("procedure_id")["cement_volume_ml"].agg(["sum", "count", "size"])
    cases = cases.merge(
        cement["sum"].where(cement["count"] == cement["size"]).rename("cement_volume_ml"),
        left_on="procedure_id",
        right_index=True,
        how="left",
    )
    level_facts = levels.merge(
        fractures[["fracture_id", "level", "genant_grade"]], on="fracture_id"
    )
    level_facts["thoracic"] = level_facts["level"].str.startswith("T")
    facts = level_facts.groupby("procedure_id").agg(
        n_levels=("level_id", "size"), thoracic=("thoracic", "sum"), genant=("genant_grade", "max")
    )
    facts["levels"] = np.where(facts["n_levels"] > 1, "multi", "single")
    facts["region"] = np.select(
        [facts["thoracic"] == facts["n_levels"], facts["thoracic"] == 0],
        ["thoracic", "lumbar"],
        default="both",
    )
    cases = cases.merge(facts, left_on="procedure_id", right_index=True, how="left")
    baseline = values[values["timepoint"] == "baseline"][["procedure_id", "vas", "odi"]]
    cases = cases.merge(baseline, on="procedure_id", how="left")
    cases["bmi"] = cases["weight_kg"] / (cases["height_cm"] / 100) ** 2
    continuous = [
        "operation_time_min",
        "fluoroscopy_shots",
        "cement_volume_ml",
        "ambulation_hours",
        "hospital_stay_days",
        "age",
        "bmi",
        "bmd_t_score",
        "vas",
        "odi",
    ]
    categorical = [
        "sex",
        "asa_class",
        "smoking",
        "corticosteroid_use",
        "osteoporosis_treatment",
        "levels",
        "region",
        "genant",
    ]
    table1 = {}
    for column in continuous:  # the overall column and one per technique, then the tests
        samples = [cases.loc[cases["technique"] == t, column].dropna() for t in techniques]
        table1[column] = (
            [describe(cases[column]), *(describe(s) for s in samples)],
            stats.f_oneway(*samples).pvalue,
            stats.kruskal(*samples).pvalue,
        )
    for column in categorical:  # n (%) with a Wilson CI per level, overall and per technique
        crosstab = pd.crosstab(cases["technique"], cases[column], margins=True)
        crosstab = crosstab.loc[:, crosstab.sum() > 0]
        cis = {
            (row, level): proportion_confint(
                crosstab.at[row, level], crosstab.at[row, "All"], method="wilson"
            )
            for row in crosstab.index
            for level in crosstab.columns
            if level != "All"
        }
        counts = crosstab.drop(index="All", columns="All")
        table1[column] = (cis, stats.chi2_contingency(counts, correction=False).pvalue)
    report["table1"] = table1
    seconds = time.perf_counter() - started

    vas_summary = report["trajectories"]["vas"][0]
    return {
        "seconds": seconds,
        "patients": {t: int(n_patients[t]) for t in techniques},
        "vas_baseline_mean": {t: float(vas_summary[t, "baseline"]["mean"]) for t in techniques},
        "vas_12w_paired_p": {
            t: float(report["trajectories"]["vas"][1][t, "12w"][0]) for t in techniques
        },
        "leaked_patients": {t: int(leaked_patients[t]) for t in techniques},
    }


# ------------------------------------------------------------------ the floor


def copy_floor() -> dict:
    """COPY of the raw columns the report reads, to bytes: what reading alone costs."""
    import psycopg

    started = time.perf_counter()
    size = 0
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cursor:
        for sql in COPY_FLOOR:
            with cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
                for block in copy:
                    size += len(block)
    return {"seconds": time.perf_counter() - started, "bytes": size}


# ------------------------------------------------------------------ the harness


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args, "--skip-checks"], cwd=ROOT, check=True)


def prepare(patients: int) -> int:
    import psycopg

    manage("migrate", "--noinput", "-v0")
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM registry_patient").fetchone()[0]
    if have < patients:
        print(f"seeding {patients - have} demo patients (the bench database has {have})")
        manage("seed_demo", "--patients", str(patients - have), "--seed", "1")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        return conn.execute("SELECT count(*) FROM registry_patient").fetchone()[0]


def child(pipeline: str) -> tuple[dict, float]:
    """Run one pipeline in its own process: (its figures, its peak RSS in MB)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_report", pipeline],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "registry.settings"},
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the {pipeline} pipeline failed")
    return json.loads(output.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def agree(a: dict, b: dict) -> list[str]:
    problems = []
    for key in ("patients", "leaked_patients"):
        if a[key] != b[key]:
            problems.append(f"{key}: {a[key]} vs {b[key]}")
    for key in ("vas_baseline_mean", "vas_12w_paired_p"):
        for technique, value in a[key].items():
            other = b[key].get(technique)
            if other is None or abs(value - other) > 1e-9 * max(1.0, abs(value)):
                problems.append(f"{key}[{technique}]: {value} vs {other}")
    return problems


def main() -> int:
    patients = int(os.environ.get("BENCH_PATIENTS", "100000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    have = prepare(patients)
    runs: dict[str, list[tuple[dict, float]]] = {"pandas": [], "ours": [], "copy": []}
    for _ in range(repeat):
        for pipeline in ("pandas", "ours", "copy"):
            figures, peak = child(pipeline)
            runs[pipeline].append((figures, peak))
            print(f"  {pipeline:<7} {figures['seconds']:7.2f} s   peak {peak:6.0f} MB", flush=True)
    best = {name: min(r[0]["seconds"] for r in results) for name, results in runs.items()}
    peak = {name: max(r[1] for r in results) for name, results in runs.items()}
    figures = runs["ours"][0][0]
    problems = agree(figures, runs["pandas"][0][0])
    ratio = best["pandas"] / best["ours"]
    floor = best["ours"] / best["copy"]
    cohort = sum(figures["patients"].values())
    print(f"\nstandard report, {cohort} patients in the cohort ({have} in the database)")
    print(f"  ours (COPY arrays + numpy)      {best['ours']:7.2f} s   peak {peak['ours']:6.0f} MB")
    print(
        f"  pandas.read_sql + groupby       {best['pandas']:7.2f} s   peak {peak['pandas']:6.0f} MB"
    )
    megabytes = runs["copy"][0][0]["bytes"] / 1e6
    print(f"  COPY of the columns read        {best['copy']:7.2f} s   ({megabytes:.0f} MB of rows)")
    print(
        f"  ratio pandas / ours             {ratio:7.2f} x   "
        f"(target >= {TARGET_RATIO:g}, best of {repeat} each)"
    )
    print(f"  ratio ours / COPY floor         {floor:7.2f} x   (target <= {TARGET_FLOOR:g})")
    for problem in problems:
        print(f"  DISAGREE {problem}")
    ok = (
        ratio >= TARGET_RATIO
        and floor <= TARGET_FLOOR
        and peak["ours"] < TARGET_MB
        and not problems
    )
    print(
        f"  {'PASS' if ok else 'FAIL'} (pandas/ours >= {TARGET_RATIO:g}, ours/COPY <= "
        f"{TARGET_FLOOR:g}, under {TARGET_MB} MB, same figures)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        pipeline = {"ours": ours, "pandas": pandas_pipeline, "copy": copy_floor}[sys.argv[1]]
        print(json.dumps(pipeline()))
        sys.exit(0)
    sys.exit(main())
