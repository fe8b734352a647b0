#!/usr/bin/env python3
"""The scaling scenario of Examples/VaporChat as tests: three vapor-chat worker processes share one
conversation in a private redis-server; SIGTERM stops each cleanly, closing its Redis client once.

    python3 scaling_test.py --bin path/to/vapor-chat [-k name-substring]

Ends with `N passed, N failed`; exits 1 when a case fails (a missing redis-server is a failure,
never a skip). Uses Examples/ChatServer/Tests/harness.py for redis-server and HTTP.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ChatServer", "Tests"))
from harness import RedisServer, free_port, history, post_turn, request, run_to_exit, session_path, wait_until  # noqa: E402

QUOTED = re.compile(r"«([^»]*)»")
CASES = []


def case(function):
    CASES.append(function)
    return function


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class VaporWorker:
    """One vapor-chat process: its port from PORT, or with `flags` from `serve --port`."""

    def __init__(self, binary, name, redis_url, log_dir, flags=False):
        self.binary, self.name, self.redis_url, self.flags = binary, name, redis_url, flags
        self.port = free_port()
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.process = None

    def start(self):
        env = dict(os.environ, WORKER_NAME=self.name, REDIS_URL=self.redis_url, LOG_LEVEL="info")
        env.pop("PORT", None)
        args = [self.binary]
        if self.flags:
            args += ["serve", "--port", str(self.port)]
        else:
            env["PORT"] = str(self.port)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        wait_until(lambda: self._healthy() or self.process.poll() is not None, 60, f"worker {self.name}")
        check(self.process.poll() is None, f"worker {self.name} exited with {self.process.returncode}: {self.log()[-1500:]}")
        return self

    def _healthy(self):
        try:
            status, _, payload = request(self.port, "GET", "/health", timeout=1)
            return status == 200 and payload.get("worker") == self.name
        except OSError:
            return False

    def terminate(self, timeout=30):
        """SIGTERM and wait: the exit code, or None when it had to be killed."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()


class Workers:
    """A private redis-server and three workers, w1 and w2 told their port by PORT and w3 by
    `serve --port`; all stopped on exit."""

    def __init__(self, binary):
        self.logs = tempfile.mkdtemp(prefix="vaporchat-logs.")
        self.redis = RedisServer()
        self.workers = [VaporWorker(binary, f"w{i + 1}", self.redis.url, self.logs, flags=(i == 2)) for i in range(3)]

    def __enter__(self):
        check(shutil.which("redis-server") is not None, "redis-server is not installed")
        self.redis.start()
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, error_type, *_):
        for worker in self.workers:
            worker.kill()
        if error_type is None:
            shutil.rmtree(self.logs, ignore_errors=True)
        else:
            print(f"    worker logs kept in {self.logs}", flush=True)
        self.redis.remove()


def accepts_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def check_error(status, payload, expected_status, expected_code, what):
    check(status == expected_status, f"{what}: HTTP {status} {payload}, expected {expected_status}")
    check(isinstance(payload, dict) and isinstance(payload.get("error"), dict), f"{what}: not a JSON error body: {payload}")
    error = payload["error"]
    check(error.get("code") == expected_code and error.get("retryable") is False and error.get("message"),
          f"{what}: {error}, expected code {expected_code}")


