"""The Google sandbox's OAuth flow: consent page, Allow/Deny, code exchange with PKCE, userinfo."""

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from google.oauth2.credentials import Credentials


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(url, data=None, headers=None):
    opener = urllib.request.build_opener(NoRedirect)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=body, headers=headers or {})) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


VERIFIER = "a" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
PARAMS = {"client_id": "crm-app", "redirect_uri": "http://127.0.0.1:8000/accounts/google/login/callback/",
          "scope": "openid email profile https://www.googleapis.com/auth/calendar", "response_type": "code",
          "state": "xyz", "access_type": "offline", "prompt": "consent", "code_challenge": CHALLENGE,
          "code_challenge_method": "S256"}


def consent(google, decision, email="ada@example.com"):
    status, _, page = call(f"{google.url}/o/oauth2/v2/auth?{urllib.parse.urlencode(PARAMS)}")
    assert status == 200
    assert b"ada@example.com" in page
    assert b"Sandbox" in page
    status, headers, _ = call(f"{google.url}/o/oauth2/v2/auth", {**PARAMS, "email": email, "decision": decision})
    assert status == 302
    return urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)


def test_allow_then_exchange_the_code_with_pkce(google):
    answer = consent(google, "allow")
    assert answer["state"] == ["xyz"]
    form = {"grant_type": "authorization_code", "code": answer["code"][0], "redirect_uri": PARAMS["redirect_uri"],
            "client_id": "crm-app", "client_secret": "s", "code_verifier": VERIFIER}
    status, _, body = call(f"{google.url}/token", form)
    tokens = json.loads(body)
    assert status == 200
    assert tokens["refresh_token"].startswith("1//")
    claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
    assert (claims["iss"], claims["aud"], claims["email"]) == ("https://accounts.google.com", "crm-app",
                                                                 "ada@example.com")
    status, _, body = call(f"{google.url}/oauth2/v2/userinfo",
                           headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert json.loads(body)["email"] == "ada@example.com"

    # google-auth refreshes with the refresh token the consent gave.
    credentials = Credentials(None, refresh_token=tokens["refresh_token"], token_uri=f"{google.url}/token",
                              client_id="crm-app", client_secret="s")
    from google.auth.transport.requests import Request
    credentials.refresh(Request())
    assert credentials.token.startswith("ya29.")

    # A code is good once.
    status, _, body = call(f"{google.url}/token", form)
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")


def test_deny(google):
    assert consent(google, "deny") == {"error": ["access_denied"], "state": ["xyz"]}


@pytest.mark.parametrize(("change", "error"), [
    ({"code_verifier": "wrong"}, "invalid_grant"),
    ({"redirect_uri": "http://evil.example/callback"}, "redirect_uri_mismatch"),
])
def test_a_code_exchange_must_match_its_request(google, change, error):
    answer = consent(google, "allow")
    form = {"grant_type": "authorization_code", "code": answer["code"][0], "redirect_uri": PARAMS["redirect_uri"],
            "client_id": "crm-app", "client_secret": "s", "code_verifier": VERIFIER, **change}
    status, _, body = call(f"{google.url}/token", form)
    assert (status, json.loads(body)["error"]) == (400, error)


def test_a_malformed_authorize_request_is_an_error_page(google):
    status, _, page = call(f"{google.url}/o/oauth2/v2/auth?client_id=crm-app")
    assert status == 400
    assert re.search(rb"invalid_request", page)
