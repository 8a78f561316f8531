"""Demo patients: who they are, where and when they were treated, with which technique."""

from dataclasses import dataclass

import numpy as np

from registry.demo import calibration as cal
from registry.demo.frames import Frame, choice, days, missing, truncated_normal
from registry.models import new_registry_id


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FAMILY_NAMES = _names(
    """Abbott Bauer Chen Dubois Eriksen Fischer Garcia Haddad Ito Jansen Kowalski Larsen Moreau
    Novak Okafor Petrov Quinn Rossi Santos Tanaka Ulrich Varga Wang Yilmaz Zhang Lindqvist Murphy
    Nakamura Oliveira Schmidt"""
)
GIVEN_NAMES = {
    "F": _names(
        """Anna Beatriz Carmen Dorota Elena Fatima Greta Hana Ingrid Julia Keiko Lucia Maria Nadia
        Olga Paula Rosa Sofia Teresa Ursula Vera Wei Yuki Zofia"""
    ),
    "M": _names(
        """Ahmed Bruno Carlos David Erik Frank Georg Hiroshi Ivan Jan Karl Luis Marek Nils Omar
        Pavel Rafael Stefan Tomas Viktor Walter Xavier Yusuf Zoltan"""
    ),
}
TREATMENTS = (
    "none",
    "calcium_vitamin_d",
    "bisphosphonate",
    "denosumab",
    "teriparatide",
    "romosozumab",
    "other",
    "",
)
TREATMENT_P = (0.29, 0.30, 0.25, 0.08, 0.04, 0.01, 0.01, 0.02)
WITHDRAWAL_REASON = "Consent withdrawn by the patient; data kept, excluded from analyses."


@dataclass
class Patients:
    """Per-patient facts the later generators need (arrays of length n)."""

    id: np.ndarray
    site: np.ndarray  # index into the context's sites
    technique: np.ndarray  # index into calibration.TECHNIQUES
    female: np.ndarray
    date_of_birth: np.ndarray  # datetime64[D]
    procedure_date: np.ndarray
    baseline_date: np.ndarray
    withdrawn_date: np.ndarray  # NaT unless withdrawn

    @property
    def n(self) -> int:
        return len(self.id)


def _registry_ids(rng: np.random.Generator, n: int, taken: set[str]) -> np.ndarray:
    """Pseudonyms from the model's own generator, fed by the seeded rng; unique in `taken`."""
    buffer: list[float] = []

    def choose(alphabet: str) -> str:
        if not buffer:
            buffer.extend(rng.random(8 * n + 8).tolist()[::-1])
        return alphabet[int(buffer.pop() * len(alphabet))]

    ids = []
    for _ in range(n):
        registry_id = new_registry_id(choose=choose)
        while registry_id in taken:
            registry_id = new_registry_id(choose=choose)
        taken.add(registry_id)
        ids.append(registry_id)
    return np.asarray(ids)


def _record_numbers(rng: np.random.Generator, n: int, taken: set[str]) -> np.ndarray:
    """Hospital record numbers: random digits, unique across the registry."""
    numbers = []
    for number in rng.integers(10**7, 10**8, n).tolist():
        record = f"H{number}"
        while record in taken:
            record = f"H{int(rng.integers(10**7, 10**8))}"
        taken.add(record)
        numbers.append(record)
    return np.asarray(numbers)


def draw_patients(ctx, rng: np.random.Generator, n: int, first_id: int) -> tuple[Frame, Patients]:
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    site = rng.choice(len(ctx.site_ids), size=n, p=ctx.site_weights)
    mix = np.cumsum(ctx.site_mix[site], axis=1)
    technique = np.minimum((rng.random(n)[:, None] > mix).sum(axis=1), len(cal.TECHNIQUES) - 1)

    procedure_date = ctx.anchor - days(rng.integers(0, 4 * 365 + 1, n))
    baseline_gap = np.minimum(rng.geometric(0.45, n) - 1, 30)
    late_baseline = rng.random(n) < 0.005  # a pre-operative visit long before: out of window
    baseline_gap[late_baseline] = rng.integers(31, 46, int(late_baseline.sum()))
    baseline_date = procedure_date - days(baseline_gap)

    age = np.floor(
        truncated_normal(rng, cal.AGE_MEAN, cal.AGE_SD, n, cal.AGE_MIN, cal.AGE_MAX + 0.999)
    )
    date_of_birth = procedure_date - days((age + rng.uniform(0.03, 0.97, n)) * 365.2425)

    female = rng.random(n) < cal.FEMALE_SHARE
    sex = np.where(female, "F", "M")
    height = np.where(
        female,
        rng.normal(*cal.HEIGHT_CM["F"], n),
        rng.normal(*cal.HEIGHT_CM["M"], n),
    ).clip(135, 200)
    bmi_mean = np.asarray([p.bmi_mean for p in cal.PROFILES])[technique]
    bmi = np.clip(rng.normal(bmi_mean, cal.BMI_SD), 16, 42)
    weight = np.clip(bmi * (height / 100) ** 2, 30, 150)

    given = np.where(
        female,
        np.asarray(GIVEN_NAMES["F"])[rng.integers(0, len(GIVEN_NAMES["F"]), n)],
        np.asarray(GIVEN_NAMES["M"])[rng.integers(0, len(GIVEN_NAMES["M"]), n)],
    )

    withdrawn = rng.random(n) < cal.WITHDRAWN
    withdrawn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    latest = ctx.anchor - np.timedelta64(1, "D")
    candidate = np.minimum(procedure_date + days(rng.integers(15, 420, n)), latest)
    withdrawn_date[withdrawn] = np.maximum(candidate, baseline_date)[withdrawn]
    withdrawn_at = withdrawn_date.astype("datetime64[s]") + rng.integers(
        9 * 3600, 17 * 3600, n
    ).astype("timedelta64[s]")

    frame = {
        "id": ids,
        "site_id": ctx.site_ids[site],
        "registry_id": _registry_ids(rng, n, ctx.taken_registry_ids),
        "hospital_record_number": _record_numbers(rng, n, ctx.taken_record_numbers),
        "family_name": np.asarray(FAMILY_NAMES)[rng.integers(0, len(FAMILY_NAMES), n)],
        "given_name": given,
        "date_of_birth": date_of_birth,
        "sex": sex,
        "height_cm": missing(rng, np.round(height, 1), cal.MISSING_ITEM),
        "weight_kg": missing(rng, np.round(weight, 1), cal.MISSING_ITEM),
        "bmd_t_score": missing(rng, np.round(np.clip(rng.normal(-3.0, 0.7, n), -6, -1), 1), 0.08),
        "osteoporosis_treatment": choice(rng, TREATMENTS, TREATMENT_P, n),
        "corticosteroid_use": missing(rng, rng.random(n) < 0.10, cal.MISSING_ITEM),
        "asa_class": missing(rng, rng.choice([1, 2, 3, 4], n, p=[0.08, 0.50, 0.37, 0.05]), 0.02),
        "smoking": choice(rng, ("never", "former", "current", ""), (0.68, 0.2, 0.1, 0.02), n),
        "consent_given": np.ones(n, dtype=bool),
        "consent_date": baseline_date,
        "withdrawn_at": withdrawn_at,
        "withdrawal_reason": np.where(withdrawn, WITHDRAWAL_REASON, ""),
    }
    patients = Patients(
        id=ids,
        site=site,
        technique=technique,
        female=female,
        date_of_birth=date_of_birth,
        procedure_date=procedure_date,
        baseline_date=baseline_date,
        withdrawn_date=withdrawn_date,
    )
    return frame, patients
