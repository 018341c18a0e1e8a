"""Pure sync logic: a neutral event type, normalisation, hashing, 3-way merge and the planner.

No Django, no HTTP: it decides from plain snapshots, and calendarsync.engine carries decisions out.
"""
