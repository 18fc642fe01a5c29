"""Checks on the personal-data keys a production server starts with (issue #20).

A one-letter salt or index key, or the development defaults, would make the
encrypted ID numbers and phones and their blind indexes easy to attack, and the
server used to start with them silently. This module has no Django imports:
portal/settings.py calls it while it is being imported.
"""

MIN_LENGTH = 32
MIN_DISTINCT = 10
DEV_DEFAULTS = frozenset({"dev-only-field-salt", "dev-only-resident-index-key"})
HOW_TO_MAKE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def key_problem(value):
    """Why `value` is too weak to protect personal data, or None."""
    if value in DEV_DEFAULTS:
        return "is the development default"
    if len(value) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT:
        return f"has fewer than {MIN_DISTINCT} different characters"
    return None


def weak_key_messages(*, salts, index_key):
    """One message per weak key: the first salt (the one that encrypts) and the index key.

    Older salts only decrypt during a rotation; a weak one must stay usable so it can be rotated away.
    """
    checks = [("FIELD_ENCRYPTION_SALTS (its first salt)", salts[0] if salts else ""),
              ("RESIDENT_INDEX_KEY", index_key)]
    return [f"{name} {problem}; make one with {HOW_TO_MAKE}"
            for name, value in checks if (problem := key_problem(value))]
