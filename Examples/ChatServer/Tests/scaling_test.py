#!/usr/bin/env python3
"""The scaling scenario of Examples/ChatServer as tests: several chat-server worker processes share
one conversation store in Redis. Every case starts its own redis-server and workers and stops them.

    python3 scaling_test.py --bin path/to/chat-server [-k name-substring]

Ends with `N passed, N failed`; exits 1 when a case fails (a missing redis-server is a failure,
never a skip).
"""
import argparse
import concurrent.futures
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid

from harness import RedisServer, Worker, history, post_turn, request

QUOTED = re.compile(r"«([^»]*)»")
CASES = []


def case(function):
    CASES.append(function)
    return function


class Cluster:
    """A redis-server plus `count` workers (w1, w2, ...), all stopped on exit."""

    def __init__(self, binary, count, *redis_args):
        self.logs = tempfile.mkdtemp(prefix="chatserver-logs.")
        self.redis = RedisServer(*redis_args)
        self.workers = [Worker(binary, f"w{i + 1}", self.redis.url, log_dir=self.logs) for i in range(count)]

    def __enter__(self):
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
            print(f"    worker logs kept in {self.logs}; redis-server's log: {self.redis.log()[-500:]!r}", flush=True)
        self.redis.remove()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def check_turn(status, headers, payload, worker, earlier, content):
    """A turn answered by `worker` whose model saw exactly the `earlier` user contents."""
    check(status == 200, f"HTTP {status}: {payload}")
    check(headers.get("x-worker") == worker, f"answered by {headers.get('x-worker')}, expected {worker}")
    check(payload["remembered"] == 2 * len(earlier), f"remembered {payload['remembered']} messages, expected {2 * len(earlier)}")
    quoted = QUOTED.findall(payload["assistant"]["content"])
    check(quoted == earlier + [content], f"reply quoted {quoted}, expected {earlier + [content]}")