@case
def round_robin_turns_see_full_history(binary):
    """Turns of one session go to three workers in turn; each reply saw the whole history."""
    with Workers(binary) as cluster:
        session, contents = f"vapor rr-{uuid.uuid4().hex[:8]}", []
        for turn in range(9):
            worker = cluster.workers[turn % 3]
            content = f"turn {turn} via {worker.name}"
            status, headers, payload = post_turn(worker.port, session, content, f"m{turn}")
            check(status == 200, f"turn {turn}: HTTP {status} {payload}")
            check(headers.get("x-worker") == worker.name and payload["worker"] == worker.name,
                  f"turn {turn} answered by {headers.get('x-worker')}, expected {worker.name}")
            check(payload["session"] == session and not payload["replayed"], f"turn {turn}: {payload}")
            check(payload["remembered"] == 2 * len(contents), f"turn {turn}: remembered {payload['remembered']}, expected {2 * len(contents)}")
            quoted = QUOTED.findall(payload["assistant"]["content"])
            check(quoted == contents + [content], f"turn {turn}: the reply quoted {quoted}, expected {contents + [content]}")
            check(payload["window_tokens"] > 0, f"turn {turn}: window_tokens {payload['window_tokens']}")
            contents.append(content)

        def check_history(messages, where):
            check([m["content"] for m in messages if m["role"] == "user"] == contents, f"{where}: user turns {messages}")
            check(len(messages) == 2 * len(contents), f"{where}: {len(messages)} messages, expected {2 * len(contents)}")
            for index, (user, reply) in enumerate(zip(messages[::2], messages[1::2])):
                check(user["role"] == "user" and user["id"] == f"m{index}", f"{where}: message {2 * index} is {user}")
                check(reply["role"] == "assistant" and reply["id"] == f"m{index}:reply", f"{where}: message {2 * index + 1} is {reply}")

        for worker in cluster.workers:
            check_history(history(worker.port, session), f"history from {worker.name}")
        window = history(cluster.workers[1].port, session, tokens=200)
        check(0 < len(window) < 2 * len(contents) and window[-1]["id"] == "m8:reply", f"a 200-token window: {window}")

        # A retry of the last turn (same id) on another worker replays it and stores nothing.
        status, headers, payload = post_turn(cluster.workers[0].port, session, contents[-1], "m8")
        check(status == 200 and payload["replayed"] and headers.get("x-worker") == "w1", f"the retry: {status} {payload}")
        check(QUOTED.findall(payload["assistant"]["content"]) == contents, f"the retry got another reply: {payload}")
        check_history(history(cluster.workers[2].port, session), "history after the retry")
        print(f"    9 turns over w1, w2, w3 and a retry: {2 * len(contents)} messages stored", flush=True)

        # Bad input: a 4xx with a JSON error body, from any worker, and nothing stored.
        worker = cluster.workers[2]
        status, headers, payload = request(worker.port, "POST", f"/sessions/{session_path(session)}/messages", {"text": "no content"})
        check_error(status, payload, 400, "bad_request", "a body without content")
        check(headers.get("x-worker") == "w3", f"an error without X-Worker: {headers}")
        status, _, payload = post_turn(worker.port, session, "hi", "m9:reply")
        check_error(status, payload, 400, "invalid_message_id", "a message id ending in :reply")
        status, _, payload = post_turn(worker.port, session, "x" * 20_000, "m10")
        check_error(status, payload, 413, "content_too_large", "a content over 16 KiB")
        status, _, payload = request(worker.port, "GET", f"/sessions/{session_path(session)}/messages?tokens=zero")
        check_error(status, payload, 400, "bad_request", "tokens=zero")
        status, _, payload = request(worker.port, "GET", "/no/such/route")
        check_error(status, payload, 404, "not_found", "an unknown route")
        check_history(history(cluster.workers[0].port, session), "history after the bad requests")

        status, _, payload = request(cluster.workers[1].port, "DELETE", f"/sessions/{session_path(session)}")
        check(status == 200 and payload["deleted"] is True, f"DELETE: {status} {payload}")
        check(history(cluster.workers[2].port, session) == [], "the session still has messages after DELETE")


