"""Re-encrypt the names and phones of reporters and orderers with the current first key.

The residents' rows have `reencrypt_residents`; this does the same for every
other activity in the register (cases, received reports, orders). Run both
before dropping an old salt or secret key: a token left under a dropped key
cannot be read again. Tokens already under the first key are left alone; each
row is written with a conditional UPDATE (WHERE the column still holds the
token read), a batch per transaction, so a run can be repeated or resumed.
Only counts and primary keys are printed, never a value.
"""

from cryptography.fernet import Fernet, InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from grid.privacy import registry
from portal.identity import derived_keys, fernet, forget_field_keys


class Command(BaseCommand):
    help = "Re-encrypt reporters' and orderers' names and phones with the current first encryption key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size=1000, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        forget_field_keys()
        keys = derived_keys()
        primary, multi = Fernet(keys[0]), fernet()
        failed = 0
        for activity in registry.activities():
            if activity.own_reveal:
                continue  # the residents' own command
            model = activity.model_class
            changed = current = 0
            for name in activity.fields:
                last = 0
                while True:
                    with transaction.atomic():
                        rows = list(model._base_manager.filter(pk__gt=last, **{f"{name}__isnull": False})
                                    .annotate(raw=Cast(name, TextField())).order_by("pk")
                                    .values_list("pk", "raw")[:batch_size])
                        if not rows:
                            break
                        for pk, token in rows:
                            try:
                                primary.decrypt(token.encode())
                                current += 1
                                continue
                            except InvalidToken:
                                pass
                            try:
                                rotated = multi.rotate(token.encode()).decode()
                            except InvalidToken:
                                failed += 1
                                self.stderr.write(f"{activity.model} pk {pk}: {name} does not decrypt")
                                continue
                            changed += (model._base_manager.filter(pk=pk).annotate(_raw=Cast(name, TextField()))
                                        .filter(_raw=token).update(**{name: Value(rotated, output_field=TextField())}))
                    last = rows[-1][0]
            self.stdout.write(f"{activity.key}: changed={changed} already_current={current}")
        if failed:
            raise CommandError(f"{failed} values could not be decrypted with the configured keys.")
