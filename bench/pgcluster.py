"""Throw-away PostgreSQL servers on this machine: a primary and its streaming replica (issue #24
item 3), and PgBouncer in front of a server (item 4).

Used by bench/replica_bench.py and tests/test_portal_replica_streaming.py, so both bring the pair
up the same way: `initdb` a primary on a free port (wal_level=replica, a replication line in its
pg_hba.conf), `pg_basebackup -R` a standby from it, start the standby on another free port.
The machine's own PostgreSQL is never touched. Everything lives in one temporary directory,
removed with the clusters by `stop()` (also when starting failed half-way).

    with ReplicaPair() as pair:           # raises Unavailable(reason) when it cannot run here
        pair.url("primary", "portal")     # postgres://postgres@127.0.0.1:<port>/portal
        pair.wait_caught_up()

Only the standard library and psycopg: the bench imports it before Django is set up.
"""

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# Debian's layout first; PG_BIN overrides.
_BIN_GLOBS = ("/usr/lib/postgresql/*/bin",)
_NEEDED = ("initdb", "pg_ctl", "pg_basebackup")


class Unavailable(RuntimeError):
    """The pair cannot be started here; the message says why (a test skips with it)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bindir():
    """The directory with initdb, pg_ctl and pg_basebackup, newest version first; None if absent."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    candidates += sorted(glob.glob(_BIN_GLOBS[0]), key=lambda p: int(Path(p).parent.name)
                         if Path(p).parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if all(os.access(Path(folder, tool), os.X_OK) for tool in _NEEDED):
            return folder
    return None


class ReplicaPair:
    """A primary and one streaming standby, each its own `postgres` process on its own port."""

    def __init__(self, *, settings=None, prefix="portal-replica-", base=None):
        # Extra postgresql.conf lines for both servers (the test turns fsync off; the bench does not).
        self.settings = dict(settings or {})
        self.prefix, self.base = prefix, base
        self.dir = None
        self.ports = {}
        self.started = []
        self.bindir = None
        self.user = None

    # --- start / stop ---------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.bindir = find_bindir()
        if self.bindir is None:
            raise Unavailable("PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are not installed; "
                              "set PG_BIN to their directory")
        # initdb refuses to run as root: the clusters then belong to the `postgres` system user.
        self.user = _as_postgres_if_root([])[1]
        self.dir = Path(tempfile.mkdtemp(prefix=self.prefix, dir=self.base))
        try:
            if self.user:
                shutil.chown(self.dir, self.user, self.user)
            self._start_primary()
            self._start_replica()
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, tool, *args, timeout=300):
        command = [str(Path(self.bindir, tool)), *map(str, args)]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if result.returncode:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        return result.stdout

    def _conf(self, data, port):
        lines = {"listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": f"'{self.dir}'",
                 "wal_level": "replica", "max_wal_senders": "4", "hot_standby": "on",
                 **{k: str(v) for k, v in self.settings.items()}}
        with open(Path(data, "postgresql.conf"), "a") as conf:
            conf.write("\n# bench/pgcluster.py\n" + "".join(f"{k} = {v}\n" for k, v in lines.items()))

    def _start(self, name, data):
        # A port taken between free_port() and the server binding it: try another.
        for attempt in range(3):
            port = free_port()
            self._conf(data, port)
            try:
                self._run("pg_ctl", "-D", data, "-l", self.dir / f"{name}.log", "-w", "-t", "120", "start")
            except RuntimeError:
                if attempt == 2:
                    raise RuntimeError(f"{name} did not start:\n{self.log(name)[-3000:]}") from None
                continue
            self.ports[name] = port
            self.started.append(data)
            return port

    def _start_primary(self):
        data = self.dir / "primary"
        self._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        self._start("primary", data)

    def _start_replica(self):
        data = self.dir / "replica"
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", self.ports["primary"], "-U", "postgres",
                  "-D", data, "-R", "-X", "stream", "-c", "fast")
        self._start("replica", data)

    def stop(self):
        """Stop both servers (immediately: the data is thrown away) and remove the directory."""
        for data in reversed(self.started):
            try:
                self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                pid = Path(data, "postmaster.pid")
                if pid.exists():  # pg_ctl could not: the postmaster by its own pid, never by name
                    try:
                        os.kill(int(pid.read_text().split()[0]), 9)
                    except (OSError, ValueError):
                        pass
        self.started = []
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # --- use --------------------------------------------------------------------------

    def log(self, name):
        path = self.dir / f"{name}.log" if self.dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def url(self, name, dbname="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.ports[name]}/{dbname}"

    def connect(self, name, dbname="postgres"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.ports[name], user="postgres", dbname=dbname,
                               autocommit=True)

    def wait_caught_up(self, timeout=120):
        """Wait until the replica has replayed everything the primary had written when called;
        returns the seconds it took."""
        started = time.monotonic()
        with self.connect("primary") as primary, self.connect("replica") as replica:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            while True:
                done = replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]
                if done:
                    return time.monotonic() - started
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"the replica did not reach {target} within {timeout} s")
                time.sleep(0.05)

    def copy_database(self, source_url, dbname):
        """Create `dbname` on the primary as a copy of another server's database (pg_dump | psql)."""
        with self.connect("primary") as primary:
            primary.execute(f'CREATE DATABASE "{dbname}"')
        dump = subprocess.Popen([str(Path(self.bindir, "pg_dump")), "--no-owner", "--no-privileges", source_url],
                                stdout=subprocess.PIPE)
        load = subprocess.run([str(Path(self.bindir, "psql")), "-q", "-v", "ON_ERROR_STOP=1", "-X",
                               self.url("primary", dbname)], stdin=dump.stdout, capture_output=True, text=True)
        dump.stdout.close()
        if dump.wait() or load.returncode:
            raise RuntimeError(f"copying {source_url} failed: {load.stderr[-2000:]}")


