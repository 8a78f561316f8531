"""Sign-in, sign-out, password change, idle timeout, and where each actor lands."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD
from tests.registry.web_cases import signed_in

pytestmark = pytest.mark.django_db


def test_the_login_page_has_labelled_fields_and_bootstrap_from_static_files(client):
    html = client.get(reverse("login")).content.decode()
    assert '<label class="form-label" for="id_username">' in html
    assert '<label class="form-label" for="id_password">' in html
    assert "/static/bootstrap/css/bootstrap.min.css" in html
    assert "/static/bootstrap/js/bootstrap.bundle.min.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another host


@pytest.mark.parametrize("actor", ["surgeon_a", "surgeon_b", "coordinator"])
def test_after_sign_in_every_actor_lands_on_the_worklist(actor, request):
    user = request.getfixturevalue(actor)
    client = Client()
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("worklist")
    assert response.status_code == 200
    assert user.username in response.content.decode()


def test_a_wrong_password_is_refused_with_a_message(surgeon_a, client):
    response = client.post(reverse("login"), {"username": "surgeon-a", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("name", ["home", "worklist", "patient_list", "patient_create"])
def test_pages_need_a_signed_in_user(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_navbar_shows_the_user_their_sites_and_sign_out(surgeon_a, coordinator):
    html = signed_in(coordinator).get(reverse("worklist")).content.decode()
    assert "Hospital A" in html and "Hospital B" in html
    assert "Research coordinator" in html
    assert f'action="{reverse("logout")}"' in html
    assert reverse("password_change") in html
    assert "New patient" not in html  # a coordinator does not enter cases
    assert "New patient" in signed_in(surgeon_a).get(reverse("worklist")).content.decode()


def test_sign_out_ends_the_session(surgeon_a):
    client = signed_in(surgeon_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("worklist")).status_code == 302


def test_a_password_change_needs_the_old_password(surgeon_a):
    client = signed_in(surgeon_a)
    assert client.get(reverse("password_change")).status_code == 200
    bad = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "Vertebra-2024!",
            "new_password2": "Vertebra-2024!",
        },
    )
    assert bad.status_code == 200
    assert "id_old_password_error" in bad.content.decode()
    good = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Vertebra-2024!",
            "new_password2": "Vertebra-2024!",
        },
        follow=True,
    )
    assert "Your password was changed" in good.content.decode()
    surgeon_a.refresh_from_db()
    assert surgeon_a.check_password("Vertebra-2024!")


def test_the_idle_timeout_is_the_session_lifetime_renewed_on_every_request(surgeon_a):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client = signed_in(surgeon_a)
    client.get(reverse("worklist"))
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1) < remaining
    # Idle past the timeout: the next request is sent to sign in again.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("worklist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_knows_the_timeout_and_typing_keeps_the_session_alive(surgeon_a, client):
    assert client.get(reverse("session_keepalive")).status_code == 401
    signed = signed_in(surgeon_a)
    html = signed.get(reverse("worklist")).content.decode()
    assert f'name="registry-idle-timeout" content="{settings.SESSION_COOKIE_AGE}"' in html
    assert signed.get(reverse("session_keepalive")).status_code == 204


def test_the_login_page_says_why_after_an_idle_sign_out(client):
    html = client.get(reverse("login") + "?idle=1").content.decode()
    assert "signed out after 30 minutes without activity" in html
