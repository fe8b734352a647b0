#!/usr/bin/env python3
"""The scaling scenario of Examples/ChatServer as tests: several chat-server worker processes share
one conversation store in Redis. Every case starts its own redis-server and workers and stops them.

    python3 scaling_test.py --bin path/to/chat-server [-k name-substring]

Ends with `N passed, N failed`; exits 1 when a case fails (a missing redis-server is a failure,
never a skip).
"""
import argparse
import concurrent.futures
import http.client
import json
import random
import re
import selectors
import socket
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid

from harness import RedisServer, Worker, free_port, history, post_turn, request, run_to_exit, session_path, wait_until

QUOTED = re.compile(r"«([^»]*)»")
CASES = []


def case(function):
    CASES.append(function)
    return function


class Cluster:
    """A redis-server plus `count` workers (w1, w2, ...), all stopped on exit."""

    def __init__(self, binary, count, *redis_args, worker_args=(), log_level="warning"):
        self.logs = tempfile.mkdtemp(prefix="chatserver-logs.")
        self.redis = RedisServer(*redis_args)
        self.workers = [Worker(binary, f"w{i + 1}", self.redis.url, log_dir=self.logs, args=worker_args, log_level=log_level)
                        for i in range(count)]

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


def check_no_internals(payload, redis, what, *secrets):
    """An error body shows nothing of Redis: no address, no port, none of its own error text."""
    text = json.dumps(payload)
    for leak in ("127.0.0.1", str(redis.port), "connect", "OOM", "READONLY", "MASTERDOWN", "maxmemory", "AUTH", "WRONGPASS", *secrets):
        check(leak not in text, f"{what}: the body shows {leak!r}: {text}")


def check_unavailable(status, headers, payload, redis, what):
    """A retryable 503 with a stable code and Retry-After, and nothing of Redis's internals."""
    check(status == 503, f"{what}: HTTP {status} {payload}")
    error = payload["error"]
    check(error["code"] == "redis_unavailable" and error["retryable"] is True, f"{what}: {payload}")
    check(headers.get("retry-after", "").isdigit(), f"{what}: no Retry-After header in {headers}")
    check_no_internals(payload, redis, what)


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
def duplicated_turns_get_one_reply(binary):
    """Every turn is sent 3 times at once to random workers (a client retrying, a double submit, a
    load balancer's retry): each copy gets the same reply, the model runs once per turn (one copy
    is not `replayed`), and the history holds each turn and its reply once."""
    with Cluster(binary, 3) as cluster:
        session, contents = f"dup-{uuid.uuid4().hex[:8]}", []
        chooser = random.Random(7)
        for turn in range(10):
            content, message_id = f"turn {turn}", f"d{turn}"
            workers = [chooser.choice(cluster.workers) for _ in range(3)]
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                results = list(pool.map(lambda worker: post_turn(worker.port, session, content, message_id, timeout=60), workers))
            check(all(status == 200 for status, _, _ in results), f"turn {turn}: {[status for status, _, _ in results]}")
            replies = {json.dumps(payload["assistant"], sort_keys=True) for _, _, payload in results}
            check(len(replies) == 1, f"turn {turn}: the copies got {len(replies)} different replies")
            generated = sum(not payload["replayed"] for _, _, payload in results)
            check(generated == 1, f"turn {turn}: the model ran {generated} times")
            contents.append(content)
            check(QUOTED.findall(results[0][2]["assistant"]["content"]) == contents, f"turn {turn}: the reply missed history")
        check_history(history(cluster.workers[0].port, session), contents, session)


