"""Everything about external calendars: accounts, remote calendars, the sync engine, providers.

Depends on `crm` (never the other way round). `calendarsync.core` is the pure sync logic and
imports neither Django nor any HTTP library; the import-linter contracts in pyproject.toml keep
both rules true.
"""
