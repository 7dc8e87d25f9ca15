"""Real servers for the cluster tests, each on a free loopback port in its own temporary folder, each stopped when
its `with` block ends (also when the test fails): PostgreSQL, nginx, and `tryon serve`.

Each is a context manager, so a fixture reads

    with start_postgres(tmp_path) as url:
        yield url

A Debian package that is not installed makes the test skip, saying which (`make test` installs them).
`free_port`, `wait_for_port` and `Process` are shared with tests/cluster/workers.py (Redis, `tryon worker`) and
tests/cluster/turn.py (coturn).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 60.0  # a loaded 2-core machine starting PostgreSQL or `tryon serve` (which loads the models)
STOP_TIMEOUT_S = 15.0
REPO = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "cluster-admin-token-0123456789"  # the cluster's servers take designs and imports with it
CLUSTER_SEATS = (1, 2)  # live seats on the cluster's server 1 and server 2 (tests/cluster/conftest.py)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_program(name: str, *patterns: str) -> str:
    """The path of a server's program (on PATH or at one of the glob `patterns`), or skip the test naming it."""
    found = shutil.which(name)
    for pattern in patterns:
        if found:
            break
        found = next(iter(sorted(glob.glob(pattern), reverse=True)), None)
    if not found:
        pytest.skip(f"{name} is not installed (Debian package; `make test` installs it)")
    return found


def new_database(postgres_url: str, name: str) -> str:
    """A new, empty database `name` on the PostgreSQL at `postgres_url`; its url (one per test or cluster, so
    nothing one leaves behind is seen by another)."""
    import re

    import psycopg

    assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Process:
    """A server process started in its own process group, its output in `log`."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return int(self.popen.pid)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """`sig` to its process group, then SIGKILL if it has not exited within `timeout_s`."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL to its process group (a worker's death, or a server that did not stop)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(STOP_TIMEOUT_S)


