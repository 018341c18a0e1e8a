"""Signals that `crm` sends when actions change, for other apps (calendarsync) to react.

Both are sent inside the transaction that made the change, after the row and its relations are
written, so a receiver can write its own rows atomically with the change and use
`transaction.on_commit` for anything that must wait for the commit.

Keyword arguments:
- action_saved: `action` (the row: a single action, a series, or an occurrence override),
  `created` (bool), `origin` (who made the change, see below), and `follows`: the series, when an
  override only changed because its series did (re-keyed or re-owned; the series was announced first).
- action_deleted: `action` (the deleted row, its `pk` already None), `action_id`, `origin`.
  Deleting a series deletes its overrides with it; only the series is announced.

- agenda_opened: `user`, whose agenda is about to be shown (another app may refresh it first).
- colors_wanted: `owner`, for whose appointment a color is being chosen; a receiver returns the colors
  its calendars hold by name, as [(heading, [(#rrggbb, name)])], for the picker to offer them too.

`origin` is "crm" for changes made by people (pages, admin, API, shell) and whatever another app
passes to the services for its own writes, so that it can ignore the echo of its own changes.
"""

from django.dispatch import Signal

ORIGIN_CRM = "crm"

action_saved = Signal()
action_deleted = Signal()
agenda_opened = Signal()
colors_wanted = Signal()
