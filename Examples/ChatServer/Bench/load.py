#!/usr/bin/env python3
"""A bounded load figure for Examples/ChatServer: N concurrent conversations of sequential turns
(POST /sessions/{id}/messages) over keep-alive HTTP/1.1 on loopback, for a fixed time, against

  1. three workers sharing a Redis store (each conversation's turns go round robin across them),
  2. one worker with the Redis store,
  3. one worker with the embedded in-process store (nothing shared),

then a table of turns/s and p50/p99 turn latency, and the ratios that are the cost of sharing.

    python3 load.py --bin path/to/chat-server [--conversations 50] [--seconds 10] [--turns 20] [--fresh-sessions]

It starts its own redis-server and workers and stops them. Standard library only (asyncio).
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests"))
from harness import RedisServer, Worker  # noqa: E402


class Connection:
    """One keep-alive HTTP/1.1 connection: a request at a time, Content-Length bodies only."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def send(self, method, path, body=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = json.dumps(body).encode() if body is not None else b""
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self):
        if self.writer:
            self.writer.close()


async def conversation(index, ports, turns, deadline, latencies, errors, run, fresh_sessions):
    connections = [Connection(port) for port in ports]
    session, turn = 0, 0
    try:
        while time.monotonic() < deadline:
            if turn == turns:
                # A finished conversation starts over: by default it deletes its session (unmeasured),
                # so both stores hold the same ~N sessions; --fresh-sessions keeps them all.
                if fresh_sessions:
                    session += 1
                else:
                    await connections[0].send("DELETE", f"/sessions/{run}-c{index}-s{session}")
                turn = 0
            path = f"/sessions/{run}-c{index}-s{session}/messages"
            started = time.perf_counter()
            status = await connections[turn % len(connections)].send("POST", path, {"content": f"turn {turn} of conversation {index}"})
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors.append(status)
            turn += 1
    finally:
        for connection in connections:
            connection.close()


async def drive(ports, args, run):
    latencies, errors, n = [], [], args.conversations
    warmup_end = time.monotonic() + 1.0      # one second of warm-up, not measured
    await asyncio.gather(*(conversation(i, ports, args.turns, warmup_end, [], [], f"{run}w", False) for i in range(n)))
    started, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(conversation(i, ports, args.turns, started + args.seconds, latencies, errors, run, args.fresh_sessions)
                           for i in range(n)))
    elapsed = time.monotonic() - started
    driver_cpu = (time.process_time() - cpu) / elapsed
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return {"turns": len(latencies), "rate": len(latencies) / elapsed, "p50": pick(0.50), "p99": pick(0.99), "errors": len(errors), "driver": driver_cpu}


def measure(label, binary, store, workers, redis, args):
    procs = []
    try:
        for i in range(workers):
            procs.append(Worker(binary, f"bench-{store}-{i + 1}", redis.url if store == "redis" else None, store=store, log_dir=redis.dir).start())
        result = asyncio.run(drive([w.port for w in procs], args, f"{store}{workers}-{os.getpid()}"))
    finally:
        for worker in procs:
            worker.terminate()
    result["label"] = label
    print(f"  {label}: {result['turns']} turns, {result['rate']:.0f} turns/s", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--turns", type=int, default=20, help="turns per session before a conversation starts over")
    parser.add_argument("--fresh-sessions", action="store_true", help="start over in a new session instead of deleting the old one")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # unwind: stop the workers and redis-server

    redis = RedisServer().start()   # no persistence: the library's default deployment
    try:
        results = [
            measure("3 workers, Redis store (shared)", args.bin, "redis", 3, redis, args),
            measure("1 worker,  Redis store", args.bin, "redis", 1, redis, args),
            measure("1 worker,  embedded store (not shared)", args.bin, "embedded", 1, redis, args),
        ]
    finally:
        redis.remove()

    sessions = "a new session each time" if args.fresh_sessions else "then deleted and started over"
    print(f"\n{args.conversations} concurrent conversations, {args.seconds:g} s each, sessions of {args.turns} turns ({sessions}), "
          f"loopback, {os.cpu_count()} cores shared by the driver, the workers and redis-server\n")
    print(f"| {'setup':<40} | {'turns/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'errors':>6} | {'driver CPU':>10} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 12}|")
    for r in results:
        print(f"| {r['label']:<40} | {r['rate']:>8.0f} | {r['p50']:>7.2f} | {r['p99']:>7.2f} | {r['errors']:>6} | {r['driver'] * 100:>9.0f}% |")
    shared, single, embedded = results
    print(f"\nsharing through Redis, 1 worker each: {single['rate'] / embedded['rate']:.2f}x the turns/s and "
          f"{single['p50'] / embedded['p50']:.2f}x the p50 latency of the embedded store")
    print(f"3 Redis workers vs 1 embedded worker: {shared['rate'] / embedded['rate']:.2f}x the turns/s, "
          f"{shared['p50'] / embedded['p50']:.2f}x the p50 latency")
    return 1 if any(r["errors"] or not r["turns"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