def check_history(messages, contents, session):
    """The stored history is exactly user/assistant pairs for `contents`, in order."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    check(users == contents, f"{session}: stored user turns {users}, expected {contents}")
    check(len(messages) == 2 * len(contents), f"{session}: {len(messages)} messages, expected {2 * len(contents)}")
    for user, reply in zip(messages[::2], messages[1::2]):
        check(user["role"] == "user" and reply["role"] == "assistant", f"{session}: turns out of order")
        check(reply["id"] == user["id"] + ":reply", f"{session}: reply {reply['id']} does not follow {user['id']}")


@case
def round_robin_turns_see_full_history(binary):
    """Turns of one conversation go to three worker processes in turn; each sees the whole history."""
    with Cluster(binary, 3) as cluster:
        session, contents = f"rr-{uuid.uuid4().hex[:8]}", []
        for turn in range(12):
            worker = cluster.workers[turn % 3]
            content = f"turn {turn} via {worker.name}"
            check_turn(*post_turn(worker.port, session, content, f"m{turn}"), worker.name, contents, content)
            contents.append(content)
        for worker in cluster.workers:
            check_history(history(worker.port, session), contents, session)
        # A retry (same message id) on another worker returns the stored turn and adds nothing.
        status, _, payload = post_turn(cluster.workers[1].port, session, contents[-1], "m11")
        check(status == 200 and payload["replayed"], f"retry was not replayed: {status} {payload}")
        check(QUOTED.findall(payload["assistant"]["content"]) == contents, "a retry returned another reply")
        check_history(history(cluster.workers[0].port, session), contents, session)


@case
def worker_killed_mid_conversation(binary):
    """A worker dies with SIGKILL mid-conversation; the others carry on with nothing lost."""
    with Cluster(binary, 3) as cluster:
        session, contents = f"kill-{uuid.uuid4().hex[:8]}", []
        def turn_on(worker):
            content = f"turn {len(contents)} via {worker.name}"
            check_turn(*post_turn(worker.port, session, content, f"m{len(contents)}"), worker.name, contents, content)
            contents.append(content)
        for turn in range(6):
            turn_on(cluster.workers[turn % 3])
        victim = cluster.workers[1]
        victim.kill()
        try:
            post_turn(victim.port, session, "lost", timeout=2)
            raise AssertionError("the killed worker still answers")
        except OSError:
            pass
        survivors = [cluster.workers[0], cluster.workers[2]]
        for turn in range(6):
            turn_on(survivors[turn % 2])
        for worker in survivors:
            check_history(history(worker.port, session), contents, session)


@case
def redis_killed_while_four_workers_append(binary):
    """redis-server (AOF, appendfsync always) dies with SIGKILL while 4 workers append and comes back
    on the same port and folder: every acknowledged turn is there, none twice; workers answer 503
    quickly while it is down and reconnect by themselves; clients retry a failed turn with its id."""
    with Cluster(binary, 4, "--appendonly", "yes", "--appendfsync", "always") as cluster:
        prefix = f"crash-{uuid.uuid4().hex[:6]}"
        sessions = [f"{prefix}-{i}" for i in range(8)]
        acked, failures, statuses, problems = [], [], {}, []
        replayed = [0]
        lock = threading.Lock()
        phase = {"stop": False}

        def client(index, worker):
            """Sends turns one after another; a failed turn is retried with the same id until it is
            acknowledged, as a real client would."""
            turn = 0
            while not phase["stop"]:
                session = sessions[(index + turn) % len(sessions)]
                message_id = f"c{index}-t{turn}"
                give_up = time.monotonic() + 30
                while True:
                    started = time.monotonic()
                    try:
                        status, _, payload = post_turn(worker.port, session, f"{message_id} says hi", message_id, timeout=15)
                    except OSError as error:
                        status, payload = f"no answer ({error})", None
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                        if status == 200:
                            acked.append((session, message_id))
                            replayed[0] += payload["replayed"]
                            break
                        failures.append((time.monotonic() - started, payload))
                    if time.monotonic() > give_up:
                        with lock:
                            problems.append(f"{message_id} never acknowledged")
                        return
                    time.sleep(0.05)
                turn += 1

        threads = [threading.Thread(target=client, args=(i, w)) for i, w in enumerate(cluster.workers)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        acked_before = len(acked)
        cluster.redis.kill()
        time.sleep(2.0)
        with lock:
            failed_while_down, acked_while_down = len(failures), len(acked)
        cluster.redis.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(acked) < acked_while_down + 40:
            time.sleep(0.1)
        phase["stop"] = True
        for thread in threads:
            thread.join(40)
        check(not any(t.is_alive() for t in threads), "a client hung")
        check(not problems, f"turns never acknowledged: {problems[:3]}")
        check(acked_before > 0, "nothing was acknowledged before the crash")
        check(failed_while_down > 0, "no request failed while Redis was down")
        check(set(statuses) <= {200, 503}, f"statuses other than 200/503: {statuses}")
        check(all(p and p["error"]["code"] == "redis_unavailable" for _, p in failures), "a 503 without the redis_unavailable error body")
        slowest = max(elapsed for elapsed, _ in failures)
        check(slowest < 5, f"a failing request took {slowest:.1f}s (it should fail fast)")
        check(len(acked) >= acked_while_down + 40, f"workers did not recover: {len(acked) - acked_while_down} turns after the restart")
        for worker in cluster.workers:
            status, _, _ = post_turn(worker.port, sessions[0], f"after restart via {worker.name}")
            check(status == 200, f"{worker.name} did not reconnect: HTTP {status}")

        ids = []
        for session in sessions:
            ids += [(session, m["id"]) for m in history(cluster.workers[0].port, session)]
        check(len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} messages stored twice")
        present = set(ids)
        missing = [a for a in acked if a not in present or (a[0], a[1] + ":reply") not in present]
        check(not missing, f"{len(missing)} acknowledged turns lost, e.g. {missing[:3]}")
        print(f"    {len(acked)} turns acknowledged and stored once; {len(failures)} attempts answered 503 while Redis "
              f"was down (slowest {slowest * 1000:.0f} ms); {replayed[0]} retries found their turn already stored", flush=True)


@case
def hundred_sessions_twenty_turns_concurrently(binary):
    """100 sessions x 20 turns at once through 3 workers: each history complete, in order, unmixed."""
    with Cluster(binary, 3) as cluster:
        prefix = f"load-{uuid.uuid4().hex[:6]}"

        def conversation(index):
            session, contents = f"{prefix}-{index:03}", []
            for turn in range(20):
                worker = cluster.workers[(index + turn) % 3]
                content = f"{session} turn {turn}"
                check_turn(*post_turn(worker.port, session, content, f"{session}-m{turn}"), worker.name, contents, content)
                contents.append(content)
            return session, contents

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
            results = list(pool.map(conversation, range(100)))
        elapsed = time.monotonic() - started
        for index, (session, contents) in enumerate(results):
            messages = history(cluster.workers[index % 3].port, session)
            check_history(messages, contents, session)
            texts = [m["content"] for m in messages if m["role"] == "user"]
            texts += [q for m in messages if m["role"] == "assistant" for q in QUOTED.findall(m["content"])]
            check(all(t.startswith(session + " ") for t in texts), f"{session} holds another session's message")
        keys = cluster.redis.command("DBSIZE")
        check(keys == 100, f"Redis holds {keys} keys, expected 100")
        print(f"    2000 turns in {elapsed:.1f}s ({2000 / elapsed:.0f} turns/s)", flush=True)


@case
def errors_are_json_with_proper_statuses(binary):
    """Bad input is a 400, any session id round-trips, Redis down is a fast 503, SIGTERM stops cleanly."""
    with Cluster(binary, 1) as cluster:
        worker = cluster.workers[0]
        status, headers, payload = post_turn(worker.port, "x" * 600, "hi")
        check(status == 400 and payload["error"]["code"] == "invalid_session_id", f"long session id: {status} {payload}")
        check(headers.get("x-worker") == "w1", "an error response without X-Worker")
        status, _, payload = request(worker.port, "POST", "/sessions/s1/messages", {"text": "no content"})
        check(status == 400 and payload["error"]["code"] == "bad_request", f"bad body: {status} {payload}")
        status, _, payload = request(worker.port, "GET", "/sessions/s1/messages?tokens=abc")
        check(status == 400, f"bad tokens: {status} {payload}")
        odd = "user 42/ü {*}\r\n%s"
        check(post_turn(worker.port, odd, "hello")[0] == 200, "a turn with an odd session id failed")
        check(cluster.redis.command("LLEN", "chat:" + odd) == 2, "the percent-encoded session id did not become the key chat:<id>")
        check(post_turn(worker.port, "s1", "hello")[0] == 200, "a turn failed")
        status, _, payload = request(worker.port, "GET", "/sessions/s1/messages?tokens=1000")
        check(status == 200 and payload["count"] == 2 and payload["whole_history"], f"window: {payload}")
        status, _, payload = request(worker.port, "DELETE", "/sessions/s1")
        check(status == 200 and payload["deleted"], f"delete: {status} {payload}")
        cluster.redis.kill()
        started = time.monotonic()
        status, _, payload = post_turn(worker.port, "s1", "hello?", timeout=15)
        elapsed = time.monotonic() - started
        check(status == 503 and payload["error"]["code"] == "redis_unavailable", f"Redis down: {status} {payload}")
        check("Redis" in payload["error"]["message"], f"unclear message: {payload['error']['message']}")
        check(elapsed < 5, f"the 503 took {elapsed:.1f}s")
        code = worker.terminate()
        check(code == 0, f"SIGTERM: exit code {code}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the chat-server executable")
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