def spawn(name: str, cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> Process:
    """Start `cmd` in its own process group (so `stop` reaches its children), stdout and stderr to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        popen = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)
    return Process(name, popen, log)


def wait_for_port(port: int, process: Process, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`; fail with the process's log when it exits
    or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited ({process.popen.returncode}) before listening on {port}:\n"
                               f"{process.tail()}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not listen on {port} within {timeout_s:.0f} s:\n{process.tail()}")


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def start_postgres(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL (Debian's) on a free loopback port with an empty database `tryon`; yields its url,
    postgresql://tryon@127.0.0.1:PORT/tryon (trust authentication: loopback only, test data only)."""
    initdb = find_program("initdb", "/usr/lib/postgresql/*/bin/initdb")
    bindir = Path(initdb).parent
    # Its own folder outside tmp_path: pytest's temp root is root's and 0700, which the postgres user cannot enter.
    home = Path(tempfile.mkdtemp(prefix="tryon-pg-"))
    process: Process | None = None
    try:
        if os.geteuid() == 0:
            shutil.chown(home, "postgres", "postgres")
        data = home / "data"
        init = subprocess.run(_as_postgres([initdb, "-D", str(data), "-U", "tryon", "-A", "trust", "-E", "UTF8",
                                            "--no-sync", "--no-instructions"]),
                              capture_output=True, text=True, timeout=120)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        port = free_port()
        process = spawn("postgres", _as_postgres([
            str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(home),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200"]), tmp_path / "postgres.log")
        wait_for_port(port, process)
        import psycopg

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:  # listening is not yet accepting: it may still be starting up
            try:
                with psycopg.connect(f"postgresql://tryon@127.0.0.1:{port}/postgres", autocommit=True) as conn:
                    conn.execute("CREATE DATABASE tryon")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or not process.alive():
                    raise RuntimeError(f"PostgreSQL did not accept connections:\n{process.tail()}") from None
                time.sleep(0.2)
        yield f"postgresql://tryon@127.0.0.1:{port}/tryon"
    finally:
        if process is not None:
            process.stop(signal.SIGINT)  # PostgreSQL's "fast" shutdown: sessions are ended, no waiting on them
        shutil.rmtree(home, ignore_errors=True)


NGINX_MAIN = """
worker_processes 1;
events { worker_connections 256; }
http {
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    {site}
}
"""


@contextmanager
def start_nginx(conf_text: str, tmp_path: Path) -> Iterator[int]:
    """nginx (Debian's) serving `conf_text` on a free loopback port; yields the port.

    `conf_text` is what goes inside `http { }` (a site's `upstream` and `server` blocks, like deploy/nginx.conf),
    with `{port}` where the port goes. Its logs and temporary files stay in its own folder under `tmp_path`."""
    nginx = find_program("nginx", "/usr/sbin/nginx")
    home = tmp_path / f"nginx-{free_port()}"
    home.mkdir(parents=True)
    port = free_port()
    site = conf_text.replace("{port}", str(port))
    conf = NGINX_MAIN.replace("{tmp}", str(home)).replace("{site}", site)
    if os.geteuid() == 0:
        conf = "user root;\n" + conf  # its workers may then read and write the temp folders made here
    (home / "nginx.conf").write_text(conf)
    check = subprocess.run([nginx, "-t", "-p", str(home), "-c", str(home / "nginx.conf"), "-e", str(home / "error.log"),
                            "-g", f"daemon off; pid {home / 'nginx.pid'};"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused the configuration:\n{check.stderr}\n{conf}")
    process = spawn("nginx", [nginx, "-p", str(home), "-c", str(home / "nginx.conf"), "-e", str(home / "error.log"),
                              "-g", f"daemon off; pid {home / 'nginx.pid'};"], home / "nginx.out")
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.stop(signal.SIGQUIT)  # graceful: finishes the requests it is passing on


@dataclass(frozen=True)
class Server:
    """A running `tryon serve`: its port, environment, and the data folder that is its own."""

    name: str
    port: int
    env: dict[str, str]
    data_dir: Path
    process: Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def spawn_tryon_serve(name: str, env: Mapping[str, str], tmp_path: Path, extra_args: Sequence[str] = ()) -> Server:
    """`tryon serve` started on a free loopback port in its own process, with `env` over the test's environment
    and its own TRYON_DATA_DIR (unless `env` sets one); not waited for (`wait_healthy`), and the caller stops it
    (`server.process.stop()`). Several start faster side by side than one after another."""
    port = free_port()
    data_dir = Path(env.get("TRYON_DATA_DIR") or tmp_path / f"{name}-data")
    full = {**os.environ, "TRYON_DATA_DIR": str(data_dir), **env, "PYTHONUNBUFFERED": "1"}
    process = spawn(name, [sys.executable, "-m", "tryon.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                           *extra_args], tmp_path / f"{name}.log", env=full, cwd=REPO)
    return Server(name, port, full, data_dir, process)


def wait_healthy(server: Server) -> None:
    """Wait until the server answers GET /api/health with 200; fail with its log when it exits or takes too long."""
    import httpx

    wait_for_port(server.port, server.process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{server.url}/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not server.process.alive():
            raise RuntimeError(f"{server.name} did not become healthy:\n{server.process.tail()}")
        time.sleep(0.2)


@contextmanager
def start_tryon_serve(name: str, env: Mapping[str, str], tmp_path: Path,
                      extra_args: Sequence[str] = ()) -> Iterator[Server]:
    """`tryon serve` (spawn_tryon_serve), yielded once it answers /api/health, stopped (SIGTERM: it drains, then
    SIGKILL after 30 s) when the block ends."""
    server = spawn_tryon_serve(name, env, tmp_path, extra_args)
    try:
        wait_healthy(server)
        yield server
    finally:
        server.process.stop(signal.SIGTERM, timeout_s=30)


DEPLOY_NGINX = REPO / "deploy" / "nginx.conf"


def nginx_site(server_ports: Sequence[int], access_log: Path, conf: str | None = None) -> str:
    """deploy/nginx.conf as shipped, pointed at these servers, at `{port}` on loopback, logging to `access_log`:
    the tests run the very proxy settings a deployment uses. Fails when the file no longer has the lines
    replaced here (then this and the docs need a look)."""
    import re

    text = conf if conf is not None else DEPLOY_NGINX.read_text()
    upstream = re.search(r"(upstream tryon \{.*?)((?:\n\s*server [^\n]*;)+)", text, re.S)
    assert upstream, f"no `upstream tryon {{ server ...; }}` in {DEPLOY_NGINX}"
    options = re.search(r"server \S+( [^;\n]*)?;", upstream.group(2))
    extra = (options.group(1) or "") if options else ""
    lines = "".join(f"\n    server 127.0.0.1:{p}{extra};" for p in server_ports)
    text = text[:upstream.start(2)] + lines + text[upstream.end(2):]
    text, n_listen = re.subn(r"\blisten\s+80;", "listen 127.0.0.1:{port};", text)
    text, n_log = re.subn(r"access_log\s+\S+\s+tryon_upstreams;", f"access_log {access_log} tryon_upstreams;", text)
    assert n_listen == 1 and n_log == 1, f"{DEPLOY_NGINX}: expected one `listen 80;` and one tryon_upstreams access_log"
    return text


@dataclass(frozen=True)
class Passed:
    """One request through the balancer, from its access log: the status the client got, and each server tried
    with what it said, in order."""

    request: str
    status: int
    upstreams: tuple[str, ...]
    upstream_statuses: tuple[int, ...]


@dataclass
class Cluster:
    """`tryon serve` processes behind nginx, sharing one database and one files directory."""

    port: int  # the balancer's
    servers: list[Server]
    database_url: str
    media_dir: Path
    access_log: Path
    env: dict[str, str]  # what every server (and worker) got
    broker_url: str | None = None
    workers: list[object] | None = None  # tests/cluster/workers.py's handles, where started
    turn: object | None = None  # tests/cluster/turn.py's TurnServer, where started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def passed(self) -> list[Passed]:
        """Every request the balancer passed so far, oldest first."""
        import re

        out = []
        if not self.access_log.exists():
            return out
        pattern = re.compile(r'"(?P<req>[^"]*)" (?P<status>\d+) upstream=(?P<addr>.*?) upstream_status=(?P<st>.*)$')
        for line in self.access_log.read_text().splitlines():
            m = pattern.search(line)
            if m:
                addrs = tuple(a.strip() for a in m["addr"].split(",") if a.strip() and a.strip() != "-")
                statuses = tuple(int(s) for s in re.findall(r"\d+", m["st"]))
                out.append(Passed(m["req"], int(m["status"]), addrs, statuses))
        return out


@contextmanager
def start_cluster(tmp_path: Path, database_url: str, server_envs: Sequence[Mapping[str, str]] = ({}, {}),
                  env: Mapping[str, str] | None = None) -> Iterator[Cluster]:
    """One `tryon serve` per entry of `server_envs` (each its own data dir and settings on top of `env`), all on
    `database_url` and one shared TRYON_MEDIA_DIR, trusting the balancer's X-Forwarded-For; nginx in front with
    deploy/nginx.conf. Redis, workers and coturn are the caller's: pass their settings in `env`
    (TRYON_BROKER_URL, TRYON_ICE_SERVERS)."""
    from contextlib import ExitStack

    media = tmp_path / "shared-media"
    media.mkdir(parents=True, exist_ok=True)
    shared = {"TRYON_DATABASE_URL": database_url, "TRYON_MEDIA_DIR": str(media),
              "TRYON_TRUSTED_PROXIES": '["127.0.0.1"]', **(env or {})}
    with ExitStack() as stack:
        servers = []
        for i, own in enumerate(server_envs):  # side by side: each loads its models while the other does
            server = spawn_tryon_serve(f"serve{i + 1}", {**shared, **own}, tmp_path)
            stack.callback(server.process.stop, signal.SIGTERM, 30)
            servers.append(server)
        for server in servers:
            wait_healthy(server)
        access_log = tmp_path / "balancer-access.log"
        port = stack.enter_context(start_nginx(nginx_site([s.port for s in servers], access_log), tmp_path))
        yield Cluster(port, servers, database_url, media, access_log, shared,
                      broker_url=shared.get("TRYON_BROKER_URL"))
