"""Sign-in defences: lockout per account and per address, administrator unlock, password
validators, the password reset with and without mail, the TOTP second factor."""

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccessAction, AccessEvent, Role
from tests.factories import PASSWORD, UserFactory, member

pytestmark = pytest.mark.django_db


def sign_in(username, password, address="10.0.0.1", client=None, **extra):
    client = client or Client(REMOTE_ADDR=address)
    response = client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )
    return client, response


def signed_in_now(client) -> bool:
    return "_auth_user_id" in client.session


def test_an_account_locks_after_five_failures_from_any_addresses(surgeon_a):
    for attempt in range(5):
        sign_in("surgeon-a", "wrong", address=f"10.0.0.{attempt + 1}")
    client, response = sign_in("surgeon-a", PASSWORD, address="10.0.9.9")
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert not signed_in_now(client)
    actions = list(AccessEvent.objects.values_list("action", flat=True))
    assert actions.count(AccessAction.SIGN_IN_FAILED) >= 5
    assert AccessAction.LOCKED_OUT in actions


def test_an_address_locks_after_five_failures_for_any_accounts(surgeon_a, surgeon_b):
    for attempt in range(5):
        sign_in(f"nobody-{attempt}", "wrong", address="10.1.1.1")
    client, response = sign_in("surgeon-b", PASSWORD, address="10.1.1.1")
    assert response.status_code == 429 and not signed_in_now(client)
    client, response = sign_in("surgeon-b", PASSWORD, address="10.2.2.2")
    assert response.status_code == 302 and signed_in_now(client)


def test_a_success_before_the_limit_clears_the_count(surgeon_a):
    for _ in range(4):
        sign_in("surgeon-a", "wrong")
    assert signed_in_now(sign_in("surgeon-a", PASSWORD)[0])
    for _ in range(4):
        sign_in("surgeon-a", "wrong")
    assert signed_in_now(sign_in("surgeon-a", PASSWORD)[0])


def test_a_site_administrator_lifts_a_lockout_of_their_member_only(
    surgeon_a, surgeon_b, site_admin_a
):
    for name in ("surgeon-a", "surgeon-b"):
        for attempt in range(5):
            sign_in(name, "wrong", address=f"10.3.{attempt}.1")
    admin = Client()
    admin.force_login(site_admin_a)
    page = admin.get(reverse("access_log")).content.decode()
    assert "Current lockouts" in page and "surgeon-a" in page and "surgeon-b" not in page
    refused = admin.post(reverse("access_log_unlock"), {"username": "surgeon-b"})
    assert refused.status_code == 403
    admin.post(reverse("access_log_unlock"), {"username": "surgeon-a"})
    assert signed_in_now(sign_in("surgeon-a", PASSWORD, address="10.9.0.1")[0])
    assert not signed_in_now(sign_in("surgeon-b", PASSWORD, address="10.9.0.2")[0])
    assert AccessEvent.objects.filter(action=AccessAction.UNLOCKED, object_id="surgeon-a").exists()


def test_password_validators_refuse_a_short_or_common_password(surgeon_a):
    client = Client()
    client.force_login(surgeon_a)
    for weak in ("short1", "password1234"):
        response = client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200
        assert "id_new_password2_error" in response.content.decode()


@override_settings(EMAIL_CONFIGURED=False)
def test_without_mail_the_reset_page_says_an_administrator_resets(surgeon_a, client):
    for response in (
        client.get(reverse("password_reset")),
        client.post(reverse("password_reset"), {"email": surgeon_a.email}),
    ):
        html = response.content.decode()
        assert "go through an" in html and "administrator" in html
        assert "<form" not in html.split("<main", 1)[1]
    assert mail.outbox == []


@override_settings(
    EMAIL_CONFIGURED=True, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
)
def test_with_mail_the_reset_sends_a_link_that_sets_a_new_password(surgeon_a, client):
    response = client.post(reverse("password_reset"), {"email": surgeon_a.email}, follow=True)
    assert "link to set a new password is on its way" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [surgeon_a.email]
    link = next(w for w in mail.outbox[0].body.split() if "/accounts/reset/" in w)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    new = "Kyphoplasty-Cement-2024"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Your new password is set" in done.content.decode()
    surgeon_a.refresh_from_db()
    assert surgeon_a.check_password(new)
    assert AccessEvent.objects.filter(action=AccessAction.PASSWORD_RESET).count() == 1


def test_email_url_selects_the_backend():
    from django.core.exceptions import ImproperlyConfigured

    from registry.mail import email_settings

    smtp = email_settings("smtp://reg%40x.org:p%3Ass@mail.example.org")
    assert smtp["EMAIL_HOST"] == "mail.example.org" and smtp["EMAIL_PORT"] == 587
    assert smtp["EMAIL_USE_TLS"] and not smtp["EMAIL_USE_SSL"]
    assert (smtp["EMAIL_HOST_USER"], smtp["EMAIL_HOST_PASSWORD"]) == ("reg@x.org", "p:ss")
    assert email_settings("smtps://h:2465")["EMAIL_USE_SSL"]
    assert email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert "dummy" in email_settings("")["EMAIL_BACKEND"]
    with pytest.raises(ImproperlyConfigured, match="scheme"):
        email_settings("imap://h")


