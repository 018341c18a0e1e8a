"""Google's OAuth 2.0 side: the consent screen, the token endpoint, userinfo and certs.

The consent screen is a real page a person (or a browser test) clicks: choose a sandbox account,
then Allow or Deny. Authorization codes honour PKCE (S256 and plain) and the redirect URI.
"""

import secrets
import time

from .. import consent
from ..http import Request, Response

ISSUER = "https://accounts.google.com"
CODE_SECONDS = 600


def install(service):
    add = service.router.add
    add("GET", "/o/oauth2/v2/auth", lambda request: authorize_page(service, request), "authorize")
    add("POST", "/o/oauth2/v2/auth", lambda request: authorize_answer(service, request), "authorize_answer")
    add("GET", "/oauth2/v2/userinfo", lambda request: userinfo(service, request), "userinfo")
    add("GET", "/oauth2/v3/userinfo", lambda request: userinfo(service, request), "userinfo")
    add("GET", "/oauth2/v1/certs", lambda request: Response.json({}), "certs")


def authorize_page(service, request: Request) -> Response:
    params = {name: request.arg(name, "") for name in (
        "client_id", "redirect_uri", "scope", "state", "response_type", "access_type", "prompt",
        "code_challenge", "code_challenge_method", "login_hint")}
    if not params["client_id"] or not params["redirect_uri"] or params["response_type"] != "code":
        return Response.html("<h1>400. That’s an error.</h1><p>Error 400: invalid_request</p>", 400)
    users = sorted(service.store.users.values(), key=lambda user: user.email)
    return consent.page(provider="Google", client_id=params["client_id"], accounts=[(u.email, u.name) for u in users],
                        scopes=params["scope"].split(), hidden=params, login_hint=params["login_hint"])


def authorize_answer(service, request: Request) -> Response:
    form = request.form()
    redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
    if form.get("decision") != "allow":
        return Response.redirect(consent.with_query(redirect_uri, {"error": "access_denied", "state": state}))
    if form.get("email") not in service.store.users:
        return Response.html("<p>Choose an account.</p>", 400)
    code = "4/" + secrets.token_urlsafe(24)
    granted = consent.granted_scope(request)
    service.store.codes[code] = {**form, "scope": granted, "expires": time.time() + CODE_SECONDS}
    return Response.redirect(consent.with_query(redirect_uri, {"code": code, "state": state, "scope": granted}))


def exchange_code(service, form: dict) -> Response:
    """grant_type=authorization_code: check the code, redirect URI and PKCE; issue tokens."""
    request = service.store.codes.pop(form.get("code", ""), None)
    if request is None or request["expires"] < time.time():
        return _oauth_error("invalid_grant", "Malformed auth code.")
    if form.get("redirect_uri") != request["redirect_uri"] or form.get("client_id") != request["client_id"]:
        return _oauth_error("redirect_uri_mismatch" if form.get("redirect_uri") != request["redirect_uri"]
                            else "invalid_client", "Bad Request")
    if request.get("code_challenge") and not consent.pkce_ok(request, form.get("code_verifier", "")):
        return _oauth_error("invalid_grant", "Missing code verifier." if not form.get("code_verifier")
                            else "Invalid code verifier.")
    offline = request.get("access_type") == "offline"
    answer = service.store.issue_tokens(request["email"], request["client_id"], request.get("scope", ""),
                                        refresh=offline)
    if "openid" in request.get("scope", "").split():
        answer["id_token"] = id_token(service.store.users[request["email"]], request["client_id"])
    return Response.json(answer)


def id_token(user, client_id) -> str:
    """An id_token as Google shapes it; unsigned, which allauth accepts from the token endpoint."""
    now = int(time.time())
    claims = {"iss": ISSUER, "azp": client_id, "aud": client_id, "sub": user.sub, "email": user.email,
              "email_verified": True, "name": user.name, "given_name": user.name.split()[0],
              "family_name": " ".join(user.name.split()[1:]), "iat": now, "exp": now + 3599}
    return consent.unsigned_jwt(claims)


def userinfo(service, request: Request) -> Response:
    email = service._user(request)
    if email is None:
        return service._unauthorized()
    user = service.store.users[email]
    return Response.json({"id": user.sub, "sub": user.sub, "email": user.email, "verified_email": True,
                          "email_verified": True, "name": user.name, "given_name": user.name.split()[0],
                          "family_name": " ".join(user.name.split()[1:]), "picture": ""})


def _oauth_error(error, description, status=400):
    return Response.json({"error": error, "error_description": description}, status)