@case
def an_owners_conversations_are_listed_by_any_worker(binary):
    """Three sessions of one owner, written through different workers: any worker lists them,
    most recently active first, with their message counts, page by page; another owner's and an
    unowned session are not listed; a bad limit or cursor is a 400."""
    with Cluster(binary, 3) as cluster:
        run = uuid.uuid4().hex[:8]
        owner, other = f"ada-{run}", f"bob-{run}"
        w1, w2, w3 = cluster.workers
        def turn(worker, session, content, who=owner):
            status, _, payload = request(worker.port, "POST", f"/sessions/{session_path(session)}/messages",
                                         {"content": content, "owner": who})
            check(status == 200, f"turn on {session}: {status} {payload}")
        turn(w1, f"trip-{run}", "Plan a weekend in Lisbon")
        time.sleep(0.01)
        turn(w2, f"cake-{run}", "A cake without eggs?")
        time.sleep(0.01)
        turn(w3, f"tax-{run}", "How do I file my taxes?")
        time.sleep(0.01)
        turn(w2, f"trip-{run}", "And in Porto?")
        turn(w1, f"bobs-{run}", "Hello", who=other)
        post_turn(w1.port, f"nobodys-{run}", "Hello")
        path = f"/owners/{session_path(owner)}/conversations"
        status, _, payload = request(w3.port, "GET", path)
        check(status == 200, f"GET {path}: {status} {payload}")
        listed = [(item["session"], item["messages"]) for item in payload["conversations"]]
        check(listed == [(f"trip-{run}", 4), (f"tax-{run}", 2), (f"cake-{run}", 2)], f"conversations: {listed}")
        check(payload.get("next") is None, f"one page only: {payload}")
        status, _, first = request(w1.port, "GET", path + "?limit=2")
        check(status == 200 and len(first["conversations"]) == 2 and first.get("next"), f"first page: {status} {first}")
        status, _, second = request(w2.port, "GET", path + f"?limit=2&after={first['next']}")
        check(status == 200 and [item["session"] for item in second["conversations"]] == [f"cake-{run}"], f"second page: {second}")
        for query in ("?limit=0", "?limit=1001", "?limit=x", "?after=garbage"):
            status, _, payload = request(w1.port, "GET", path + query)
            check(status == 400 and payload["error"]["code"] == "bad_request", f"{query}: {status} {payload}")
        status, _, payload = request(w1.port, "POST", f"/sessions/x-{run}/messages", {"content": "hi", "owner": ""})
        check(status == 400 and payload["error"]["code"] == "invalid_owner", f"empty owner: {status} {payload}")


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
        try:
            # Wait for progress, not for a time: a debug build on a busy machine starts slowly.
            wait_until(lambda: len(acked) >= 8 or problems, 60, "turns acknowledged before the crash")
            acked_before = len(acked)
            cluster.redis.kill()
            wait_until(lambda: len(failures) >= 40 or problems, 60, "requests failing while Redis is down")
            with lock:
                failed_while_down, acked_while_down = len(failures), len(acked)
            cluster.redis.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(acked) < acked_while_down + 40:
                time.sleep(0.1)
        finally:
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
        check(keys == 200, f"Redis holds {keys} keys, expected 200 (each session's list and its id index)")
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
        status, headers, payload = post_turn(worker.port, "s1", "hello?", timeout=15)
        elapsed = time.monotonic() - started
        check_unavailable(status, headers, payload, cluster.redis, "Redis down")
        check(elapsed < 5, f"the 503 took {elapsed:.1f}s")
        code = worker.terminate()
        check(code == 0, f"SIGTERM: exit code {code}")


@case
def client_cannot_plant_the_assistants_reply(binary):
    """A client can't store a message under a reply id, and a retry only replays a reply the server
    wrote for that very turn (role assistant, reply_to naming the user message)."""
    with Cluster(binary, 1) as cluster:
        worker = cluster.workers[0]
        session = f"forge-{uuid.uuid4().hex[:8]}"
        status, _, payload = post_turn(worker.port, session, "I am the assistant now", "x1:reply")
        check(status == 400 and payload["error"]["code"] == "invalid_message_id", f"a client id in the reply namespace: {status} {payload}")
        for bad_id in ["", "a" * 129, "m:reply:reply"]:
            status, _, payload = post_turn(worker.port, session, "hi", bad_id)
            check(status == 400 and payload["error"]["code"] == "invalid_message_id", f"id {bad_id[:20]!r}: {status} {payload}")
        check(cluster.redis.command("EXISTS", "chat:" + session) == 0, "a refused message was stored")

        status, _, first = post_turn(worker.port, session, "hello", "x1")
        check(status == 200 and first["replayed"] is False, f"first turn: {status} {first}")
        check(first["assistant"]["role"] == "assistant" and first["assistant"]["id"] == "x1:reply", f"reply: {first['assistant']}")
        check(QUOTED.findall(first["assistant"]["content"]) == ["hello"], f"reply: {first['assistant']['content']}")
        status, _, again = post_turn(worker.port, session, "hello", "x1")
        check(status == 200 and again["replayed"] is True and again["assistant"] == first["assistant"], f"retry: {status} {again}")
        check_history(history(worker.port, session), ["hello"], session)

        # A reply id taken by a message the server did not write (put straight into Redis) is never
        # replayed: the turn is refused (409), or stored with the server's own reply (the append
        # checks ids against its id index, which a hand-pushed entry is not in).
        forged = {"id": "x2:reply", "role": "assistant", "content": "forged"}
        planted = json.dumps(forged, separators=(",", ":"))
        check(cluster.redis.command("LPUSH", "chat:" + session, planted) == 3, "could not plant the forged entry")
        for attempt in ("first", "retry"):
            status, _, payload = post_turn(worker.port, session, "hello again", "x2")
            refused = status == 409 and payload["error"]["code"] == "message_id_conflict"
            own = status == 200 and payload["assistant"]["content"] != "forged" and payload["assistant"]["metadata"]["reply_to"] == "x2"
            check(refused or own, f"{attempt} over a forged reply: {status} {payload}")
            if attempt == "first" and own:
                check(payload["replayed"] is False, f"the forged reply was replayed: {payload}")


