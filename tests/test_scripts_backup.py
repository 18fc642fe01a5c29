"""scripts/backup and scripts/restore refuse what they must refuse before touching any database
(the restore drill in .ci/run tries the real dump and restore on PostgreSQL: scripts/restore-drill)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("pg_restore") is None, reason="PostgreSQL's client tools are not installed")


def run(script, *args, **env):
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run([str(ROOT / "scripts" / script), *args], env=environ, capture_output=True, text=True,
                          timeout=60)


def test_backup_refuses_a_sqlite_database_and_a_missing_url(tmp_path):
    result = run("backup", str(tmp_path / "x.dump"), DATABASE_URL="sqlite:///var/portal.sqlite3")
    assert result.returncode == 2 and "not PostgreSQL" in result.stderr
    result = run("backup", str(tmp_path / "x.dump"))
    assert result.returncode == 2 and "DATABASE_URL is not set" in result.stderr
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_restore_refuses_a_file_that_is_not_a_dump_before_connecting(tmp_path):
    bogus = tmp_path / "notes.dump"
    bogus.write_text("not a dump")
    result = run("restore", str(bogus), DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert result.returncode == 2 and "not a pg_dump custom-format dump" in result.stderr
    result = run("restore", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert result.returncode == 2 and "usage" in result.stderr
    result = run("restore", str(bogus), "--force", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert result.returncode == 2 and "unknown option" in result.stderr


@pytest.mark.parametrize("script", ["backup", "restore"])
def test_help_names_the_keys_reminder_place(script):
    result = run(script, "--help")
    assert result.returncode == 0 and "README" in result.stdout
