"""Pure statistics for the outcomes app: functions of pandas DataFrames, no Django.

Selectors turn querysets into frames; these functions turn frames into JSON-safe results
(every result has ``to_dict()``); tasks store them; views and exports print them. Keeping
this layer free of the ORM lets it be tested against scipy/statsmodels and the published
seed figures without a database.

Column contract (all names are keyword parameters with these defaults):
- long outcome frames: unit_id, group, timepoint ("baseline", "2w", "12w", "1y"), value;
- categorical frames: group plus a boolean/categorical value column.
"""

from ._results import (
    ANOVA,
    FISHER,
    KRUSKAL,
    LOGIT,
    MANN_WHITNEY,
    PAIRED_T,
    PEARSON_CHI2,
    WELCH_T,
    WILCOXON,
    clean_float,
    jsonable,
)
from .categorical import CategoricalSummary, LevelSummary, describe_categorical
from .compare import (
    GroupComparison,
    GroupSummary,
    PairedComparison,
    TestResult,
    compare_groups,
    compare_samples,
    paired_change,
    paired_change_long,
    to_wide,
)
from .contingency import ContingencyResult, compare_categorical, compare_counts, crosstab
from .describe import (
    ContinuousSummary,
    ProportionSummary,
    describe_continuous,
    describe_proportion,
    format_mean_sd,
    format_median_iqr,
    format_n_percent,
    format_number,
    format_p,
    format_range,
    format_rate,
)
from .layout import Table, TableRow
from .rates import GroupRate, RateComparison, any_event_per_unit, rates_by_group, rates_from_counts
from .regression import (
    LogisticResult,
    OddsRatio,
    RegressionRefused,
    design_matrix,
    logistic_regression,
)
from .strata import Stratum, age_stratum, region_stratum, sex_stratum
from .tables import Outcome, Variable, baseline_table, prepost_table
from .trajectories import (
    TIMEPOINTS,
    ChangeFromBaseline,
    TimepointComparison,
    TimepointSummary,
    Trajectory,
    change_from_baseline,
    compare_change_by_timepoint,
    compare_groups_by_timepoint,
    summarise_by_timepoint,
    trajectory,
)

__all__ = [
    "ANOVA",
    "FISHER",
    "KRUSKAL",
    "LOGIT",
    "MANN_WHITNEY",
    "PAIRED_T",
    "PEARSON_CHI2",
    "TIMEPOINTS",
    "WELCH_T",
    "WILCOXON",
    "CategoricalSummary",
    "ChangeFromBaseline",
    "ContingencyResult",
    "ContinuousSummary",
    "GroupComparison",
    "GroupRate",
    "GroupSummary",
    "LevelSummary",
    "LogisticResult",
    "OddsRatio",
    "Outcome",
    "PairedComparison",
    "ProportionSummary",
    "RateComparison",
    "RegressionRefused",
    "Stratum",
    "Table",
    "TableRow",
    "TestResult",
    "TimepointComparison",
    "TimepointSummary",
    "Trajectory",
    "Variable",
    "age_stratum",
    "any_event_per_unit",
    "baseline_table",
    "change_from_baseline",
    "clean_float",
    "compare_categorical",
    "compare_change_by_timepoint",
    "compare_counts",
    "compare_groups",
    "compare_groups_by_timepoint",
    "compare_samples",
    "crosstab",
    "describe_categorical",
    "describe_continuous",
    "describe_proportion",
    "design_matrix",
    "format_mean_sd",
    "format_median_iqr",
    "format_n_percent",
    "format_number",
    "format_p",
    "format_range",
    "format_rate",
    "jsonable",
    "logistic_regression",
    "paired_change",
    "paired_change_long",
    "prepost_table",
    "rates_by_group",
    "rates_from_counts",
    "region_stratum",
    "sex_stratum",
    "summarise_by_timepoint",
    "to_wide",
    "trajectory",
]
