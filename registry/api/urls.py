"""/api/v1/ routes for clinical records. Issue 9 fills this."""

urlpatterns: list = []
