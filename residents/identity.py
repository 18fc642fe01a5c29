"""ID numbers and phones of residents: the portal's one scheme for personal data.

The functions live in portal/identity.py (the lowest layer), so that the
mediation parties of the cases app store an ID number and a phone exactly as
residents' records do; they are re-exported here under the names the residents
app, its commands and its tests have always used.
"""

from portal.identity import (  # noqa: F401
    IdNumber,
    UndecryptableError,
    blind_index,
    decrypt_token,
    derived_keys,
    fernet,
    forget_field_keys,
    mask_id_number,
    mask_phone,
    normalize_phone,
    parse_id_number,
)

# The encrypted columns of Resident (the rotation commands walk these).
ENCRYPTED_FIELDS = ("id_number", "phone")
