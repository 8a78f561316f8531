"""Sign-in extras and the access log. Included before django.contrib.auth.urls so that our
password reset (which knows whether mail is configured) answers /accounts/password_reset/."""

from django.urls import path

from registry.views import access_log, account

account_patterns = [
    path("password_reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path("two-factor/setup/", account.two_factor_setup_view, name="two_factor_setup"),
    path("two-factor/verify/", account.two_factor_verify_view, name="two_factor_verify"),
]

access_log_patterns = [
    path("", access_log.access_log_view, name="access_log"),
    path("export.csv", access_log.access_log_csv_view, name="access_log_csv"),
    path("unlock/", access_log.unlock_view, name="access_log_unlock"),
]
