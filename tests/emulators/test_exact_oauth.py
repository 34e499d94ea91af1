"""Exact Online emulator: the OAuth2 code flow, 600 s access tokens, single-use rotating
refresh tokens ("Old refresh token used"), the too-early refusal, divisions and access."""

from __future__ import annotations

from ledgerlink.emulators.exact.seed import MAIN, NO_ACCESS, SISTER
from tests.emulators.exact_support import ADMIN, DIVISION, message, session


def test_code_flow_gives_600_second_tokens_and_me_names_the_current_division() -> None:
    s = session()
    assert s.tokens["expires_in"] == "600"
    assert s.tokens["token_type"] == "bearer"
    me = s.get("/api/v1/current/Me", **{"$select": "CurrentDivision"})
    assert me.status_code == 200
    (record,) = me.json()["d"]["results"]
    assert record["CurrentDivision"] == MAIN
    assert set(record) == {"__metadata", "CurrentDivision"}


def test_divisions_lists_the_ones_the_user_may_open_and_others_answer_403() -> None:
    s = session()
    listed = s.get(f"{DIVISION}/system/Divisions").json()["d"]["results"]
    assert {d["Code"] for d in listed} == {MAIN, SISTER}
    assert [d["Currency"] for d in listed if d["Current"]] == ["EUR"]
    refused = s.get(f"/api/v1/{NO_ACCESS}/crm/Accounts")
    assert refused.status_code == 403
    assert "no access" in message(refused)


def test_access_token_expires_after_600_seconds_and_a_refresh_rotates() -> None:
    s = session()
    s.clock.now += 599
    assert s.get(f"{DIVISION}/logistics/Items").status_code == 200
    s.clock.now += 1
    expired = s.get(f"{DIVISION}/logistics/Items")
    assert expired.status_code == 401
    assert "expired" in message(expired)
    old = s.tokens["refresh_token"]
    assert s.refresh().status_code == 200
    assert s.tokens["refresh_token"] != old
    assert s.get(f"{DIVISION}/logistics/Items").status_code == 200


def test_a_spent_refresh_token_answers_old_refresh_token_used() -> None:
    s = session()
    s.clock.now += 600
    spent = s.tokens["refresh_token"]
    assert s.refresh().status_code == 200
    s.tokens["refresh_token"] = spent
    s.clock.now += 600
    again = s.refresh()
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "Old refresh token used"}


def test_a_refresh_before_nine_and_a_half_minutes_is_refused() -> None:
    s = session()
    s.clock.now += 300
    early = s.refresh()
    assert early.status_code == 400
    assert early.json()["error"] == "access_denied"
    assert early.json()["error_description"] == "Rate limit exceeded: access_token not expired"
    s.clock.now += 270
    assert s.refresh().status_code == 200


def test_unused_refresh_token_expires_after_30_days_and_revoke_needs_a_new_consent() -> None:
    s = session()
    s.clock.now += 30 * 86_400
    assert s.refresh().json()["error"] == "invalid_grant"
    t = session()
    assert t.client.post("/_emulator/tokens/revoke", headers=ADMIN).status_code == 200
    assert t.get(f"{DIVISION}/logistics/Items").status_code == 401
    assert t.client.post("/_emulator/tokens/revoke").status_code == 401