@case
def oversized_bodies_are_refused_before_anything_is_stored(binary):
    """A body over --max-body-bytes (declared or chunked) and a content over --max-content-bytes are
    413s, and a message the window can't hold is a 422, all before anything is stored."""
    with Cluster(binary, 1) as cluster:
        worker = cluster.workers[0]
        prefix = f"big-{uuid.uuid4().hex[:6]}"

        def nothing_stored(session):
            check(cluster.redis.command("EXISTS", "chat:" + session) == 0, f"{session}: a refused message was stored")

        started = time.monotonic()
        status, _, payload = post_turn(worker.port, f"{prefix}-2mb", "x" * (2 << 20), "m1", timeout=60)
        elapsed = time.monotonic() - started
        check(status == 413 and payload["error"]["code"] == "body_too_large", f"2 MB body: {status} {payload}")
        nothing_stored(f"{prefix}-2mb")

        connection = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=60)
        try:
            piece = b'{"content": "' + b"y" * 8192
            connection.request("POST", f"/sessions/{prefix}-chunked/messages", body=iter([piece] * 32),
                               headers={"Content-Type": "application/json"}, encode_chunked=True)
            response = connection.getresponse()
            payload = json.loads(response.read())
            check(response.status == 413 and payload["error"]["code"] == "body_too_large", f"chunked body: {response.status} {payload}")
        finally:
            connection.close()
        nothing_stored(f"{prefix}-chunked")

        status, _, payload = post_turn(worker.port, f"{prefix}-content", "z" * (16 * 1024 + 1), "m1")
        check(status == 413 and payload["error"]["code"] == "content_too_large", f"content of 16 KiB + 1: {status} {payload}")
        nothing_stored(f"{prefix}-content")
        at_limit = "word " * 3276 + "word"
        check(len(at_limit) == 16 * 1024, "the content at the limit is 16 KiB")
        status, _, payload = post_turn(worker.port, f"{prefix}-at-limit", at_limit, "m1")
        check(status == 200, f"content of exactly 16 KiB: {status} {payload}")
        print(f"    the 2 MB body was refused in {elapsed * 1000:.0f} ms", flush=True)

    with Cluster(binary, 1, worker_args=["--tokens", "64"]) as cluster:
        worker = cluster.workers[0]
        session = f"window-{uuid.uuid4().hex[:6]}"
        status, _, payload = post_turn(worker.port, session, "word " * 200, "m1")
        check(status == 422 and payload["error"]["code"] == "message_exceeds_budget", f"over the window: {status} {payload}")
        check(cluster.redis.command("EXISTS", "chat:" + session) == 0, "a message over the window was stored")
        check(post_turn(worker.port, session, "short", "m2")[0] == 200, "a message that fits was refused")


