"""A real Jasmin SMS gateway for the tests (shared/ECOSYSTEM.md, "Jasmin as the SMS
gateway of the tests"): its own virtualenv (``KYKLOS_JASMIN_VENV``, else made once
under the user's cache folder), its own RabbitMQ vhost (per process, re-created at each
start: stale queues delayed delivery) and Redis database (per xdist worker, flushed),
every listener on 127.0.0.1 and free ports, its lock file inside its own folder
(jasmind.py hard-codes one in /tmp that a killed run leaves behind), provisioned through
jCli: a user for the HTTP API, an SMPP connector to the test SMSC (tests/smsc.py), the
default MT route to it and, per test, an HTTP connector with the default MO route to the
application's inbound URL."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSION = "0.11.1"
# Each gateway gets a RabbitMQ vhost and a Redis database of its own: pytest-xdist runs
# one gateway per worker process, and a second gateway that deleted the first one's vhost
# and flushed its Redis left it accepting messages that never reached the SMSC.
VHOST_PREFIX = "kyklos_sms_test_"
REDIS_DB_FIRST = 14  # gw0; gw1 takes 13 and so on (15 is the suite's own, see .ci/run)
USER, PASSWORD = "kyklos", "kyklospw"


class Unavailable(RuntimeError):
    """Jasmin cannot run here; the message says why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def venv_dir() -> Path:
    given = os.environ.get("KYKLOS_JASMIN_VENV")
    if given:
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "kyklos" / f"jasmin-{VERSION}"


def ensure_venv() -> Path:
    """The virtualenv with Jasmin (made with pip when missing; a lock file inside the
    cache folder keeps two test processes from making it at once), patched for the
    lost delivery receipts of 0.11.1 (upstream jasmin#1236)."""
    venv = venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = venv / "bin" / "python"
        if not (venv / "bin" / "jasmind.py").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            proc = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"jasmin=={VERSION}",
                 "setuptools<81"],
                capture_output=True,
                text=True,
                timeout=900,
            )  # fmt: skip
            if proc.returncode != 0:
                raise Unavailable(f"pip could not install jasmin: {proc.stderr[-800:]}")
        site = subprocess.run(
            [str(python), "-c", "import jasmin, os; print(os.path.dirname(jasmin.__file__))"],
            capture_output=True,
            text=True,
            check=True,
            cwd=venv,
        ).stdout.strip()
        listeners = Path(site) / "managers" / "listeners.py"
        src = listeners.read_text()
        if "_pdu.response." in src:
            listeners.write_text(src.replace("_pdu.response.", "r.response."))
    return venv


CONFIG = """\
[smpp-server]
bind = 127.0.0.1
port = {smpp_port}
[smpp-server-pb]
bind = 127.0.0.1
port = {smpp_pb_port}
[client-management]
bind = 127.0.0.1
port = {cm_port}
store_path = {dir}/etc/store
[router]
bind = 127.0.0.1
port = {router_port}
store_path = {dir}/etc/store
persistence_timer_secs = 600
[http-api]
bind = 127.0.0.1
port = {http_port}
long_content_max_parts = 10
long_content_split = udh
[jcli]
bind = 127.0.0.1
port = {jcli_port}
authentication = False
[amqp-broker]
host = 127.0.0.1
port = 5672
username = guest
password = guest
vhost = {vhost}
spec = {spec}
[redis-client]
host = 127.0.0.1
port = 6379
dbid = {redis_db}
poolsize = 4
[deliversm-thrower]
http_timeout = 10
retry_delay = 2
max_retries = 3
[dlr-thrower]
http_timeout = 10
retry_delay = 2
max_retries = 3
[dlr]
dlr_lookup_retry_delay = 1
dlr_lookup_max_retries = 5
"""

#: starts jasmind.py with its lock file in our folder instead of /tmp/jasmind
WRAPPER = """\
import runpy, sys, lockfile
_real = lockfile.FileLock
lockfile.FileLock = lambda _path, *a, **kw: _real({lock!r}, *a, **kw)
sys.argv = [{script!r}] + sys.argv[1:]
runpy.run_path({script!r}, run_name="__main__")
"""


