"""The permission matrix: every URL pattern and operation against every kind of actor.

THE table of who gets what. `tests/security/test_permission_matrix.py` walks the whole URL
configuration, requests every row as every actor and compares the status; a URL without a row
fails that test, and so does a README whose table differs from `render_markdown()`
(`python manage.py permission_matrix --write` rewrites it).

Codes: a status number; `login` = 302 to the sign-in page; `admin-login` = 302 to the admin's
sign-in page; `admin` = the admin answers (2xx/3xx/403 inside the admin, never a sign-in page).
Actors act on site A's patient (and cohort, run...): `surgeon` is a surgeon of site A,
`other_surgeon` of site B; `coordinator` and `site_admin` are of site A. The two token actors
are real API tokens of site A's surgeon: a read-only de-identified one and a read-write
identified one. Web pages ignore API tokens, so the token actors get what an anonymous visitor
gets there; on the API they act as the surgeon, and the read-only one is refused (403) every
write before anything else is checked.

Every REST API operation (each method a DRF view answers) needs its own row; other pages need
at least one. Adding an endpoint is one line: `API("GET", "api/v1/things/", default=200)`.
Writes are sent without a body (so a permitted one answers 400, or 428 where an If-Match
version is required first) unless the row gives `body=`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTORS = (
    "anonymous",
    "surgeon",
    "other_surgeon",
    "coordinator",
    "site_admin",
    "superuser",
    "token_read",
    "token_write",
)
ACTOR_LABELS = {
    "anonymous": "anonymous",
    "surgeon": "surgeon, same site",
    "other_surgeon": "surgeon, other site",
    "coordinator": "research coordinator",
    "site_admin": "site admin",
    "superuser": "superuser",
    "token_read": "API token (read, de-identified)",
    "token_write": "API token (read-write)",
}

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
ADMIN = "admin"
SIGNED_IN = ("surgeon", "other_surgeon", "coordinator", "site_admin", "superuser")


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    expect: dict[str, int | str] = field(hash=False)
    note: str = ""
    query: str = ""  # appended to the URL: `metric=vas`
    body: dict | None = field(default=None, hash=False)  # sent as JSON (API rows)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.route)


def _row(method: str, route: str, note: str = "", *, anonymous=LOGIN, tokens=None, **signed):
    """A web page: signed-in actors as given (missing ones default to `default`), anonymous
    and tokens to the sign-in page unless stated."""
    default = signed.pop("default", None)
    expect: dict[str, int | str] = {"anonymous": anonymous}
    for actor in SIGNED_IN:
        expect[actor] = signed.get(actor, default)
    tokens = anonymous if tokens is None else tokens
    expect["token_read"] = expect["token_write"] = tokens
    missing = [actor for actor, value in expect.items() if value is None]
    if missing:
        raise ValueError(f"{method} {route}: no expectation for {missing}")
    return Row(method, route, expect, note)


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def API(
    method: str,
    route: str,
    note: str = "",
    *,
    anonymous=401,
    token_read=None,
    token_write=None,
    query: str = "",
    body: dict | None = None,
    **signed,
) -> Row:
    """A REST API operation: anonymous 401; signed-in actors as given (missing ones default to
    `default`); the tokens get what their user (`surgeon`) gets, except that the read-only
    token is refused every write (403), unless stated."""
    default = signed.pop("default", None)
    expect: dict[str, int | str] = {"anonymous": anonymous}
    for actor in SIGNED_IN:
        expect[actor] = signed.get(actor, default)
    if token_read is None:
        token_read = 403 if method in WRITES else expect["surgeon"]
    expect["token_read"] = token_read
    expect["token_write"] = expect["surgeon"] if token_write is None else token_write
    missing = [actor for actor, value in expect.items() if value is None]
    if missing:
        raise ValueError(f"{method} {route}: no expectation for {missing}")
    return Row(method, route, expect, note, query, body)


def GET(route: str, note: str = "", **kw) -> Row:
    return _row("GET", route, note, **kw)


def POST(route: str, note: str = "", **kw) -> Row:
    return _row("POST", route, note, **kw)


PATIENT = "patients/<registry_id:registry_id>/"
# Site A's patient: same-site members read, editors (surgeon, site admin, superuser) edit;
# another site's surgeon is told it does not exist.
READ_A = {"default": 200, "other_surgeon": 404}
EDIT_A = {"default": 200, "other_surgeon": 404, "coordinator": 403}
EDIT_A_DONE = {**EDIT_A, "default": 302}
# A cohort of site A's surgeon: colleagues sharing a site see it, its owner edits it.
COHORT_A = {"default": 200, "other_surgeon": 404}
COHORT_OWNER = {"default": 403, "surgeon": 200, "superuser": 200, "other_surgeon": 404}
EXPORTERS = {"coordinator": 200, "site_admin": 200, "superuser": 200}
OWN_EXPORT = {"default": 404, "coordinator": 200}
RUN_PENDING = {"default": 302, "other_surgeon": 404}

ROWS: list[Row] = [
    GET("healthz", "liveness", anonymous=200, default=200),
    POST("healthz", anonymous=405, default=405),
    # The admin's own sign-in pages (every other admin URL: the admin rule below)
    GET("admin/login/", anonymous=200, default=200, superuser=302),
    GET(
        "admin/logout/",
        "POST only when signed in to the admin",
        anonymous=302,
        default=302,
        superuser=405,
    ),
    # Sign-in and account pages
    GET("accounts/login/", anonymous=200, default=200),
    POST("accounts/login/", "empty form: errors", anonymous=200, default=200),
    GET("accounts/logout/", "sign-out is POST only", anonymous=405, default=405),
    POST("accounts/logout/", "signed out, to the sign-in page", anonymous=LOGIN, default=LOGIN),
    GET("accounts/password_change/", default=200),
    POST("accounts/password_change/", "empty form: errors", default=200),
    GET("accounts/password_change/done/", default=200),
    GET(
        "accounts/password_reset/",
        "no EMAIL_URL: 'ask an administrator'",
        anonymous=200,
        default=200,
    ),
    POST("accounts/password_reset/", anonymous=200, default=200),
    GET("accounts/password_reset/done/", anonymous=200, default=200),
    GET("accounts/reset/<uidb64>/<token>/", "bad link", anonymous=200, default=200),
    GET("accounts/reset/done/", anonymous=200, default=200),
    GET("accounts/two-factor/setup/", default=200),
    POST("accounts/two-factor/setup/", "empty code: error", default=200),
    GET("accounts/two-factor/verify/", "no device yet: to setup", default=302),
    POST("accounts/two-factor/verify/", default=302),
    # Access log: site administrators (their sites) and superusers (all)
    GET("access-log/", default=403, site_admin=200, superuser=200),
    GET("access-log/export.csv", default=403, site_admin=200, superuser=200),
    POST("access-log/unlock/", "empty form: message", default=403, site_admin=302, superuser=302),
    # Registry pages
    GET("", "to the worklist", default=302),
    GET("session/keepalive/", anonymous=401, default=204, tokens=401),
    GET("worklist/", default=200),
    GET("worklist/count/", default=200),
    GET("patients/", default=200),
    GET("patients/new/", default=200, coordinator=403),
    POST("patients/new/", "empty form: errors", default=200, coordinator=403),
    GET(PATIENT, **READ_A),
    GET(f"{PATIENT}edit/", **EDIT_A),
    POST(f"{PATIENT}edit/", "empty form: errors", **EDIT_A),
    GET(f"{PATIENT}withdraw/", default=403, other_surgeon=404, site_admin=200, superuser=200),
    POST(f"{PATIENT}withdraw/", default=403, other_surgeon=404, site_admin=200, superuser=200),
    GET(f"{PATIENT}fractures/new/", **EDIT_A),
    POST(f"{PATIENT}fractures/new/", **EDIT_A),
    GET(f"{PATIENT}fractures/<int:pk>/edit/", **EDIT_A),
    POST(f"{PATIENT}fractures/<int:pk>/edit/", **EDIT_A),
    # The case's fractures are all treated already: the page sends the editor to the timeline.
    GET(f"{PATIENT}procedures/new/", **EDIT_A_DONE),
    POST(f"{PATIENT}procedures/new/", **EDIT_A_DONE),
    GET(f"{PATIENT}procedures/<int:pk>/edit/", **EDIT_A),
    POST(f"{PATIENT}procedures/<int:pk>/edit/", **EDIT_A),
    GET(f"{PATIENT}procedures/<int:pk>/visits/new/", **EDIT_A),
    POST(f"{PATIENT}procedures/<int:pk>/visits/new/", **EDIT_A),
    GET(f"{PATIENT}visits/<int:pk>/edit/", **EDIT_A),
    POST(f"{PATIENT}visits/<int:pk>/edit/", **EDIT_A),
    GET(f"{PATIENT}procedures/<int:pk>/adverse-events/new/", **EDIT_A),
    POST(f"{PATIENT}procedures/<int:pk>/adverse-events/new/", **EDIT_A),
    GET(f"{PATIENT}adverse-events/<int:pk>/edit/", **EDIT_A),
    POST(f"{PATIENT}adverse-events/<int:pk>/edit/", **EDIT_A),
]
# Cohorts and statistics (outcomes)
ROWS += [
    GET("outcomes/", default=200),
    GET("outcomes/cohorts/new/", default=200),
    POST("outcomes/cohorts/new/", "empty form: errors", default=200),
    GET("outcomes/cohorts/<int:pk>/", **COHORT_A),
    GET("outcomes/cohorts/<int:pk>/edit/", "owner (and superuser) only", **COHORT_OWNER),
    POST("outcomes/cohorts/<int:pk>/edit/", **COHORT_OWNER),
    GET("outcomes/cohorts/<int:pk>/run/<slug:analysis>/", "POST only", default=405),
    POST(
        "outcomes/cohorts/<int:pk>/run/<slug:analysis>/",
        "to the run",
        default=302,
        other_surgeon=404,
    ),
    GET("outcomes/runs/<int:pk>/", **COHORT_A),
    GET("outcomes/runs/<int:pk>/status/", **COHORT_A),
    GET("outcomes/runs/<int:pk>/result/", "run not finished: to its page", **RUN_PENDING),
    # Exports (a de-identified export requested by site A's coordinator, not yet built)
    GET("outcomes/exports/", "coordinators and site admins", default=403, **EXPORTERS),
    POST("outcomes/exports/", "empty form: errors", default=403, **EXPORTERS),
    GET("outcomes/exports/<int:pk>/", "its owner only", **OWN_EXPORT),
    GET("outcomes/exports/<int:pk>/status/", **OWN_EXPORT),
    GET(
        "outcomes/exports/<int:pk>/download/", "not built yet", **{**OWN_EXPORT, "coordinator": 403}
    ),
    GET("outcomes/dictionary/", "the data dictionary", default=200),
    GET("outcomes/dictionary.csv", default=200),
    # Dashboards: every signed-in user, over the patients they may see
    GET("outcomes/dashboards/", default=200),
    GET("outcomes/dashboards/plotly.css", "plotly.js's rules: public", anonymous=200, default=200),
    GET("outcomes/dashboards/report/", default=200),
    GET("outcomes/dashboards/report.<slug:fmt>", "xlsx, no result yet: 404", default=404),
    GET("outcomes/dashboards/<slug:page>/", default=200),
    GET("outcomes/dashboards/<slug:page>/status/", default=200),
    GET("outcomes/dashboards/<slug:page>/csv/<slug:key>/", "no result yet: 404", default=404),
]

# Data quality (outcomes.quality): every signed-in user, over their sites' findings
ROWS += [
    GET("quality/", default=200),
    GET("quality/run/", "POST only", default=405),
    POST("quality/run/", "queued (or refused with a message): back to the page", default=302),
    GET("quality/findings/", default=200),
    GET("quality/findings/<int:pk>/", "a finding on site A's patient", **READ_A),
    POST("quality/findings/<int:pk>/", "empty review: errors", **READ_A),
    GET("quality/completeness.csv", default=200),
    GET("quality/findings.csv", default=200),
]
# A user's own API tokens (made and revoked by the signed-in user; a token cannot make one)
ROWS += [
    GET("account/tokens/", default=200),
    POST("account/tokens/", "empty form: errors", default=200),
    GET("account/tokens/revoke/", "POST only", default=405),
    POST("account/tokens/revoke/", "no such token of theirs", default=404),
]

# The REST API (/api/v1/): one row per operation. Site A's records by primary key.
RECORD = {"default": 200, "other_surgeon": 404}
# No body: validation (400) after the role check; coordinators read but do not enter cases.
CREATE = {"default": 400, "coordinator": 403}
# Changing a record first needs its version (If-Match): 428 once the permission check passed.
CHANGE = {"default": 428, "other_surgeon": 404, "coordinator": 403}
API_DOCS = {"anonymous": 200, "default": 200}
AGGREGATE = "queued for the worker: 202 (200 once computed)"
ROWS += [
    API("GET", "api/v1/", "the API's index (links only): public", **API_DOCS),
    API("GET", "api/v1/schema/", "OpenAPI schema: public", **API_DOCS),
    API("GET", "api/v1/docs/", "Swagger UI: public", **API_DOCS),
    API("GET", "api/v1/redoc/", "ReDoc: public", **API_DOCS),
]
for records in ("patients", "fractures", "procedures", "visits", "radiographs", "adverse-events"):
    ROWS += [
        API("GET", f"api/v1/{records}/", "the user's sites only", default=200),
        API("POST", f"api/v1/{records}/", **CREATE),
        API("GET", f"api/v1/{records}/<pk>/", **RECORD),
        API("PUT", f"api/v1/{records}/<pk>/", **CHANGE),
        API("PATCH", f"api/v1/{records}/<pk>/", **CHANGE),
    ]
ROWS += [
    API(
        "POST",
        "api/v1/patients/<pk>/withdraw/",
        "site administrators; no reason: 400",
        default=403,
        other_surgeon=404,
        site_admin=400,
        superuser=400,
    ),
    API("GET", "api/v1/treated-levels/", default=200),
    API(
        "POST",
        "api/v1/treated-levels/",
        "written with their procedure",
        default=405,
        coordinator=403,
    ),
    API("GET", "api/v1/treated-levels/<pk>/", **RECORD),
    API("PUT", "api/v1/treated-levels/<pk>/", **CHANGE),
    API("PATCH", "api/v1/treated-levels/<pk>/", **CHANGE),
    # Cohorts and statistics runs (site A's surgeon's cohort)
    API("GET", "api/v1/cohorts/", "own and site colleagues'", default=200),
    API(
        "POST",
        "api/v1/cohorts/",
        "a new definition: created",
        default=201,
        body={"name": "API", "filters": {"sexes": ["F"]}},
    ),
    API("GET", "api/v1/cohorts/<pk>/", **COHORT_A),
    API(
        "PUT",
        "api/v1/cohorts/<pk>/",
        "owner only; no body: 400",
        **{**COHORT_OWNER, "surgeon": 400, "superuser": 400},
    ),
    API("PATCH", "api/v1/cohorts/<pk>/", "owner only", **COHORT_OWNER),
    API(
        "DELETE",
        "api/v1/cohorts/<pk>/",
        "owner only",
        **{**COHORT_OWNER, "surgeon": 204, "superuser": 204},
    ),
    API("GET", "api/v1/cohorts/<int:cohort_pk>/runs/", **COHORT_A),
    API(
        "POST",
        "api/v1/cohorts/<int:cohort_pk>/runs/",
        "no analysis: 400",
        default=400,
        other_surgeon=404,
    ),
    API("GET", "api/v1/cohorts/<int:cohort_pk>/runs/<int:pk>/", **COHORT_A),
    API(
        "GET",
        "api/v1/cohorts/<int:cohort_pk>/runs/<int:pk>/result/",
        "not finished: 202",
        default=202,
        other_surgeon=404,
    ),
    # Aggregates over the patients the user may see (small cells withheld)
    API("GET", "api/v1/aggregates/outcomes/", AGGREGATE, default=202, query="metric=vas"),
    API("GET", "api/v1/aggregates/rates/", AGGREGATE, default=202, query="event=leakage"),
    API("GET", "api/v1/aggregates/tables/table1/", AGGREGATE, default=202),
    API("GET", "api/v1/aggregates/tables/table2/", AGGREGATE, default=202),
    # Exports (site A's coordinator's de-identified export, not yet built)
    API("GET", "api/v1/exports/", "each sees their own", default=200),
    API("POST", "api/v1/exports/", "empty body: 400 before the role check", default=400),
    API("GET", "api/v1/exports/<int:pk>/", "its owner only", **OWN_EXPORT),
    API(
        "GET",
        "api/v1/exports/<int:pk>/download/",
        "not built: 409",
        **{**OWN_EXPORT, "coordinator": 409},
    ),
    # Data quality (a finished run over site A, and its finding)
    API("GET", "api/v1/quality/", default=200),
    API("GET", "api/v1/quality/completeness/", default=200),
    API("GET", "api/v1/quality/findings/", default=200),
    API(
        "POST",
        "api/v1/quality/findings/<int:pk>/review/",
        "empty review: 400",
        default=400,
        other_surgeon=404,
    ),
    API(
        "POST",
        "api/v1/quality/runs/",
        "the page's run is still pending: 200, that one; else queued: 202",
        default=200,
        other_surgeon=403,
        token_write=202,
    ),
    API("GET", "api/v1/quality/runs/<int:pk>/", default=200, other_surgeon=404),
    # Any other /api/ URL: a JSON 404 for everyone
    API("GET", "^api/", "no such endpoint", anonymous=404, default=404),
    API("POST", "^api/", "no such endpoint", anonymous=404, default=404, token_read=404),
]

ADMIN_PREFIX = "admin/"
ADMIN_EXPECT = {actor: ADMIN_LOGIN for actor in ACTORS} | {"superuser": ADMIN}


def rows_by_key() -> dict[tuple[str, str], Row]:
    table = {}
    for row in ROWS:
        if row.key in table:
            raise ValueError(f"two rows for {row.key}")
        table[row.key] = row
    return table


def render_markdown() -> str:
    head = "| method | URL | " + " | ".join(ACTOR_LABELS[a] for a in ACTORS) + " | note |"
    lines = [head, "|" + "---|" * (len(ACTORS) + 3)]
    for row in ROWS:
        cells = " | ".join(str(row.expect[a]) for a in ACTORS)
        # A regex catch-all (`^api/`) reads as the prefix it catches: `/api/…`.
        route = f"{row.route[1:]}…" if row.route.startswith("^") else row.route
        url = f"/{route}" + (f"?{row.query}" if row.query else "")
        lines.append(f"| {row.method} | `{url}` | {cells} | {row.note} |")
    cells = " | ".join(str(ADMIN_EXPECT[a]) for a in ACTORS)
    lines.append(f"| any | `/admin/...` (every admin URL) | {cells} | Django admin: staff only |")
    return "\n".join(lines) + "\n"
