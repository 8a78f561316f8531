from datetime import date
from decimal import Decimal

import pytest

from registry import derived
from registry.derived import WindowStatus, visit_window


class TestAge:
    def test_it_counts_whole_years_at_the_procedure_date(self):
        assert derived.age_at(date(1950, 6, 15), date(2024, 6, 14)) == 73
        assert derived.age_at(date(1950, 6, 15), date(2024, 6, 15)) == 74

    def test_a_leap_day_birthday_turns_a_year_older_on_the_first_of_march(self):
        assert derived.age_at(date(1952, 2, 29), date(2023, 2, 28)) == 70
        assert derived.age_at(date(1952, 2, 29), date(2023, 3, 1)) == 71

    def test_missing_dates_give_none(self):
        assert derived.age_at(None, date(2024, 1, 1)) is None
        assert derived.age_at(date(1950, 1, 1), None) is None


class TestBmi:
    def test_it_is_kg_over_metres_squared(self):
        assert derived.bmi(Decimal("160.0"), Decimal("64.0")) == 25.0
        assert derived.bmi(175, 80) == 26.1

    @pytest.mark.parametrize("height,weight", [(None, 60), (160, None), (0, 60)])
    def test_missing_or_zero_input_gives_none(self, height, weight):
        assert derived.bmi(height, weight) is None


class TestOdi:
    def test_all_ten_sections_answered(self):
        assert derived.odi_percent([5] * 10) == 100.0
        assert derived.odi_percent([0] * 10) == 0.0
        assert derived.odi_percent([2, 3, 1, 0, 4, 2, 3, 1, 2, 2]) == 40.0

    def test_two_skipped_sections_are_still_scored_over_those_answered(self):
        answers = [3, 3, 3, 3, 3, 3, 3, 3, None, None]
        assert derived.odi_percent(answers) == pytest.approx(24 / 40 * 100)

    def test_three_skipped_sections_are_not_scored(self):
        assert derived.odi_percent([3] * 7 + [None] * 3) is None

    @pytest.mark.parametrize(
        "percent,band",
        [
            (0, "minimal"),
            (20, "minimal"),
            (20.1, "moderate"),
            (40, "moderate"),
            (41, "severe"),
            (61, "crippled"),
            (80, "crippled"),
            (81, "bed-bound"),
            (100, "bed-bound"),
        ],
    )
    def test_bands(self, percent, band):
        assert derived.odi_band(percent) == band

    def test_band_of_an_unscored_odi_is_none(self):
        assert derived.odi_band(None) is None


class TestVertebralHeights:
    def test_rfvh_is_anterior_height_over_mean_of_neighbours(self):
        assert derived.rfvh(15, 28, 32) == 50.0
        assert derived.rfvh(Decimal("18.0"), Decimal("26.0"), Decimal("28.0")) == 66.67

    @pytest.mark.parametrize("args", [(None, 28, 32), (15, None, 32), (15, 28, None)])
    def test_rfvh_needs_all_three_heights(self, args):
        assert derived.rfvh(*args) is None

    def test_height_loss_is_the_complement_of_rfvh(self):
        assert derived.height_loss(56.5) == 43.5
        assert derived.height_loss(None) is None

    @pytest.mark.parametrize(
        "loss,grade",
        [(0, 0), (19.99, 0), (20, 1), (25, 1), (25.01, 2), (40, 2), (40.01, 3), (70, 3)],
    )
    def test_suggested_genant_grade_follows_the_height_loss_bands(self, loss, grade):
        assert derived.suggested_genant_grade(loss) == grade

    def test_a_recorded_grade_that_disagrees_with_the_heights_is_flagged(self):
        assert derived.genant_mismatch(1, 45.0) is True
        assert derived.genant_mismatch(3, 45.0) is False
        assert derived.genant_mismatch(None, 45.0) is False
        assert derived.genant_mismatch(2, None) is False

    def test_beck_index_is_anterior_over_posterior(self):
        assert derived.beck_index(18, 24) == 0.75
        assert derived.beck_index(18, None) is None

    def test_height_restoration_is_a_difference_in_percentage_points(self):
        assert derived.difference(82.11, 55.93) == 26.18
        assert derived.difference(None, 55.93) is None


class TestVisitWindow:
    PROCEDURE = date(2024, 3, 1)

    @pytest.mark.parametrize(
        "timepoint,days,status",
        [
            ("baseline", -30, WindowStatus.IN_WINDOW),
            ("baseline", 0, WindowStatus.IN_WINDOW),
            ("baseline", -31, WindowStatus.EARLY),
            ("2w", 6, WindowStatus.EARLY),
            ("2w", 7, WindowStatus.IN_WINDOW),
            ("2w", 28, WindowStatus.IN_WINDOW),
            ("2w", 29, WindowStatus.LATE),
            ("12w", 55, WindowStatus.EARLY),
            ("12w", 56, WindowStatus.IN_WINDOW),
            ("12w", 126, WindowStatus.IN_WINDOW),
            ("12w", 127, WindowStatus.LATE),
            ("1y", 269, WindowStatus.EARLY),
            ("1y", 270, WindowStatus.IN_WINDOW),
            ("1y", 456, WindowStatus.IN_WINDOW),
            ("1y", 457, WindowStatus.LATE),
        ],
    )
    def test_window_edges_are_inclusive(self, timepoint, days, status):
        from datetime import timedelta

        window = visit_window(timepoint, self.PROCEDURE, self.PROCEDURE + timedelta(days=days))
        assert window.status == status
        assert window.days_after_procedure == days

    def test_it_gives_the_window_dates(self):
        window = visit_window("12w", self.PROCEDURE, None)
        assert window.target_date == date(2024, 5, 24)
        assert window.start_date == date(2024, 4, 26)
        assert window.end_date == date(2024, 7, 5)

    def test_unscheduled_visits_have_no_window(self):
        window = visit_window("unscheduled", self.PROCEDURE, date(2024, 4, 1))
        assert window.status == WindowStatus.UNSCHEDULED
        assert window.start_date is None


class TestVertebrae:
    def test_papers_spelling_d7_means_t7(self):
        from registry.vertebrae import normalise_level, region_of

        assert normalise_level("D7") == "T7"
        assert normalise_level("th12") == "T12"
        assert normalise_level(" l1 ") == "L1"
        assert region_of("T12") == "thoracic"
        assert region_of("L1") == "lumbar"
        with pytest.raises(ValueError, match="not a vertebral level"):
            normalise_level("L6")