class JCli:
    """jCli over telnet: one command per line, answered by the prompt."""

    PROMPT = re.compile(rb"(jcli : |> )\s*$")

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        # the banner comes without a prompt (that follows the telnet negotiation)
        self._read(1.0)

    def _read(self, wait: float = 15) -> str:
        buf = b""
        deadline = time.time() + wait
        while time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            # drop telnet negotiation (IAC sequences)
            buf += re.sub(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", b"", chunk)
            if self.PROMPT.search(buf):
                break
        return buf.decode("utf-8", "replace")

    def run(self, *lines: str) -> str:
        out = []
        for line in lines:
            self.sock.sendall(line.encode() + b"\r\n")
            out.append(self._read())
        return "".join(out)

    def close(self):
        try:
            self.sock.sendall(b"quit\r\n")
        except OSError:
            pass
        self.sock.close()


class Jasmin:
    #: gateways made by this process so far: the sms plugin's session gateway and the
    #: campaigns' own can live in one worker, and the second must not take the first's
    #: vhost and Redis database (it deleted the vhost when it stopped, and the session's
    #: gateway then lost its broker: "Cannot send submit_sm")
    made = 0

    def __init__(self, venv: Path, smsc):
        self.venv, self.smsc = venv, smsc
        self.dir = Path(tempfile.mkdtemp(prefix="kjasmin"))
        self.http_port = _free_port()
        self.jcli_port = _free_port()
        self.proc = None
        serial = Jasmin.made
        Jasmin.made += 1
        self.vhost = f"{VHOST_PREFIX}{os.getpid()}_{serial}"
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        index = int(worker[2:]) if worker[2:].isdigit() else 0
        # gw0 14, gw1 13; their second gateways 12 and 11
        self.redis_db = max(9, REDIS_DB_FIRST - index - 2 * serial)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _vhost(self):
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        if not os.path.exists(ctl):
            raise Unavailable("rabbitmqctl is not installed (RabbitMQ is needed by Jasmin)")
        if not _reachable("127.0.0.1", 5672):
            raise Unavailable("RabbitMQ is not running on 127.0.0.1:5672")
        listed = subprocess.run(
            [ctl, "-q", "list_vhosts"], capture_output=True, text=True, timeout=60
        ).stdout.split()
        for name in listed:  # left by a run that was killed: its process is gone
            pid = name[len(VHOST_PREFIX):].split("_")[0]
            if name.startswith(VHOST_PREFIX) and pid.isdigit() and not _alive(int(pid)):
                subprocess.run([ctl, "-q", "delete_vhost", name], capture_output=True, timeout=60)
        subprocess.run([ctl, "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        for cmd in (
            ["add_vhost", self.vhost],
            ["set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"],
        ):
            proc = subprocess.run([ctl, "-q", *cmd], capture_output=True, text=True, timeout=60)
            if proc.returncode != 0:
                raise Unavailable(f"rabbitmqctl {cmd[0]} failed: {proc.stderr[-300:]}")

    def _redis(self):
        if not _reachable("127.0.0.1", 6379):
            raise Unavailable("Redis is not running on 127.0.0.1:6379")
        with socket.create_connection(("127.0.0.1", 6379), timeout=5) as s:
            s.sendall(f"SELECT {self.redis_db}\r\nFLUSHDB\r\n".encode())
            time.sleep(0.1)
            s.recv(100)

    def start(self):
        self._vhost()
        self._redis()
        python = self.venv / "bin" / "python"
        spec = subprocess.run(
            [str(python), "-c",
             "import txamqp, os; print(os.path.join(os.path.dirname(txamqp.__file__), "
             "'specs', 'standard', 'amqp0-9-1.stripped.xml'))"],
            capture_output=True, text=True, check=True, cwd=self.dir,
        ).stdout.strip()  # fmt: skip
        (self.dir / "etc" / "store").mkdir(parents=True)
        (self.dir / "log").mkdir()
        (self.dir / "etc" / "jasmin.cfg").write_text(
            CONFIG.format(
                dir=self.dir,
                smpp_port=_free_port(),
                smpp_pb_port=_free_port(),
                cm_port=_free_port(),
                router_port=_free_port(),
                http_port=self.http_port,
                jcli_port=self.jcli_port,
                vhost=self.vhost,
                spec=spec,
                redis_db=self.redis_db,
            )
        )
        script = str(self.venv / "bin" / "jasmind.py")
        wrapper = self.dir / "run_jasmind.py"
        wrapper.write_text(WRAPPER.format(lock=str(self.dir / "jasmind"), script=script))
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "CLOUDAMQP_URL", "HTTP_API_PORT", "AMQP_BROKER_HOST",
                         "REDIS_CLIENT_HOST", "PYTHONPATH")
        }  # fmt: skip
        env.update(CONFIG_PATH=str(self.dir / "etc"), LOG_PATH=str(self.dir / "log"))
        self.out = open(self.dir / "stdout.log", "wb")
        self.proc = subprocess.Popen(
            [str(python), str(wrapper), "-c", str(self.dir / "etc" / "jasmin.cfg"),
             "--enable-dlr-lookup", "--enable-dlr-thrower", "--enable-deliver-thrower"],
            stdout=self.out, stderr=subprocess.STDOUT, env=env, cwd=self.dir,
        )  # fmt: skip
        deadline = time.time() + 60
        while time.time() < deadline:
            text = (self.dir / "stdout.log").read_text(errors="replace")
            if "jCli Started" in text and _reachable("127.0.0.1", self.jcli_port):
                break
            if self.proc.poll() is not None:
                raise Unavailable(f"jasmind exited:\n{text[-2000:]}")
            time.sleep(0.2)
        else:
            raise Unavailable("jasmind did not start within 60 s:\n" + text[-2000:])
        self.provision()

    def provision(self):
        cli = JCli(self.jcli_port)
        try:
            cli.run("group -a", "gid kyklosgroup", "ok")
            cli.run(
                "user -a",
                f"username {USER}",
                f"password {PASSWORD}",
                "gid kyklosgroup",
                f"uid {USER}",
                "ok",
            )
            cli.run(
                "smppccm -a",
                "cid smsc",
                "host 127.0.0.1",
                f"port {self.smsc.port}",
                "username test",
                "password test",
                "submit_throughput 50",
                "bind transceiver",
                "ok",
            )
            cli.run("smppccm -1 smsc")
            cli.run("mtrouter -a", "type DefaultRoute", "connector smppc(smsc)", "rate 0.00", "ok")
        finally:
            cli.close()
        if not self.smsc.wait_bound(30):
            raise Unavailable("Jasmin did not bind to the test SMSC")

    def ensure_bound(self, timeout: float = 30) -> None:
        """The SMPP client connector is bound to the SMSC; restarted once if not."""
        if self.smsc.wait_bound(2):
            return
        cli = JCli(self.jcli_port)
        try:
            cli.run("smppccm -0 smsc")
            cli.run("smppccm -1 smsc")
        finally:
            cli.close()
        if not self.smsc.wait_bound(timeout):
            raise AssertionError("Jasmin lost its SMPP link to the test SMSC:\n" + self.log())

    def route_inbound(self, url: str):
        """Inbound messages go to ``url`` (the application's inbound address)."""
        cli = JCli(self.jcli_port)
        try:
            cli.run("morouter -r 0", "httpccm -r kyklos")
            cli.run("httpccm -a", "cid kyklos", f"url {url}", "method POST", "ok")
            out = cli.run("morouter -a", "type DefaultRoute", "connector http(kyklos)", "ok")
        finally:
            cli.close()
        return out

    def log(self) -> str:
        parts = [(self.dir / "stdout.log").read_text(errors="replace")[-3000:]]
        for f in sorted((self.dir / "log").glob("*.log")):
            parts.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if getattr(self, "out", None):
            self.out.close()
        ctl = shutil.which("rabbitmqctl")
        if ctl:
            subprocess.run([ctl, "-q", "delete_vhost", self.vhost], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
