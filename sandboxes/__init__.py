"""Local stand-ins of Google Calendar and Microsoft 365, for tests and the demo.

They speak the real services' HTTP (paths, bodies, status codes, headers, token flows) so that the
real client libraries can be pointed at them. Standard library only, plus dateutil for recurrence:
no Django and nothing of the CRM, as a remote service knows nothing of its clients.
"""
