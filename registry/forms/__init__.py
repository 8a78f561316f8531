"""Browser forms of the registry. They validate and render; services write."""

from registry.forms.fractures import FractureForm, LevelPickerForm
from registry.forms.patients import PatientFilterForm, PatientForm, WithdrawForm
from registry.forms.procedures import AdverseEventForm, ProcedureForm, TreatedLevelForm
from registry.forms.visits import RadiographForm, VisitForm

__all__ = [
    "AdverseEventForm",
    "FractureForm",
    "LevelPickerForm",
    "PatientFilterForm",
    "PatientForm",
    "ProcedureForm",
    "RadiographForm",
    "TreatedLevelForm",
    "VisitForm",
    "WithdrawForm",
]
