import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.people.models import User

from ..conftest import DEMO_EMAILS, Browser, text_of


def test_signing_in_and_out(browser):
    response = browser.post("/login", {"email": DEMO_EMAILS["analyst"], "password": "shropshire-demo-2010"})
    assert response.status_code == 302
    page = browser.get("/plan/")
    assert "Ann Analyst" in text_of(page)
    assert browser.post("/logout").status_code == 302
    assert browser.get("/plan/").status_code == 302  # back to the sign-in page


def test_a_wrong_password_is_refused_with_one_message_for_every_failure(browser):
    for email, password in ((DEMO_EMAILS["admin"], "not-the-password"), ("nobody@example.org", "whatever-123")):
        response = browser.post("/login", {"email": email, "password": password})
        assert response.status_code == 400
        assert "Enter a correct email address and password" in text_of(response)
        assert 'href="#' in response.get_data(as_text=True) or "govuk-error-summary" in response.get_data(as_text=True)


def test_empty_sign_in_names_each_missing_field(browser):
    response = browser.post("/login", {"email": "", "password": ""})
    page = text_of(response)
    assert "Enter your email address" in page and "Enter your password" in page
    assert 'href="#email"' in response.get_data(as_text=True)


def test_sign_in_only_follows_same_site_next_links(browser):
    response = browser.post("/login?next=https://evil.example/x",
                            {"email": DEMO_EMAILS["admin"], "password": "shropshire-demo-2010"})
    assert "evil.example" not in response.headers["Location"]
    browser.post("/logout")
    response = browser.post("/login?next=/admin/partners/",
                            {"email": DEMO_EMAILS["admin"], "password": "shropshire-demo-2010"})
    assert response.headers["Location"].endswith("/admin/partners/")


def test_a_deactivated_account_cannot_sign_in_and_is_signed_out(app, as_role):
    partner = as_role("partner")
    assert partner.get("/plan/").status_code == 200
    user = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["partner"])).scalar_one()
    user.active = False
    db.session.commit()
    assert partner.get("/plan/").status_code == 302
    response = Browser(app).post("/login", {"email": DEMO_EMAILS["partner"], "password": "shropshire-demo-2010"})
    assert response.status_code == 400


def test_passwords_are_stored_hashed_with_scrypt(app):
    user = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one()
    assert user.password_hash.startswith("scrypt:")
    assert "shropshire-demo-2010" not in user.password_hash
    assert user.last_login_at is None


def test_sign_in_records_the_time(app, as_role):
    as_role("officer")
    user = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one()
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_repeated_failed_sign_ins_are_slowed_down(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    person = Browser(app)
    codes = [person.post("/login", {"email": DEMO_EMAILS["admin"], "password": "wrong-password"}).status_code
             for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_admin_creates_an_officer_who_can_then_sign_in(app, as_role):
    admin = as_role("admin")
    page = admin.get("/admin/users/new")
    north = next(v for v, label in _choices(page, "areas") if label == "North")
    response = admin.post("/admin/users/new", {
        "display_name": "PC Sam Oswestry", "email": "Sam.Oswestry@Example.org", "role": "officer",
        "organisation": "", "areas": [north], "password": "a-long-enough-password", "active": "y"})
    assert response.status_code == 302
    assert "PC Sam Oswestry" in text_of(admin.get("/admin/users"))
    Browser(app).sign_in("sam.oswestry@example.org", "a-long-enough-password")


def test_user_form_errors_name_each_field_and_keep_the_values(app, as_role):
    admin = as_role("admin")
    before = db.session.query(User).count()
    response = admin.post("/admin/users/new", {
        "display_name": "Pat Two", "email": "not-an-email", "role": "partner", "organisation": "",
        "password": "short", "active": "y"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter an email address in the correct format" in html
    assert 'value="Pat Two"' in html
    response = admin.post("/admin/users/new", {
        "display_name": "Pat Two", "email": "pat.two@example.org", "role": "partner", "organisation": "",
        "password": "a-long-enough-password", "active": "y"})
    assert "A partner user must belong to a partner organisation" in text_of(response)
    response = admin.post("/admin/users/new", {
        "display_name": "Dup", "email": DEMO_EMAILS["analyst"].upper(), "role": "analyst", "organisation": "",
        "password": "a-long-enough-password", "active": "y"})
    assert f"There is already an account for {DEMO_EMAILS['analyst']}" in text_of(response)
    assert db.session.query(User).count() == before


def test_admin_deactivates_a_user(app, as_role):
    admin = as_role("admin")
    user = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["analyst"])).scalar_one()
    response = admin.post(f"/admin/users/{user.id}", {
        "display_name": user.display_name, "email": user.email, "role": "analyst",
        "organisation": str(user.organisation_id), "password": ""})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.active is False
    assert user.check_password("shropshire-demo-2010")  # an empty password field keeps it


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from portal.config import Config

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Config())


def test_production_has_no_demo_accounts_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    from portal.config import Config

    config = Config()
    assert config.DEMO_ACCOUNTS is False
    assert config.SESSION_COOKIE_SECURE is True and config.SESSION_COOKIE_HTTPONLY is True


def _choices(response, name):
    """(value, label) of the checkboxes a person sees for a field."""
    import re

    html = response.get_data(as_text=True)
    pattern = r'<input[^>]*name="%s"[^>]*value="([^"]+)"[^>]*>\s*<label[^>]*>\s*([^<]+?)\s*</label>' % name
    out = [(m.group(1), m.group(2)) for m in re.finditer(pattern, html)]
    assert out, f"no choices for {name}"
    return out


# ---- sign-out and a new password end every session of the account -----------------------------

def _two_browsers(app, role):
    first, second = Browser(app).sign_in(DEMO_EMAILS[role]), Browser(app).sign_in(DEMO_EMAILS[role])
    assert first.get("/plan/").status_code == 200 and second.get("/plan/").status_code == 200
    return first, second


def test_signing_out_in_one_browser_signs_the_account_out_everywhere(app):
    laptop, phone = _two_browsers(app, "officer")
    assert laptop.post("/logout").status_code == 302
    response = phone.get("/concerns/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "PC Olivia Officer" not in text_of(phone.get("/"))
    # and the account signs in again as normal
    assert Browser(app).sign_in(DEMO_EMAILS["officer"]).get("/concerns/").status_code == 200


def test_a_new_password_signs_out_every_other_browser_but_not_this_one(app):
    laptop, phone = _two_browsers(app, "analyst")
    old_cookie = phone.client.get_cookie("session").value
    response = laptop.post("/account/password", {"current_password": "shropshire-demo-2010",
                                                 "new_password": "a-brand-new-passphrase"})
    assert response.status_code == 302
    assert laptop.get("/plan/").status_code == 200
    assert phone.get("/plan/").status_code == 302
    thief = Browser(app)
    thief.client.set_cookie("session", old_cookie)
    assert thief.get("/plan/").status_code == 302  # a copied cookie is no use either
    Browser(app).sign_in(DEMO_EMAILS["analyst"], "a-brand-new-passphrase")


def test_an_admin_setting_a_password_signs_the_account_out_everywhere(app, as_role):
    partner = as_role("partner")
    user = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["partner"])).scalar_one()
    response = as_role("admin").post(f"/admin/users/{user.id}", {
        "display_name": user.display_name, "email": user.email, "role": "partner",
        "organisation": str(user.organisation_id), "password": "reset-by-the-admin", "active": "y"})
    assert response.status_code == 302
    assert partner.get("/tasks/").status_code == 302


