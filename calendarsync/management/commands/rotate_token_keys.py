from django.core.management.base import BaseCommand
from django.db import connection, transaction

from calendarsync import crypto
from calendarsync.models import ExternalAccount

TOKENS = ("refresh_token", "access_token")


class Command(BaseCommand):
    help = ("Encrypt every stored OAuth token again with the first key of CALENDARSYNC_TOKEN_KEYS (after adding "
            "a new key in front; older keys can be removed once this has run).")

    def handle(self, *args, **options):
        table = ExternalAccount._meta.db_table
        done, unreadable = 0, []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {', '.join(TOKENS)} FROM {table}")  # noqa: S608 - our own names
            for pk, *stored in cursor.fetchall():
                try:  # read what is stored, not the field (which reads an undecryptable token as empty)
                    plain = [crypto.decrypt(value) for value in stored]
                except crypto.TokenKeyError:
                    unreadable.append(pk)  # left as it is: it may be read again once its key is back
                    continue
                ExternalAccount.objects.filter(pk=pk).update(**dict(zip(TOKENS, plain, strict=True)))
                done += 1
        self.stdout.write(f"Tokens of {done} accounts encrypted with the newest key.")
        if unreadable:
            self.stderr.write(f"{len(unreadable)} accounts have tokens no configured key can read, left as they are "
                              f"(ids {', '.join(map(str, unreadable))}): add the key they were made with, or let "
                              "their users reconnect.")
