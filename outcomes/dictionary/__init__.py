"""The one data dictionary: every exported variable, generated from the models and the
derived-value functions (see `variables` and `tables`), as rows for the page, the CSV and
the API docs."""

from outcomes.dictionary.rows import dictionary_csv_lines, dictionary_rows
from outcomes.dictionary.tables import TABLES, TIMEPOINTS, all_tables, columns, table
from outcomes.dictionary.variables import Kind, Level, Variable

__all__ = [
    "TABLES",
    "TIMEPOINTS",
    "Kind",
    "Level",
    "Variable",
    "all_tables",
    "columns",
    "dictionary_csv_lines",
    "dictionary_rows",
    "table",
]
