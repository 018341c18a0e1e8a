"""The project's settings for the test run: what a test sends to Celery goes to a broker no worker reads.

A test that wants its tasks run asks for them: `eager_tasks` (in its own process) or `worker` (a real
worker process, on CI's broker). In-memory cache and broker on a bare machine: nothing is left in ./data.
"""

from config.settings import *  # noqa: F403
from config.settings import env

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Purged at the end of the run; the `worker` fixture gives its worker, and the tests using it, a queue of their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="tests-unread")

# The tests' CalDAV servers (Radicale, Xandikos) listen on loopback, which accounts may not reach otherwise.
CALENDARSYNC_CALDAV_ALLOW_LOOPBACK = True