def _as_postgres_if_root(command):
    """initdb and PgBouncer both refuse root: run them as the `postgres` system user then."""
    if os.geteuid() != 0:
        return command, None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no `postgres` user to run the server as") from None
    if not shutil.which("runuser"):
        raise Unavailable("running as root and runuser is missing")
    return ["runuser", "-u", "postgres", "--", *command], "postgres"


def pgbouncer_version(binary=None):
    """(major, minor, patch) of Debian's pgbouncer, or None when it is not installed."""
    binary = binary or shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer",
                                                                                        os.X_OK) else None)
    if binary is None:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"PgBouncer (\d+)\.(\d+)\.(\d+)", out)
    return tuple(map(int, found.groups())) if found else None


class PgBouncer:
    """Debian's pgbouncer on a free port in front of one PostgreSQL server, in its own directory
    (trust auth, every database passed through). Its own process, stopped by its id."""

    def __init__(self, *, host="127.0.0.1", port=5432, pool_mode="transaction", pool_size=1, settings=None):
        self.server = (host, int(port))
        self.pool_mode, self.pool_size = pool_mode, pool_size
        self.settings = dict(settings or {})
        self.binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        self.dir = self.process = self.port = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise Unavailable("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
        self.version = pgbouncer_version(self.binary)
        command, user = _as_postgres_if_root([self.binary, "config"])
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pgbouncer-"))
        try:
            if user:
                shutil.chown(self.dir, user, user)
            for _attempt in range(3):
                self.port = free_port()
                self._write_config()
                command[-1] = str(self.dir / "pgbouncer.ini")
                log = open(self.dir / "stderr.log", "wb")
                self.process = subprocess.Popen(command, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
                log.close()
                if self._wait_listening():
                    return self
                self._end_process()
            raise RuntimeError(f"pgbouncer did not start:\n{self.log()[-3000:]}")
        except BaseException:
            self.stop()
            raise

    def _write_config(self):
        lines = {
            "listen_addr": "127.0.0.1", "listen_port": self.port, "unix_socket_dir": "",
            "auth_type": "trust", "auth_file": self.dir / "userlist.txt", "pool_mode": self.pool_mode,
            "default_pool_size": self.pool_size, "max_client_conn": 100,
            # psycopg and Django send these at start-up; TimeZone & co. PgBouncer tracks itself.
            "ignore_startup_parameters": "extra_float_digits,options",
            "logfile": self.dir / "pgbouncer.log", "pidfile": self.dir / "pgbouncer.pid",
            "admin_users": "postgres", **self.settings,
        }
        host, port = self.server
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            f"[databases]\n* = host={host} port={port}\n\n[pgbouncer]\n"
            + "".join(f"{k} = {v}\n" for k, v in lines.items()))

    def _wait_listening(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return True
            time.sleep(0.1)
        return False

    def _end_process(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)  # its own session, started here: runuser and pgbouncer
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.process = None

    def log(self):
        parts = [self.dir / name for name in ("pgbouncer.log", "stderr.log")] if self.dir else []
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())

    def stop(self):
        self._end_process()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def admin(self, command):
        """Rows of a console command (SHOW POOLS, SHOW STATS…)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="pgbouncer",
                             autocommit=True, prepare_threshold=None) as console:
            cursor = console.execute(command)
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
