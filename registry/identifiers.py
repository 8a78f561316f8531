"""The one list of identifying patient fields.

Exports, the REST API and de-identification read this tuple; nothing else decides what is
identifying. Add a field here and every consumer drops or masks it.
"""

PATIENT_IDENTIFIERS: tuple[str, ...] = (
    "hospital_record_number",
    "family_name",
    "given_name",
    "date_of_birth",
)
