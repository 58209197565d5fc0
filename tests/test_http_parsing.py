"""The server's own parse of Slack's requests (bot/server.py, bot/http_guard.py) gives what
the standard library and Bolt would: it exists only to be cheaper (issue #14)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.devtools.signing import command_body
from bot.http_guard import parse_form
from bot.server import BOLT_HEADERS, _parse_slack_body, bolt_request

# Characters that mean something in a form body, and some that must be escaped.
FORM_CHARS = st.text(alphabet=st.sampled_from("ab=&+%;2Fz0 é\x00/?#"), max_size=40)


@given(FORM_CHARS)
def test_parse_form_is_parse_qsl_on_any_text(text: str) -> None:
    assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True))


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=8))
def test_parse_form_reads_back_what_urlencode_wrote(fields: dict[str, str]) -> None:
    assert parse_form(urlencode(fields)) == fields


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("", {}),
        ("text=now", {"text": "now"}),
        ("text=", {"text": ""}),
        ("text", {"text": ""}),
        ("a=1&a=2", {"a": "2"}),
        ("text=a+b%2Bc%26d", {"text": "a b+c&d"}),
        ("&&x=1&", {"x": "1"}),
        ("t=%C3%A9%ZZ%E9", {"t": "é%ZZ\ufffd"}),
    ],
)
def test_parse_form_table(text: str, form: dict[str, str]) -> None:
    assert parse_form(text) == form


COMMAND = command_body(
    "/oncall", "now growth-agg", "U0PRRAO002", response_url="https://hooks.slack.com/x/1"
)
ACTION = "payload=" + '{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"a"}]}'


@pytest.mark.parametrize(
    ("text", "content_type", "query"),
    [
        (COMMAND, "application/x-www-form-urlencoded", ""),
        (ACTION, "application/x-www-form-urlencoded", "x=1"),
        ('{"type":"event_callback","event":{"type":"app_home_opened"}}', "application/json", ""),
    ],
)
def test_bolt_request_is_what_bolts_constructor_builds(
    text: str, content_type: str, query: str
) -> None:
    headers: dict[str, str] = {"Content-Type": content_type, "X-Slack-Retry-Num": "1"}
    assert set(headers) <= set(BOLT_HEADERS)
    ours = bolt_request(text, _parse_slack_body(content_type, text), dict(headers), query)
    bolts = AsyncBoltRequest(body=text, query=query, headers=dict(headers))
    # Every attribute, so a Bolt release that adds one fails here rather than in a listener.
    assert vars(ours).keys() == vars(bolts).keys()
    for name, value in vars(bolts).items():
        mine = vars(ours)[name]
        assert (dict(mine) if name == "context" else mine) == (
            dict(value) if name == "context" else value
        ), name
