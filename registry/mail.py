"""EMAIL_URL -> Django's email settings (password reset mail).

    smtp://user:password@mail.example.org:587   SMTP with STARTTLS (the usual submission port)
    smtps://user:password@mail.example.org:465  SMTP over TLS
    smtp+plain://relay.internal:25              SMTP without encryption (a trusted relay)
    console://                                  print mails on the console (development)
    file:///var/mail/registry                   one file per mail in that folder

Empty: no mail is configured, and the password reset page says that resets go through an
administrator instead of pretending a mail was sent.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_SMTP = "django.core.mail.backends.smtp.EmailBackend"


def email_settings(url: str) -> dict:
    if not url:
        return {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a folder, e.g. file:///var/mail")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parts.path,
        }
    if scheme not in {"smtp", "smtps", "smtp+plain"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme must be smtp, smtps, smtp+plain, console or file, got {scheme!r}"
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL needs a host, e.g. smtp://user:pass@host:587")
    default_port = {"smtp": 587, "smtps": 465, "smtp+plain": 25}[scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number") from None
    return {
        "EMAIL_BACKEND": _SMTP,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp",
        "EMAIL_USE_SSL": scheme == "smtps",
    }
