"""Tests in words: what a page prints for a test code (kept free of Django)."""

from __future__ import annotations

TEST_LABELS: dict[str, str] = {
    "paired_t": "Paired t-test",
    "wilcoxon_signed_rank": "Wilcoxon signed-rank test",
    "welch_t": "Welch's t-test",
    "mann_whitney_u": "Mann-Whitney U test",
    "one_way_anova": "One-way ANOVA",
    "kruskal_wallis": "Kruskal-Wallis test",
    "pearson_chi2": "Pearson's chi-square test",
    "fisher_exact": "Fisher's exact test",
    "logistic_regression": "Logistic regression",
}


# Tests whose name begins with a common word, lower-cased inside a sentence ("VAS at 12
# weeks: paired t-test, p = 0.01"); the others begin with a person's name.
_COMMON_WORD_FIRST = frozenset({"paired_t", "one_way_anova", "logistic_regression"})


def test_label(code: str | None, *, in_sentence: bool = False) -> str:
    """Words for a test code; '' where no test ran (never a code on a page)."""
    if not code:
        return ""
    label = TEST_LABELS.get(code, code.replace("_", " "))
    if in_sentence and code in _COMMON_WORD_FIRST:
        return label[0].lower() + label[1:]
    return label


test_label.__test__ = False  # not a pytest test, despite the name
