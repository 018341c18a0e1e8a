"""The Microsoft identity platform's side, as MSAL and allauth use it.

/{tenant}/v2.0/.well-known/openid-configuration, the authorize page (consent), the token endpoint
(authorization code with PKCE, refresh tokens that rotate, client credentials) and the keys.
Errors carry AADSTS codes as Azure AD's do.
"""

import hashlib
import json
import secrets
import time
import uuid
from datetime import UTC, datetime

from .. import consent
from ..http import Request, Response
from .store import ACCESS_TOKEN_SECONDS, TENANT_ID, short_scopes

TENANT = r"(?P<tenant>[^/]+)"
GRAPH = "https://graph.microsoft.com/"


def install(service):
    add = service.router.add
    add("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration", lambda r: metadata(service, r), "openid_config")
    add("GET", f"/{TENANT}/oauth2/v2.0/authorize", lambda r: authorize_page(service, r), "authorize")
    add("POST", f"/{TENANT}/oauth2/v2.0/authorize", lambda r: authorize_answer(service, r), "authorize_answer")
    add("POST", f"/{TENANT}/oauth2/v2.0/token", lambda r: token(service, r), "token")
    add("GET", f"/{TENANT}/discovery/v2.0/keys", lambda r: Response.json({"keys": []}), "keys")


def metadata(service, request: Request) -> Response:
    base = f"{request.base_url}/{request.params['tenant']}"
    return Response.json({
        "issuer": f"{request.base_url}/{TENANT_ID}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/oauth2/v2.0/token", "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token"], "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"], "tenant_region_scope": "EU",
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
    })


def authorize_page(service, request: Request) -> Response:
    params = {name: request.arg(name, "") for name in (
        "client_id", "redirect_uri", "scope", "state", "response_type", "response_mode", "prompt", "code_challenge",
        "code_challenge_method", "login_hint", "nonce")}
    if not params["client_id"] or not params["redirect_uri"] or "code" not in params["response_type"].split():
        return _error("invalid_request", "AADSTS900144: The request body must contain the following parameter.",
                      900144)
    users = sorted(service.store.users.values(), key=lambda user: user.email)
    return consent.page(provider="Microsoft", client_id=params["client_id"],
                        accounts=[(user.email, user.name) for user in users], scopes=params["scope"].split(),
                        hidden=params, login_hint=params["login_hint"])


def authorize_answer(service, request: Request) -> Response:
    form = request.form()
    redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
    if form.get("decision") != "allow":
        return Response.redirect(consent.with_query(redirect_uri, {
            "error": "access_denied", "error_description": "AADSTS65004: User declined to consent to access the app.",
            "state": state}))
    if form.get("email") not in service.store.users:
        return Response.html("<p>Choose an account.</p>", 400)
    code = "0.A" + secrets.token_urlsafe(40)
    service.store.codes[code] = {**form, "scope": consent.granted_scope(request), "expires": time.time() + 600}
    answer = {"code": code, "state": state, "session_state": str(uuid.uuid4())}
    return Response.redirect(consent.with_query(redirect_uri, answer))


def token(service, request: Request) -> Response:
    form = request.form()
    grant_type = form.get("grant_type")
    store = service.store
    if grant_type == "authorization_code":
        asked = store.codes.pop(form.get("code", ""), None)
        if asked is None or asked["expires"] < time.time() or form.get("redirect_uri") != asked["redirect_uri"]:
            return _error("invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired "
                          "due to inactivity. Send a new interactive authorization request for this user and resource.",
                          70008)
        if asked.get("code_challenge") and not consent.pkce_ok(asked, form.get("code_verifier", "")):
            return _error("invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge "
                          "supplied in the authorization request.", 501481)
        return _tokens(store, asked["email"], form.get("client_id", ""), asked.get("scope", ""),
                       nonce=asked.get("nonce"))
    if grant_type == "refresh_token":
        grant = store.grants.get(form.get("refresh_token", ""))
        email = store.email_for_oid(grant.oid) if grant else None
        if grant is None or grant.revoked or email is None:
            return _error("invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired "
                          "due to inactivity. Send a new interactive authorization request for this user and resource.",
                          70008, suberror="bad_token")
        asked = short_scopes(form.get("scope", ""))
        if asked - short_scopes(grant.scope) - {".default"}:  # a refresh cannot widen what the user consented to
            return _error("invalid_grant", "AADSTS65001: The user or administrator has not consented to use the "
                          f"application with ID '{grant.client_id}'. Send an interactive authorization request for "
                          "this user and resource.", 65001, suberror="consent_required")
        return _tokens(store, email, grant.client_id, grant.scope if not asked or ".default" in asked
                       else form["scope"])
    if grant_type == "client_credentials":
        access = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
        return Response.json({"token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS,
                              "ext_expires_in": ACCESS_TOKEN_SECONDS, "access_token": access})
    return _error("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.", 70003)


def _tokens(store, email, client_id, scope, nonce=None) -> Response:
    user = store.users[email]
    issued = store.issue_tokens(email, client_id, scope)
    graph_scopes = [item if item.startswith("https://") else GRAPH + item for item in scope.split()
                    if item not in ("openid", "profile", "email", "offline_access")]
    now = int(time.time())
    claims = {"aud": client_id, "iss": f"https://login.microsoftonline.com/{TENANT_ID}/v2.0", "iat": now,
              "nbf": now, "exp": now + 3600, "name": user.name, "oid": user.oid, "preferred_username": user.email,
              "sub": hashlib.sha256(f"{user.oid}{client_id}".encode()).hexdigest()[:43], "tid": TENANT_ID, "ver": "2.0"}
    if nonce:
        claims["nonce"] = nonce  # the client checks it against its own authorize request
    return Response.json({
        "token_type": "Bearer", "scope": " ".join(graph_scopes), "expires_in": ACCESS_TOKEN_SECONDS,
        "ext_expires_in": ACCESS_TOKEN_SECONDS, "access_token": issued["access"], "refresh_token": issued["refresh"],
        "client_info": consent.b64url(json.dumps({"uid": user.oid, "utid": TENANT_ID}).encode()),
        "id_token": consent.unsigned_jwt(claims),
    })


def _error(error, description, code, status=400, **extra) -> Response:
    return Response.json({"error": error, "error_description": description, "error_codes": [code],
                          "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"), "trace_id": str(uuid.uuid4()),
                          "correlation_id": str(uuid.uuid4()), **extra}, status)
