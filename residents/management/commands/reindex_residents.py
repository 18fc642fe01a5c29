"""Recompute the blind indexes (id_index, phone_index) after RESIDENT_INDEX_KEY changed.

The index is an HMAC under RESIDENT_INDEX_KEY, so a new key means every index
must be computed again from the plain value: this decrypts each row (with the
encryption keys, which do not change here), and writes the indexes that
differ. Until it finishes, lookups by ID number or phone miss the rows not yet
done, so run it right after deploying the new key (or in a maintenance
window). Resumable (--after PK); a repeated run changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from residents.identity import ENCRYPTED_FIELDS, UndecryptableError, blind_index, decrypt_token, fernet
from residents.management import rotation

INDEX = {"id_number": ("id_index", "id"), "phone": ("phone_index", "phone")}


class Command(BaseCommand):
    help = "Recompute residents' blind indexes (ID number, phone) under the current RESIDENT_INDEX_KEY."

    def add_arguments(self, parser):
        rotation.add_common_arguments(parser)

    def handle(self, *args, batch_size, after, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rotation.prepare()
        multi = fernet()
        tally = rotation.Tally()
        extra = tuple(INDEX[name][0] for name in ENCRYPTED_FIELDS)
        for model in rotation.personal_data_models():
            first = after if model is rotation.Resident else 0
            for rows in rotation.batches(after=first, batch_size=batch_size, extra=extra, model=model):
                for pk, *rest in rows:
                    tokens, indexes = rest[:len(ENCRYPTED_FIELDS)], rest[len(ENCRYPTED_FIELDS):]
                    tally.rows += 1
                    row_failed = False
                    for name, token, stored in zip(ENCRYPTED_FIELDS, tokens, indexes, strict=True):
                        if not token:
                            tally.empty += 1
                            continue
                        column, kind = INDEX[name]
                        try:
                            fresh = blind_index(kind, decrypt_token(token, using=multi))
                        except UndecryptableError:
                            row_failed = True
                            continue
                        if fresh == stored:
                            tally.current += 1
                        elif rotation.update_if_unchanged(pk, name, token, model=model, **{column: fresh}):
                            tally.changed += 1
                        else:
                            tally.conflicts += 1
                    if row_failed:
                        tally.failed.append(pk if model is rotation.Resident else f"{model._meta.label}:{pk}")
                tally.last_pk = rows[-1][0]
                if options["verbosity"] > 1:
                    self.stdout.write(f"... {model._meta.label} up to pk {tally.last_pk}")
        rotation.report(self, "reindex_residents", tally)
        if tally.failed:
            raise CommandError(f"{len(tally.failed)} rows could not be decrypted with the configured keys.")
