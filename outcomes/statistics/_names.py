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


def test_label(code: str | None) -> str:
    """Words for a test code; '' where no test ran (never a code on a page)."""
    if not code:
        return ""
    return TEST_LABELS.get(code, code.replace("_", " "))


test_label.__test__ = False  # not a pytest test, despite the name