# ---- demo accounts never work in production -------------------------------------------------

def test_demo_accounts_never_sign_in_in_production_even_if_a_development_seed_left_them(make_app):
    development = make_app()
    signed_in = Browser(development).sign_in(DEMO_EMAILS["admin"])
    cookie = signed_in.client.get_cookie("session").value
    production = make_app(ENV_NAME="production")
    for role, email in DEMO_EMAILS.items():
        response = Browser(production).post("/login", {"email": email, "password": "shropshire-demo-2010"})
        assert response.status_code == 400, role
        assert "Enter a correct email address and password" in text_of(response)
    carried = Browser(production)
    carried.client.set_cookie("session", cookie)
    assert carried.get("/admin/users").status_code == 302  # a demo session from before is signed out
    with production.app_context():
        real = User(email="real.admin@shropshire.example", display_name="Real Admin", role="admin")
        real.set_password("a-real-long-password")
        db.session.add(real)
        db.session.commit()
    assert Browser(production).sign_in("real.admin@shropshire.example", "a-real-long-password")


def test_seed_without_demo_removes_the_demo_accounts(app):
    from datetime import date

    from portal.concerns.models import Concern, ConcernCategory
    from portal.places.models import Locality

    officer = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one()
    # The demo officer logged a concern: its history stays, so their row must stay too.
    logged = Concern(locality=db.session.execute(select(Locality).filter_by(key="wem")).scalar_one(),
                     category=db.session.execute(select(ConcernCategory)).scalars().first(), source="pact",
                     raised_on=date(2010, 3, 1), you_said="Logged by the demo officer", created_by_id=officer.id)
    db.session.add(logged)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["seed", "--no-demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    left = db.session.execute(select(User).where(User.email.in_(DEMO_EMAILS.values()))).scalars().all()
    assert [u.email for u in left] == [DEMO_EMAILS["officer"]]
    assert left[0].active is False and not left[0].check_password("shropshire-demo-2010")
    for email in DEMO_EMAILS.values():
        response = Browser(app).post("/login", {"email": email, "password": "shropshire-demo-2010"})
        assert response.status_code == 400
    assert db.session.get(Concern, logged.id).created_by_id == officer.id


def test_production_refuses_to_load_demo_accounts(make_app):
    production = make_app(ENV_NAME="production")
    with production.app_context():  # as `flask` does for every command
        result = production.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code != 0 and "never in production" in result.output


# ---- settings that would be unsafe refuse to start --------------------------------------------

@pytest.mark.parametrize("value", ("prod", "Production", "staging", ""))
def test_an_unknown_portal_env_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("PORTAL_ENV", value)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    from portal.config import Config

    with pytest.raises(RuntimeError, match=r"PORTAL_ENV must be 'development' or 'production'"):
        create_app(Config())


@pytest.mark.parametrize("env", ("production", "development"))
def test_a_short_secret_key_refuses_to_start(monkeypatch, env):
    monkeypatch.setenv("PORTAL_ENV", env)
    monkeypatch.setenv("SECRET_KEY", "s" * 31)
    from portal.config import Config

    with pytest.raises(RuntimeError, match="SECRET_KEY must be at least 32 bytes"):
        create_app(Config())
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    create_app(Config())
