"""Filter escaping, self-link id encoding and the grant flow URLs."""

from __future__ import annotations

import pytest

from ledgerlink.connectors.economic.grant import installation_url, parse_grant_token
from ledgerlink.connectors.economic.urls import encode_id, filter_value


def test_filter_value_escapes_the_grammar() -> None:
    assert filter_value("ll:1:(a),b*[c]$") == "ll:1:$(a$)$,b$*$[c$]$$"
    assert filter_value("plain") == "plain"


def test_encode_id_uses_the_replacement_scheme() -> None:
    assert encode_id("My Awesome Product_Discount5%") == "My_9_Awesome_9_Product_8_Discount5_3_"
    assert encode_id("a/b.c:d") == "a_6_b_11_c_4_d"
    assert encode_id("2024/2025") == "2024_6_2025"
    assert encode_id("æ") == "%C3%A6"


def test_installation_url() -> None:
    url = installation_url("pub-123", "https://hub.example/callback?c=1")
    assert url == (
        "https://secure.e-conomic.com/secure/api1/requestaccess.aspx?appPublicToken=pub-123"
        "&redirectUrl=https%3A%2F%2Fhub.example%2Fcallback%3Fc%3D1"
    )
    assert installation_url("p", base="http://127.0.0.1:9/").startswith(
        "http://127.0.0.1:9/secure/api1/requestaccess.aspx?appPublicToken=p"
    )
    with pytest.raises(ValueError, match="public token"):
        installation_url(" ")


def test_parse_grant_token_from_url_or_query() -> None:
    assert parse_grant_token("https://hub.example/callback?c=1&token=abc123") == "abc123"
    assert parse_grant_token("?token=xyz") == "xyz"
    assert parse_grant_token("token=xyz") == "xyz"
    with pytest.raises(ValueError, match="no token"):
        parse_grant_token("https://hub.example/callback?error=denied")
