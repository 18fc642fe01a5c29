"""Tracking codes (查询码): what a reporter is handed to follow a matter without an account.

Below models, selectors and services alike (it imports none of them), so the
case and received-report models, the lookups and the writes share one
definition without importing each other.
"""

import re
import secrets

# Unambiguous: no 0/O, 1/I/L. 13 symbols of 31 ≈ 64 bits.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 13


def new_tracking_code():
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_code(raw):
    """What a reporter typed (any case, dashes, spaces) → the stored form."""
    return re.sub(r"[\s\-]", "", (raw or "")).upper()[:32]


def display_tracking_code(code):
    """A tracking code in groups of four, as printed for the reporter."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
