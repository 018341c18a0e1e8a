"""Graph's error: a status and an Outlook error code, answered in Graph's error envelope."""


class GraphError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def not_found():
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def access_denied():
    return GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
