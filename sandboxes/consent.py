"""The consent page both sandboxes show: choose an account, grant the scopes, Allow or Cancel.

As Google's granular consent does, a person may leave out any scope beyond signing in; the app
then gets a grant without it (and must notice).
"""

import base64
import hashlib
import html
import json
from urllib.parse import parse_qs, urlencode

from .http import Request, Response

ALWAYS_GRANTED = {"openid", "email", "profile", "offline_access", "User.Read"}

STYLE = """body{font-family:sans-serif;background:#f1f3f4;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;border-radius:8px;padding:32px 40px;max-width:460px;box-shadow:0 1px 3px #0003}
.badge{background:#fde68a;padding:2px 8px;border-radius:4px;font-size:12px}.account{display:block;padding:8px 0}
.account span{color:#5f6368}button{padding:8px 20px;border-radius:4px;border:1px solid #dadce0;font-size:14px}
button.allow{background:#1a73e8;color:#fff;border-color:#1a73e8}ul{color:#3c4043}"""


def page(*, provider: str, client_id: str, accounts, scopes: list[str], hidden: dict, login_hint="") -> Response:
    """Render the consent form; `accounts` are (email, name) pairs, `hidden` the request to carry on."""
    fields = "".join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
                     for name, value in hidden.items())
    choices = "".join(
        f'<label class="account"><input type="radio" name="email" value="{html.escape(email)}"'
        f'{" checked" if index == 0 or email == login_hint else ""}> '
        f'<strong>{html.escape(name)}</strong> <span>{html.escape(email)}</span></label>'
        for index, (email, name) in enumerate(accounts))
    wanted = "".join(
        f"<li>{html.escape(scope)}</li>" if scope in ALWAYS_GRANTED else
        f'<li><label><input type="checkbox" name="granted" value="{html.escape(scope)}" checked> '
        f"{html.escape(scope)}</label></li>" for scope in scopes)
    return Response.html(f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Sign in - {html.escape(provider)} (sandbox)</title><style>{STYLE}</style></head>
<body><main><p class="badge">Sandbox — not the real {html.escape(provider)}</p><h1>Choose an account</h1>
<p>to continue to <strong>{html.escape(client_id)}</strong></p>
<form method="post">{fields}<input type="hidden" name="consent" value="1">{choices}
<h2>This app wants to</h2><ul>{wanted}</ul>
<p><button class="deny" name="decision" value="deny">Cancel</button>
<button class="allow" name="decision" value="allow">Allow</button></p></form></main></body></html>""")


def granted_scope(request: Request) -> str:
    """The scopes the person granted: all those asked for, less the ones unticked on the page."""
    form = parse_qs(request.body.decode(errors="replace"))
    asked = (form.get("scope") or [""])[0].split()
    if "consent" not in form:  # posted by a test or a script, not the page: everything asked for
        return " ".join(asked)
    ticked = set(form.get("granted", []))
    return " ".join(scope for scope in asked if scope in ALWAYS_GRANTED or scope in ticked)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def with_query(url: str, params: dict) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def pkce_ok(asked: dict, verifier: str) -> bool:
    """Whether the code verifier answers the challenge the authorize request carried (S256 or plain)."""
    if asked.get("code_challenge_method", "plain") == "S256":
        return b64url(hashlib.sha256(verifier.encode()).digest()) == asked["code_challenge"]
    return verifier == asked["code_challenge"]


def unsigned_jwt(claims: dict) -> str:
    """An id_token without a signature, which the clients accept straight from a token endpoint."""
    return ".".join(b64url(json.dumps(part).encode()) for part in ({"alg": "none", "typ": "JWT"}, claims)) + "."
