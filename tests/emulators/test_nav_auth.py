"""NAV emulator: NavUserPassword (password or web service access key) and Windows challenges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from ledgerlink.emulators.nav import UserDef
from tests.emulators.test_nav_support import INSTANCE, config, serve_nav

KEY = "Zq3RvA8yT2mB7xK1pL5wN9cH4dF6gJ0sE2uI8oY3aQk="
WSDL = f"/{INSTANCE}/WS/CRONUS%20International%20Ltd./Page/TlpCustomerNavWS"


def test_password_access_key_expiry_and_wrong_credentials() -> None:
    assert len(KEY) == 44
    users = (
        UserDef(name="WEBSERVICE", password="Passw0rd!", access_key=KEY),
        UserDef(
            name="OLDKEY",
            password="old-pass",
            access_key=KEY[::-1],
            access_key_expires=datetime.now(UTC) - timedelta(days=1),
        ),
    )
    with serve_nav(config(users=users)) as nav:

        def status(auth: tuple[str, str] | None) -> httpx2.Response:
            return httpx2.get(nav.url + WSDL, auth=auth, timeout=10)

        assert status(("WEBSERVICE", "Passw0rd!")).status_code == 200
        assert status(("webservice", KEY)).status_code == 200
        assert status(("OLDKEY", "old-pass")).status_code == 200
        assert status(("OLDKEY", KEY[::-1])).status_code == 401
        wrong = status(("WEBSERVICE", "nope"))
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Basic realm=")
        assert status(None).status_code == 401
        odata = httpx2.get(f"{nav.odata_base}/Company", timeout=10)
        assert odata.status_code == 401
        admin = httpx2.get(f"{nav.url}/_emulator/job-queue", timeout=10)
        assert admin.status_code == 401


def test_windows_credentials_answer_negotiate_and_optionally_ntlm() -> None:
    with serve_nav(config(credential_type="Windows")) as nav:
        response = nav.http.get(WSDL)
        assert response.status_code == 401
        assert response.headers.get_list("www-authenticate") == ["Negotiate"]
        # The admin routes still take Basic, so a rehearsal can be driven.
        assert nav.admin("GET", "/job-queue").status_code == 200
    with serve_nav(config(credential_type="Windows", windows_ntlm=True)) as nav:
        challenges = nav.http.get(WSDL).headers.get_list("www-authenticate")
        assert challenges == ["Negotiate", "NTLM"]


def test_access_keys_must_have_44_characters() -> None:
    with pytest.raises(ValueError, match="44 characters"):
        UserDef(name="X", password="p", access_key="short")
