"""Re-encrypt every stored ID number and phone with the current first key.

Key rotation: put the new salt first in FIELD_ENCRYPTION_SALTS ("new,old";
or a new DJANGO_SECRET_KEY with the old one in DJANGO_SECRET_KEY_FALLBACKS),
deploy, run this command, then drop the old salt (or fallback). Rows whose
token is already under the first key are left as they are, so a run can be
repeated or resumed (--after PK) at no cost. The blind index and the masked
columns do not depend on these keys and are not touched.
"""

from cryptography.fernet import Fernet, InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db.models import TextField, Value

from residents.identity import ENCRYPTED_FIELDS, derived_keys, fernet
from residents.management import rotation


class Command(BaseCommand):
    help = "Re-encrypt residents' ID numbers and phones with the current first encryption key."

    def add_arguments(self, parser):
        rotation.add_common_arguments(parser)

    def handle(self, *args, batch_size, after, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rotation.prepare()
        keys = derived_keys()
        primary, multi = Fernet(keys[0]), fernet()
        tally = rotation.Tally()
        for model in rotation.personal_data_models():
            first = after if model is rotation.Resident else 0
            for rows in rotation.batches(after=first, batch_size=batch_size, model=model):
                for pk, *tokens in rows:
                    tally.rows += 1
                    row_failed = False
                    for name, token in zip(ENCRYPTED_FIELDS, tokens, strict=True):
                        if not token:
                            tally.empty += 1
                            continue
                        try:
                            primary.decrypt(token.encode())
                            tally.current += 1
                            continue
                        except InvalidToken:
                            pass
                        try:
                            rotated = multi.rotate(token.encode()).decode()
                        except InvalidToken:
                            row_failed = True
                            continue
                        # Written as the raw token: the field would encrypt it again.
                        raw = Value(rotated, output_field=TextField())
                        if rotation.update_if_unchanged(pk, name, token, model=model, **{name: raw}):
                            tally.changed += 1
                        else:
                            tally.conflicts += 1
                    if row_failed:
                        tally.failed.append(pk if model is rotation.Resident else f"{model._meta.label}:{pk}")
                tally.last_pk = rows[-1][0]
                if options["verbosity"] > 1:
                    self.stdout.write(f"... {model._meta.label} up to pk {tally.last_pk}")
        rotation.report(self, "reencrypt_residents", tally)
        if tally.failed:
            raise CommandError(f"{len(tally.failed)} rows could not be decrypted with the configured keys.")

