"""Graph's URL shapes: /v1.0, and /me or /users/{id} before every resource."""

V1 = "/v1.0"
ME = r"(?:/me|/users/(?P<user>[^/]+))"
CAL = r"(?P<cal>[^/]+)"
EVENT = r"(?P<event>[^/]+)"