def _unthrottle(device: TOTPDevice) -> None:
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@override_settings(SECOND_FACTOR_REQUIRED_FOR_ADMINS=True)
def test_a_site_administrator_must_enrol_then_verify_a_second_factor(site_admin_a, patients_a):
    client, _ = sign_in("admin-a", PASSWORD)
    assert signed_in_now(client)
    page = client.get(reverse("patient_list"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("two_factor_setup"))
    setup = client.get(page["Location"])
    assert b"data:image/svg+xml;base64," in setup.content
    device = TOTPDevice.objects.get(user=site_admin_a)
    assert not device.confirmed
    client.post(reverse("two_factor_setup"), {"token": "000000"})
    assert client.get(reverse("patient_list")).status_code == 302  # a wrong code enrols nothing
    _unthrottle(device)  # a failure delays the next try by a second (django-otp throttling)
    client.post(reverse("two_factor_setup"), {"token": _code(device)})
    assert client.get(reverse("patient_list")).status_code == 200
    # Next sign-in: the code is asked for.
    client.post(reverse("logout"))
    device.refresh_from_db()
    device.last_t = -1  # the same 30-second code may be used once: let the test reuse it
    device.save()
    client, _ = sign_in("admin-a", PASSWORD)
    page = client.get(reverse("patient_list"))
    assert page["Location"].startswith(reverse("two_factor_verify"))
    client.post(reverse("two_factor_verify"), {"token": "123456"})
    assert client.get(reverse("patient_list")).status_code == 302
    _unthrottle(device)
    client.post(reverse("two_factor_verify"), {"token": _code(device)})
    assert client.get(reverse("patient_list")).status_code == 200
    actions = set(AccessEvent.objects.values_list("action", flat=True))
    assert {AccessAction.SECOND_FACTOR_ENROLLED, AccessAction.SECOND_FACTOR_FAILED} <= actions
    assert AccessAction.SECOND_FACTOR in actions


@override_settings(SECOND_FACTOR_REQUIRED_FOR_ADMINS=True)
def test_a_superuser_without_a_device_is_led_from_the_admin_to_enrol_then_the_admin_works():
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="10.0.0.1", raise_request_exception=False)
    signed = client.post(
        f"{reverse('admin:login')}?next=/admin/",
        {"username": "root", "password": PASSWORD, "next": "/admin/"},
    )
    assert signed.status_code == 302
    admin_page = client.get(reverse("admin:index"))
    assert admin_page.status_code == 302
    setup_url = admin_page["Location"]
    assert setup_url.startswith(reverse("two_factor_setup")) and "next=%2Fadmin%2F" in setup_url
    setup = client.get(setup_url)
    assert setup.status_code == 200 and b"data:image/svg+xml;base64," in setup.content
    device = TOTPDevice.objects.get(user=root, confirmed=False)
    enrolled = client.post(setup_url, {"token": _code(device), "next": "/admin/"})
    assert enrolled.status_code == 302 and enrolled["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    # django-otp's device pages in the admin: the device's QR code, and 404 (not 500) for
    # a device that does not exist.
    device.refresh_from_db()
    assert device.confirmed
    config = client.get(reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk}))
    assert config.status_code == 200
    qr = client.get(reverse("admin:otp_totp_totpdevice_qrcode", kwargs={"pk": device.pk}))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    for name in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        assert client.get(reverse(name, kwargs={"pk": device.pk + 99})).status_code == 404
    # The next sign-in to the admin asks for the code before the admin opens.
    client.post(reverse("admin:logout"))
    device.last_t = -1  # the same 30-second code may be used once: let the test reuse it
    device.save()
    client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    page = client.get(reverse("admin:index"))
    assert page["Location"].startswith(reverse("two_factor_verify"))
    client.post(reverse("two_factor_verify"), {"token": _code(device)})
    assert client.get(reverse("admin:index")).status_code == 200
    actions = set(AccessEvent.objects.filter(user=root).values_list("action", flat=True))
    assert {AccessAction.SECOND_FACTOR_ENROLLED, AccessAction.SECOND_FACTOR} <= actions


@override_settings(SECOND_FACTOR_REQUIRED_FOR_ADMINS=True)
def test_a_surgeon_may_go_without_a_second_factor_but_once_enrolled_uses_it(surgeon_a):
    client, _ = sign_in("surgeon-a", PASSWORD)
    assert client.get(reverse("patient_list")).status_code == 200
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=surgeon_a)
    client.post(reverse("two_factor_setup"), {"token": _code(device)})
    client.post(reverse("logout"))
    client, _ = sign_in("surgeon-a", PASSWORD)
    assert client.get(reverse("patient_list"))["Location"].startswith(reverse("two_factor_verify"))


@override_settings(SECOND_FACTOR_REQUIRED_FOR_ADMINS=False)
def test_outside_production_administrators_are_not_forced(site_admin_a):
    client, _ = sign_in("admin-a", PASSWORD)
    assert client.get(reverse("patient_list")).status_code == 200


@pytest.fixture
def patients_a(site_a):
    return member(site_a, Role.SURGEON, username="surgeon-x")