@case
def long_conversation_stays_within_budget_through_a_summary(binary):
    """A 500-turn conversation, round robin over three workers, compacted in the background: every
    window fits the budget, the summary leads it and still holds the first turn, and every turn is
    either in the session or covered by the summary, exactly once."""
    budget, turns = 4000, 500
    with Cluster(binary, 3, worker_args=["--tokens", str(budget)]) as cluster:
        session = f"long-{uuid.uuid4().hex[:8]}"
        for turn in range(turns):
            worker = cluster.workers[turn % 3]
            status, _, payload = post_turn(worker.port, session, f"turn {turn} via {worker.name}", f"m{turn}")
            check(status == 200, f"turn {turn}: HTTP {status} {payload}")
            check(payload["window_tokens"] <= budget, f"turn {turn}: a window of {payload['window_tokens']} tokens")
        last = payload["assistant"]["content"]
        check('my summary starts: "user: turn 0 via w1"' in last, f"the last reply forgot the first turn: {last}")

        found = {}
        def settled():
            found["window"] = request(cluster.workers[0].port, "GET", f"/sessions/{session}/messages?tokens={budget}")[2]
            return found["window"]["whole_history"]
        # A hang guard only: the background compaction after the last turn has to finish.
        wait_until(settled, 60, "the whole session to fit the budget")
        window = found["window"]
        summary = window["messages"][0]
        check(summary["role"] == "system" and summary["id"].startswith("summary:"), f"no summary first: {summary}")
        check(summary["content"].startswith("user: turn 0 via w1\nuser: turn 1 via w2"), f"summary: {summary['content'][:80]!r}")

        entries = [json.loads(raw) for raw in cluster.redis.command("LRANGE", "chat:" + session, 0, -1)]
        # Messages are stored as compact arrays (the id first), a summary as an object.
        stored, present = entries[-1], [entry[0] for entry in reversed(entries[:-1])]
        check(stored["kind"] == "summary", f"the oldest entry is no summary: {stored['id']}")
        expected = [f"m{turn}{suffix}" for turn in range(turns) for suffix in ("", ":reply")]
        covered = stored["summary"]["covered"]
        check(present == expected[covered:], f"{covered} covered, then {present[:4]}..., expected {expected[covered:covered + 4]}...")
        print(f"    {covered} of {len(expected)} messages folded into the summary; "
              f"the last window held {len(window['messages'])} messages, {window['token_count']} tokens", flush=True)


