"""portal/settings.py in production: weak or default personal-data keys refuse to start (issue #20).

Each case imports the settings in a fresh interpreter with the environment set,
as a server would at start.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_SALT = "Zq3vN8pX2rT6yW1mK9bH4cJ7dF5gL0sA-e_u"
GOOD_INDEX = "p0O9i8U7y6T5r4E3w2Q1-aSdFgHjKlZxCvBnM_"


def start(**env):
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environ.update(PORTAL_ENV="production", DJANGO_SECRET_KEY="s" * 10 + "-real-secret-key-for-the-test-0123456789",
                   DJANGO_ALLOWED_HOSTS="portal.example.gov.cn", **env)
    return subprocess.run([sys.executable, "-c", "import portal.settings"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("salts", [GOOD_SALT, f"{GOOD_SALT},old-weak-salt"])
def test_strong_keys_start(salts):
    # An old salt after the first only decrypts: a weak one must stay usable to rotate away from it.
    result = start(FIELD_ENCRYPTION_SALTS=salts, RESIDENT_INDEX_KEY=GOOD_INDEX)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("salts", "index", "named"), [
    ("s", GOOD_INDEX, "FIELD_ENCRYPTION_SALTS"),
    (GOOD_SALT, "k", "RESIDENT_INDEX_KEY"),
    (f"short,{GOOD_SALT}", GOOD_INDEX, "FIELD_ENCRYPTION_SALTS"),  # the first salt is the one that encrypts
    ("ab" * 20, GOOD_INDEX, "FIELD_ENCRYPTION_SALTS"),  # long but two characters
    ("dev-only-field-salt", GOOD_INDEX, "FIELD_ENCRYPTION_SALTS"),
    (GOOD_SALT, "dev-only-resident-index-key", "RESIDENT_INDEX_KEY"),
])
def test_weak_keys_accepted_in_production_are_refused(salts, index, named):
    result = start(FIELD_ENCRYPTION_SALTS=salts, RESIDENT_INDEX_KEY=index)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in result.stderr
