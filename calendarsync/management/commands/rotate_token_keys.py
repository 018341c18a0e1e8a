from django.core.management.base import BaseCommand

from calendarsync.models import ExternalAccount


class Command(BaseCommand):
    help = ("Encrypt every stored OAuth token again with the first key of CALENDARSYNC_TOKEN_KEYS (after adding "
            "a new key in front; older keys can be removed once this has run).")

    def handle(self, *args, **options):
        count = 0
        for account in ExternalAccount.objects.iterator():  # reading decrypts with any key, saving uses the first
            account.save(update_fields=["refresh_token", "access_token"])
            count += 1
        self.stdout.write(f"Tokens of {count} accounts encrypted with the newest key.")