@case
def configuration_is_checked_at_startup(binary):
    """Every bad setting stops the worker before it listens: exit code 64 and a message naming the
    setting on stderr; a password in a malformed REDIS_URL never shows."""
    secret = "S3cr/et-Pw9"
    cases = [
        (["--tokens", "0"], {}, "--tokens"),
        (["--tokens=-1"], {}, "--tokens"),
        (["--tokens", "99999999999999999999"], {}, "--tokens"),
        (["--port", "0"], {}, "--port"),
        ([], {"PORT": "abc"}, "PORT"),
        ([], {"PORT": ""}, "PORT"),
        ([], {"PORT": "70000"}, "PORT"),
        ([], {"WORKER_NAME": "two words"}, "WORKER_NAME"),
        ([], {"WORKER_NAME": ""}, "WORKER_NAME"),
        (["--worker", "w\r\nX-Injected: 1"], {}, "--worker"),
        ([], {"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ([], {"CHAT_REPLICAS": "0"}, "CHAT_REPLICAS"),
        ([], {"CHAT_REPLICAS": "101"}, "CHAT_REPLICAS"),
        ([], {"CHAT_REPLICAS": "one"}, "CHAT_REPLICAS"),
        ([], {"CHAT_REPLICAS": ""}, "CHAT_REPLICAS"),
        (["--max-body-bytes", "0"], {}, "--max-body-bytes"),
        (["--max-content-bytes", "0"], {}, "--max-content-bytes"),
        (["--max-content-bytes", str(64 * 1024 + 1)], {}, "--max-content-bytes"),
        (["--read-timeout", "0"], {}, "--read-timeout"),
        (["--host", ""], {}, "--host"),
        (["--compact-at", "10"], {}, "--compact-at"),
        (["--compact-at", "1000", "--compact-to", "1000"], {}, "--compact-to"),
        (["--compact-to=-1"], {}, "--compact-to"),
        (["--compact-at", "0", "--compact-to", "5"], {}, "--compact-to"),
        ([], {"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ([], {"REDIS_URL": ""}, "REDIS_URL"),
        # Malformed URLs holding a password ("/" in a password is fine: it is not malformed).
        ([], {"REDIS_URL": f"redis://chat:{secret}"}, "REDIS_URL"),
        ([], {"REDIS_URL": f"redis://:{secret}@"}, "REDIS_URL"),
        ([], {"REDIS_URL": f"redis://chat:{secret}@127.0.0.1:port/0"}, "REDIS_URL"),
    ]
    problems = []
    for args, env, setting in cases:
        # A worker that starts anyway listens on a free port and is stopped after the timeout.
        environment = {"PORT": str(free_port()), "WORKER_NAME": "cfg", "LOG_LEVEL": "info", "REDIS_URL": "redis://127.0.0.1:1", **env}
        code, output = run_to_exit(binary, ["--store", "redis", *args], environment, timeout=10)
        label = f"{args} {env}"
        if code != 64:
            problems.append(f"{label}: exit code {code} (expected 64): {output[-300:]!r}")
        elif setting not in output:
            problems.append(f"{label}: the message does not name {setting}: {output[-300:]!r}")
        for piece in ("S3cr", "et-Pw9"):
            if piece in output:
                problems.append(f"{label}: the output shows a piece of the password: {output[-300:]!r}")
    check(not problems, f"{len(problems)} of {len(cases)} bad settings: " + "; ".join(problems))


@case
def redis_errors_are_stable_codes_without_internals(binary):
    """OOM, READONLY, MASTERDOWN and an unreachable Redis are retryable 503s with Retry-After whose
    body shows nothing of Redis; the cause is in the worker's log."""
    with Cluster(binary, 1) as cluster:
        worker, redis = cluster.workers[0], cluster.redis
        session = f"states-{uuid.uuid4().hex[:6]}"
        check(post_turn(worker.port, session, "before")[0] == 200, "a turn failed")
        check(redis.command("CONFIG", "SET", "maxmemory", "1") == "OK", "CONFIG SET maxmemory failed")
        check_unavailable(*post_turn(worker.port, session, "out of memory"), redis, "OOM")
        redis.command("CONFIG", "SET", "maxmemory", "0")
        check(redis.command("REPLICAOF", "127.0.0.1", str(free_port())) == "OK", "REPLICAOF failed")
        check_unavailable(*post_turn(worker.port, session, "read only"), redis, "READONLY")
        redis.command("CONFIG", "SET", "replica-serve-stale-data", "no")
        check_unavailable(*request(worker.port, "GET", f"/sessions/{session_path(session)}/messages"), redis, "MASTERDOWN")
        redis.command("CONFIG", "SET", "replica-serve-stale-data", "yes")
        redis.command("REPLICAOF", "NO", "ONE")
        check(post_turn(worker.port, session, "after")[0] == 200, "no recovery after REPLICAOF NO ONE")
        log = worker.log()
        for cause in ("OOM", "READONLY", "MASTERDOWN"):
            check(cause in log, f"the worker's log does not show the cause {cause}")
        redis.kill()
        check_unavailable(*post_turn(worker.port, session, "nobody home", timeout=15), redis, "Redis down")


@case
def replicas_are_waited_for(binary):
    """With CHAT_REPLICAS=1 a turn is answered only once a replica holds it: without a replica it
    is a retryable 503 `replicas_unavailable` (the message is stored once, on the primary only);
    the same message id sent again once a replica is attached is answered, nothing stored twice,
    and the replica holds the turn."""
    logs = tempfile.mkdtemp(prefix="chatserver-logs.")
    primary, replica = RedisServer(), None
    worker = Worker(binary, "r1", primary.url, log_dir=logs, env={"CHAT_REPLICAS": "1"})
    try:
        primary.start()
        worker.start()
        session = f"replicas-{uuid.uuid4().hex[:6]}"
        key = f"chat:{session}"
        status, headers, payload = post_turn(worker.port, session, "kept twice", "m1")
        check(status == 503, f"no replica: HTTP {status} {payload}")
        error = payload["error"]
        check(error["code"] == "replicas_unavailable" and error["retryable"] is True, f"no replica: {payload}")
        check(headers.get("retry-after", "").isdigit(), f"no Retry-After header in {headers}")
        check_no_internals(payload, primary, "no replica")
        check(primary.command("LLEN", key) == 1, f"the primary holds {primary.command('LLEN', key)} messages, expected the user's 1")

        replica = RedisServer("--replicaof", "127.0.0.1", str(primary.port)).start()
        wait_until(lambda: "master_link_status:up" in (replica.command("INFO", "replication") or ""), 15, "the replica's link")
        wait_until(lambda: "state=online" in (primary.command("INFO", "replication") or ""), 15, "the primary seeing its replica online")
        # The turn is retried with its id on a 503, as the error says: on a busy machine the first
        # acknowledgement of a new replica may come after the 500 ms wait.
        for _ in range(10):
            status, headers, payload = post_turn(worker.port, session, "kept twice", "m1")
            if status != 503:
                break
            time.sleep(0.2)
        check(status == 200, f"with a replica: HTTP {status} {payload}")
        check(payload["remembered"] == 0, f"the retried first turn remembers {payload['remembered']} messages")
        check(primary.command("LLEN", key) == 2, f"the primary holds {primary.command('LLEN', key)} messages, expected 2")
        check(replica.command("LLEN", key) == 2, f"the replica holds {replica.command('LLEN', key)} messages when the turn is answered")
    finally:
        worker.kill()
        if replica:
            replica.remove()
        primary.remove()
        shutil.rmtree(logs, ignore_errors=True)


@case
def redis_password_never_leaves_the_server(binary):
    """A REDIS_URL password shows in no response and no log line (trace level, startup included);
    a wrong password is a non-retryable 502 with a stable code; SIGTERM closes the store cleanly."""
    right, wrong = "Corr3ct-H0rse-pw", "Wr0ng-Batt3ry-pw"
    logs = tempfile.mkdtemp(prefix="chatserver-logs.")
    redis = RedisServer(password=right)
    good = Worker(binary, "good", f"redis://:{right}@127.0.0.1:{redis.port}", log_dir=logs, log_level="trace")
    bad = Worker(binary, "bad", f"redis://default:{wrong}@127.0.0.1:{redis.port}", log_dir=logs, log_level="trace")
    try:
        redis.start()
        good.start()
        bad.start()
        session = f"auth-{uuid.uuid4().hex[:6]}"
        status, _, payload = post_turn(good.port, session, "hello")
        check(status == 200, f"the right password: {status} {payload}")
        status, headers, payload = post_turn(bad.port, session, "hello")
        check(status == 502 and payload["error"]["code"] == "redis_error" and payload["error"]["retryable"] is False,
              f"a wrong password: {status} {payload}")
        check("retry-after" not in headers, "a 502 with Retry-After")
        check_no_internals(payload, redis, "wrong password", wrong, right)
        check(good.terminate() == 0, "SIGTERM did not stop the worker cleanly")
        bad.terminate()
        for worker in (good, bad):
            log = worker.log()
            check("chat memory in Redis" in log, f"{worker.name}: the startup log line is missing")
            check(right not in log and wrong not in log, f"{worker.name}: a password is in the log")
        check("redis client shut down" in good.log(), "the Redis client was not closed at shutdown")
    finally:
        good.kill()
        bad.kill()
        redis.remove()
        shutil.rmtree(logs, ignore_errors=True)


@case
def slow_clients_are_disconnected(binary):
    """50 slowloris connections (a header line every 0.5 s, never a complete head), 10 that trickle
    their body and 10 silent ones are all closed by the worker (--read-timeout 2) while a normal
    request still succeeds."""
    with Cluster(binary, 1, worker_args=["--read-timeout", "2"]) as cluster:
        worker = cluster.workers[0]
        selector = selectors.DefaultSelector()
        trickling = {}   # socket -> the next bytes it sends, a piece every 0.5 s
        socks = []
        for index in range(70):
            sock = socket.create_connection(("127.0.0.1", worker.port), timeout=5)
            sock.setblocking(False)
            if index < 50:
                sock.send(b"POST /sessions/slow/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                trickling[sock] = b"X-Slow: 1\r\n"
            elif index < 60:
                sock.send(b"POST /sessions/slow/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"content\": \"")
                trickling[sock] = b"a"
            socks.append(sock)
            selector.register(sock, selectors.EVENT_READ)
        opened = time.monotonic()
        open_socks, closed_after, answered = set(socks), [], False
        deadline = opened + 60
        next_piece = opened + 0.5
        try:
            while open_socks and time.monotonic() < deadline:
                if not answered and time.monotonic() > opened + 0.5:
                    check(post_turn(worker.port, f"busy-{uuid.uuid4().hex[:6]}", "still there?")[0] == 200,
                          "a normal request failed while slow clients were connected")
                    answered = True
                for key, _ in selector.select(timeout=0.1):
                    try:
                        data = key.fileobj.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(key.fileobj)
                        open_socks.discard(key.fileobj)
                        closed_after.append(time.monotonic() - opened)
                if time.monotonic() >= next_piece:
                    next_piece += 0.5
                    for sock, piece in trickling.items():
                        if sock in open_socks:
                            try:
                                sock.send(piece)
                            except OSError:
                                pass
        finally:
            for sock in socks:
                sock.close()
            selector.close()
        check(answered, "the normal request was never sent")
        check(not open_socks, f"{len(open_socks)} of 70 slow or silent connections still open after {deadline - opened:.0f}s")
        print(f"    70 slow or silent connections closed by the worker, the last after {max(closed_after):.1f}s", flush=True)

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
