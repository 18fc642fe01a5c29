# Shared by scripts/backup, scripts/restore and scripts/restore-drill. Sourced, not run.
# They need only PostgreSQL's client tools (pg_dump, pg_restore, psql), not the venv.
set -euo pipefail

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# The encryption and index keys live in the environment, never in the database.
keys_reminder() {
  cat >&2 <<'TEXT'
------------------------------------------------------------------------------
REMINDER: the dump does NOT contain the keys. FIELD_ENCRYPTION_SALTS and
RESIDENT_INDEX_KEY (and DJANGO_SECRET_KEY, from which with the salts the
encryption keys are derived) live only in the environment. Without them the
residents' ID numbers and phones in this dump are unreadable (encrypted) and
unsearchable (blind index), and a lost key cannot be recovered. Keep them
separately (a secret store), with the dates of the dumps they open.
提醒：备份文件不含密钥。FIELD_ENCRYPTION_SALTS、RESIDENT_INDEX_KEY（及
DJANGO_SECRET_KEY）只在环境变量中；缺少它们，备份中的身份证号和电话无法解密、
无法检索。请另行妥善保管（密钥库），并记下它们对应的备份日期。
------------------------------------------------------------------------------
TEXT
}

# DATABASE_URL, checked to be PostgreSQL (libpq reads postgres:// and postgresql:// URIs itself).
pg_url() {
  local url="${DATABASE_URL:-}"
  [ -n "$url" ] || die "DATABASE_URL is not set (postgres://user:password@host:5432/portal)."
  case "$url" in
    postgres://*|postgresql://*) printf '%s' "$url" ;;
    *) die "DATABASE_URL is not PostgreSQL ($url): backups are for the production database. For the SQLite demo, copy var/portal.sqlite3 with the demo stopped." ;;
  esac
}

for tool in pg_dump pg_restore psql; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found: install PostgreSQL's client tools (Debian: postgresql-client)."
done
