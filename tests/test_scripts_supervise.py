"""scripts/_bootstrap.sh `supervise`: the restart loop scripts/demo (and bench/faults.py) run the worker under.

A command that exits is started again, each restart is one line in the log (appended),
and stopping the loop stops the command it is running.
"""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def supervise(log, command):
    script = 'source scripts/_bootstrap.sh; log=$1; shift; supervise "test command" "$log" "$@"'
    return subprocess.Popen(["bash", "-c", script, "supervise", str(log), *command], cwd=ROOT,
                            start_new_session=True, stderr=subprocess.DEVNULL)


def wait_for(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_command_that_exits_is_restarted_and_each_restart_logged(tmp_path):
    log = tmp_path / "celery.log"
    log.write_text("an earlier run's line\n")
    loop = supervise(log, ["bash", "-c", "echo started; exit 3"])
    try:
        assert wait_for(lambda: log.read_text().count("started") >= 3)
    finally:
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(timeout=10) == 0
    text = log.read_text()
    assert text.startswith("an earlier run's line\n")  # appended, not overwritten
    restarts = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} supervisor: test command \(pid \d+\) "
                          r"exited with status 3; restart #(\d+) in (\d+) s$", text, flags=re.M)
    assert [n for n, _delay in restarts][:2] == ["1", "2"]
    assert [delay for _n, delay in restarts][:2] == ["1", "2"]  # the pause doubles


def test_stopping_the_loop_stops_the_command(tmp_path):
    log = tmp_path / "celery.log"
    pid_file = tmp_path / "pid"
    loop = supervise(log, ["bash", "-c", f"echo $$ > {pid_file}; exec sleep 300"])
    try:
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text().strip())
        child = int(pid_file.read_text())
        assert os.getsid(child) == child  # its own session: a Ctrl-C for the web server does not reach it
    finally:
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(timeout=10) == 0

    def gone():
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return False

    assert wait_for(gone, 5)
    assert "supervisor:" not in log.read_text()  # a stop is not a restart


def test_what_a_killed_command_left_behind_is_stopped_before_the_restart(tmp_path):
    """A worker killed with -9 leaves its embedded beat running; restarted, that would be two beats."""
    log = tmp_path / "celery.log"
    loop = supervise(log, ["bash", "-c", f"sleep 300 & echo $! > {tmp_path}/left; echo $$ > {tmp_path}/pid; wait"])
    try:
        assert wait_for(lambda: (tmp_path / "left").exists() and (tmp_path / "left").read_text().strip())
        left = int((tmp_path / "left").read_text())
        os.kill(int((tmp_path / "pid").read_text()), signal.SIGKILL)
        assert wait_for(lambda: "exited with status 137" in log.read_text())

        def gone():
            try:
                os.kill(left, 0)
            except ProcessLookupError:
                return True
            # A zombie until its parent's parent (init) reaps it.
            return Path(f"/proc/{left}/stat").read_text().split()[2] == "Z"

        assert wait_for(gone, 5)
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.wait(timeout=10)
