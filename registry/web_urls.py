"""The registry's browser pages. Patients are addressed by their registry ID (a pseudonym)."""

from django.urls import path, register_converter

from registry.views import (
    api_tokens,
    fractures,
    landing,
    patients,
    procedures,
    timeline,
    visits,
    worklist,
)


class RegistryIdConverter:
    """A registry ID is letters, digits and dashes: anything else (a NUL byte, which
    PostgreSQL refuses in a query, or other control characters) is no such page, a 404."""

    regex = r"[A-Za-z0-9-]{1,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RegistryIdConverter, "registry_id")

patient = "patients/<registry_id:registry_id>/"

urlpatterns = [
    path("", landing.home, name="home"),
    path("session/keepalive/", landing.session_keepalive, name="session_keepalive"),
    path("account/tokens/", api_tokens.api_tokens_view, name="api_tokens"),
    path("account/tokens/revoke/", api_tokens.api_token_revoke_view, name="api_token_revoke"),
    path("worklist/", worklist.worklist_view, name="worklist"),
    path("worklist/count/", worklist.worklist_count_view, name="worklist_count"),
    path("patients/", patients.patient_list_view, name="patient_list"),
    path("patients/new/", patients.patient_create_view, name="patient_create"),
    path(patient, timeline.patient_detail_view, name="patient_detail"),
    path(f"{patient}edit/", patients.patient_edit_view, name="patient_edit"),
    path(f"{patient}withdraw/", patients.patient_withdraw_view, name="patient_withdraw"),
    path(f"{patient}fractures/new/", fractures.fractures_create_view, name="fractures_create"),
    path(f"{patient}fractures/<int:pk>/edit/", fractures.fracture_edit_view, name="fracture_edit"),
    path(f"{patient}procedures/new/", procedures.procedure_create_view, name="procedure_create"),
    path(
        f"{patient}procedures/<int:pk>/edit/",
        procedures.procedure_edit_view,
        name="procedure_edit",
    ),
    path(
        f"{patient}procedures/<int:pk>/visits/new/",
        visits.visit_create_view,
        name="visit_create",
    ),
    path(f"{patient}visits/<int:pk>/edit/", visits.visit_edit_view, name="visit_edit"),
    path(
        f"{patient}procedures/<int:pk>/adverse-events/new/",
        procedures.adverse_event_create_view,
        name="adverse_event_create",
    ),
    path(
        f"{patient}adverse-events/<int:pk>/edit/",
        procedures.adverse_event_edit_view,
        name="adverse_event_edit",
    ),
]