@case
def sigterm_stops_workers_and_closes_the_client_once(binary):
    """SIGTERM: each worker exits 0, stopping its HTTP server and then closing its Redis client once."""
    with Workers(binary) as cluster:
        session = f"stop-{uuid.uuid4().hex[:8]}"
        for index, worker in enumerate(cluster.workers):
            status, _, payload = post_turn(worker.port, session, f"before stop {index}", f"s{index}")
            check(status == 200, f"turn on {worker.name}: {status} {payload}")
        names = cluster.redis.command("CLIENT", "LIST") or ""
        for worker in cluster.workers:
            check(f"name=vapor-chat:{worker.name} " in names, f"no Redis connection named vapor-chat:{worker.name}: {names}")
        # A request in flight at SIGTERM: its head and half its body are in; the rest comes once
        # the worker has stopped accepting connections. It is answered, and Redis still stores
        # the turn: the server stops before the client closes.
        first = cluster.workers[0]
        body = json.dumps({"content": "sent while stopping", "id": "in-flight"}).encode()
        sock = socket.create_connection(("127.0.0.1", first.port), timeout=30)
        try:
            sock.sendall(f"POST /sessions/{session}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
            time.sleep(0.5)  # lets the worker read the head (not a pass criterion: the check below holds either way)
            first.process.send_signal(signal.SIGTERM)
            wait_until(lambda: not accepts_connections(first.port), 30, f"{first.name} to stop accepting connections")
            sock.sendall(body[10:])
            reply = sock.makefile("rb").read()
        finally:
            sock.close()
        check(reply.startswith(b"HTTP/1.1 200"), f"the in-flight request got {reply[:300]!r}")
        check(b"sent while stopping" in reply, f"the in-flight request got {reply[:300]!r}")
        contents = [m["content"] for m in history(cluster.workers[1].port, session) if m["role"] == "user"]
        check(contents == ["before stop 0", "before stop 1", "before stop 2", "sent while stopping"], f"history after the stop: {contents}")
        for worker in cluster.workers:
            code = worker.terminate()
            log = worker.log()
            check(code == 0, f"{worker.name} exited with {code} after SIGTERM: {log[-1500:]}")
            closed, stopped = log.count("redis client closed"), log.count("http server stopped")
            check(closed == 1 and stopped == 1, f"{worker.name}: 'redis client closed' {closed} times, 'http server stopped' {stopped} times")
            check(log.index("http server stopped") < log.index("redis client closed"), f"{worker.name}: the client closed before the server stopped")
        wait_until(lambda: "vapor-chat:" not in (cluster.redis.command("CLIENT", "LIST") or "vapor-chat:"), 10,
                   "the workers' Redis connections to close")
        print("    3 workers exited 0; each closed its Redis client once, after its HTTP server; a request in flight was answered", flush=True)


@case
def bad_settings_stop_the_worker(binary):
    """A bad PORT, WORKER_NAME or REDIS_URL stops the worker at once with exit code 64, and a password is never echoed."""
    for env, expected in (({"PORT": "abc"}, "PORT must be"), ({"WORKER_NAME": "w 1"}, "WORKER_NAME must be"),
                          ({"REDIS_URL": "redis://:s3cret@127.0.0.1:99999"}, "REDIS_URL")):
        code, output = run_to_exit(binary, env={"PORT": None, "WORKER_NAME": None, "REDIS_URL": None, **env})
        check(code == 64 and expected in output, f"{env}: exit {code}, output {output!r}")
        check("s3cret" not in output, f"{env}: the password shows in {output!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the vapor-chat executable")
    parser.add_argument("-k", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so every case still stops its redis-server and workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    selected = [c for c in CASES if args.k in c.__name__]
    passed = failed = 0
    for function in selected:
        started = time.monotonic()
        print(f"[ RUN  ] {function.__name__}: {function.__doc__.splitlines()[0]}", flush=True)
        try:
            function(args.bin)
            passed += 1
            print(f"[  OK  ] {function.__name__} ({time.monotonic() - started:.1f}s)", flush=True)
        except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the run
            failed += 1
            traceback.print_exc()
            print(f"[ FAIL ] {function.__name__} ({time.monotonic() - started:.1f}s): {error}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not selected else 0


if __name__ == "__main__":
    sys.exit(main())
