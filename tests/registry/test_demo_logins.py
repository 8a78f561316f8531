from io import StringIO

import pytest
from django.core.management import call_command

from registry.demo import demo_accounts, ensure_demo_users


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def logins(*args: str) -> str:
    out = StringIO()
    call_command("demo_logins", *args, stdout=out)
    return out.getvalue()


def test_it_prints_every_demo_account_with_password_role_and_sites(db):
    sites, _, _ = ensure_demo_users(4)
    codes = [site.code for site in sites]
    output = logins()
    lines = output.splitlines()

    for account in demo_accounts(codes):
        line = next(line for line in lines if line.split()[:1] == [account.username])
        assert account.password in line
        assert account.role_label in line
        for code in account.site_codes:
            assert code in line
    assert "all sites" in next(line for line in lines if line.split()[:1] == ["admin"])
    assert ", ".join(codes) in next(line for line in lines if "coordinator" in line.split())
    assert "http://127.0.0.1:8000/" in output


def test_it_does_not_list_the_system_user_who_cannot_sign_in(db):
    ensure_demo_users(2)
    assert "seed_demo" not in logins()


def test_it_takes_another_url(db):
    ensure_demo_users(1)
    assert "http://localhost:9000/" in logins("--url", "http://localhost:9000/")


def test_it_says_when_there_are_no_demo_accounts(db):
    assert "seed_demo" in logins()
    assert "ovcf-" not in logins()
