"""Airflow Connections in both forms (URI, JSON), parsed the way Airflow does, secrets kept out of repr."""

from __future__ import annotations

import json

import pytest

from list_hygiene.sync.connections import ConnectionConfigError, get_connection, parse_connection


def test_uri_with_encoded_scheme_host_and_query_extra() -> None:
    c = parse_connection("sendgrid_default", "http://:SG.k%2Fey@http%3A%2F%2F127.0.0.1%3A8080/?batch_size=5")
    assert (c.conn_type, c.host, c.login, c.password) == ("http", "http://127.0.0.1:8080", None, "SG.k/ey")
    assert c.base_url("https://api.sendgrid.com") == "http://127.0.0.1:8080"
    assert c.setting("batch_size", 1000, int) == 5


def test_uri_plain_host_schema_and_dunder_extra() -> None:
    extra = json.dumps({"domain": "mg.example.com", "region": "eu"})
    c = parse_connection("mailgun_default", f"mailgun://api:key-1@api.mailgun.net:443/mg.example.com?__extra__={extra}")
    assert (c.host, c.port, c.login, c.schema) == ("api.mailgun.net", 443, "api", "mg.example.com")
    assert c.extra == {"domain": "mg.example.com", "region": "eu"}
    assert c.base_url("x") == "https://api.mailgun.net:443"


def test_json_form_with_string_or_dict_extra() -> None:
    a = parse_connection("hubspot_default", json.dumps({"conn_type": "http", "host": "https://api.hubapi.com",
                                                        "password": "pat", "extra": json.dumps({"subscription_id": 7})}))
    b = parse_connection("hubspot_default", json.dumps({"conn_type": "http", "password": "pat",
                                                        "extra": {"subscription_id": 7}}))
    assert a.extra == b.extra == {"subscription_id": 7}
    assert a.base_url("https://default") == "https://api.hubapi.com"
    assert b.base_url("https://default") == "https://default"


def test_repr_never_shows_secrets() -> None:
    c = parse_connection("x", "http://user:hunter2-secret@host/?token=abc")
    assert "hunter2" not in repr(c) and "hunter2" not in str(c) and "user" not in repr(c)


def test_invalid_values_name_the_connection_not_the_secret() -> None:
    with pytest.raises(ConnectionConfigError) as ei:
        parse_connection("postmark_default", '{"password": "s3cret", ')
    assert "postmark_default" in str(ei.value) and "s3cret" not in str(ei.value)


def test_get_connection_from_env_mapping() -> None:
    env = {"AIRFLOW_CONN_POSTMARK_DEFAULT": "postmark://:tok@api.postmarkapp.com"}
    assert get_connection("postmark", env).password == "tok"
    assert get_connection("sendgrid", env) is None
