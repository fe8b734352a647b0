"""Processes and HTTP for the chat-server scenarios: a private redis-server (stoppable with
SIGKILL and restartable on the same port and folder), chat-server workers, and a small JSON client.

Standard library only. Used by scaling_test.py and ../Bench/load.py.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse


def _ephemeral_ports():
    """The kernel's range of local ports for outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(part) for part in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A port nothing listens on, outside the ephemeral range: any process's outgoing connection
    takes its local port from that range, and could take a port picked there before the server
    meant to listen on it binds it."""
    low, high = _ephemeral_ports()
    for _ in range(200):
        port = random.randint(10000, 65535)
        if low <= port <= high:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A redis-server on a free loopback port in its own temporary folder; with `password`, it
    requires that password (and `command` sends it first)."""

    def __init__(self, *extra_args, password=None):
        self.dir = tempfile.mkdtemp(prefix="chatserver-redis.")
        self.port = free_port()
        self.password = password
        self.extra_args = list(extra_args) + (["--requirepass", password] if password else [])
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")]
        self.process = subprocess.Popen(args + self.extra_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.command("PING") == "PONG" or self._died(), 15, f"redis-server on port {self.port}")
        if self._died():
            raise RuntimeError(f"redis-server exited: {self.log()}")
        return self

    def _died(self):
        return self.process.poll() is not None

    def kill(self):
        """SIGKILL: no shutdown, no final fsync; what is on disk is what was acknowledged."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def command(self, *args):
        """Sends one command over RESP; returns a str, int, list or None (None also when unreachable)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                replies = s.makefile("rb")
                if self.password:
                    s.sendall(_encode(["AUTH", self.password]))
                    _read_resp(replies)
                s.sendall(_encode(args))
                return _read_resp(replies)
        except (OSError, ConnectionError):
            return None


def _encode(args):
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        payload += f"${len(data)}\r\n".encode() + data + b"\r\n"
    return payload


def _read_resp(f):
    line = f.readline()
    if not line:
        raise ConnectionError("closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_resp(f) for _ in range(n)]
    raise ConnectionError(f"bad RESP line {line!r}")


class Worker:
    """One chat-server process."""

    def __init__(self, binary, name, redis_url=None, store="redis", log_dir=None, args=(), log_level="warning", env=None):
        self.binary = binary
        self.env = dict(env or {})
        self.name = name
        self.redis_url = redis_url
        self.store = store
        self.args = list(args)
        self.log_level = log_level
        self.port = free_port()
        self.log_path = os.path.join(log_dir or tempfile.gettempdir(), f"{name}.log")
        self.process = None

    def start(self):
        env = dict(os.environ, WORKER_NAME=self.name, LOG_LEVEL=self.log_level)
        env.pop("REDIS_URL", None)
        env.pop("CHAT_REPLICAS", None)
        env.update(self.env)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        # Another process may take the port between picking and binding it: then a new one.
        for _ in range(5):
            env["PORT"] = str(self.port)
            written = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            log = open(self.log_path, "ab")
            self.process = subprocess.Popen([self.binary, "--store", self.store] + self.args, env=env, stdout=log, stderr=log)
            log.close()
            wait_until(lambda: self._healthy() or self.process.poll() is not None, 30, f"worker {self.name}")
            if self.process.poll() is None:
                return self
            with open(self.log_path, "rb") as f:
                f.seek(written)
                if b"Address already in use" not in f.read():
                    break
            self.port = free_port()
        raise RuntimeError(f"worker {self.name} exited with {self.process.returncode}; log {self.log_path}")

    def _healthy(self):
        try:
            status, _, _ = request(self.port, "GET", "/health", timeout=1)
            return status == 200
        except OSError:
            return False

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def log(self):
        """Everything the worker wrote to stdout and stderr so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def terminate(self, timeout=10):
        """SIGTERM and wait: returns the exit code (None when it had to be killed)."""
        if not self.process or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


def request(port, method, path, body=None, timeout=10, connection=None):
    """One HTTP request; returns (status, headers, decoded JSON or None). Raises OSError when the
    worker can't be reached."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    except (http.client.HTTPException, ConnectionError) as error:
        raise OSError(f"{method} {path} on port {port}: {error!r}") from error
    finally:
        if connection is None:
            conn.close()


def run_to_exit(binary, args=(), env=None, timeout=20):
    """Runs the binary with `env` layered on a copy of this environment (a value of None removes
    the variable); returns (exit code, stdout + stderr), or (None, output) when it was still
    running after `timeout` seconds (it is then killed)."""
    environment = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    process = subprocess.Popen([binary, *args], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, output.decode("utf-8", "replace")


def session_path(session):
    """The URL path segment of a session id (any text; percent-encoded)."""
    return urllib.parse.quote(session, safe="")


def post_turn(port, session, content, message_id=None, timeout=10, connection=None):
    body = {"content": content}
    if message_id is not None:
        body["id"] = message_id
    return request(port, "POST", f"/sessions/{session_path(session)}/messages", body, timeout=timeout, connection=connection)


def history(port, session, tokens=None):
    query = f"?tokens={tokens}" if tokens else ""
    status, _, payload = request(port, "GET", f"/sessions/{session_path(session)}/messages{query}")
    if status != 200:
        raise AssertionError(f"GET history of {session}: HTTP {status} {payload}")
    return payload["messages"]
