#!/usr/bin/env python3
"""LlamaIndex's side of Scripts/bench-llamaindex.sh: `ChatMemoryBuffer` over `RedisChatStore`.

    llamaindex-bench.py versions
    llamaindex-bench.py append -c C -n N -w W
    llamaindex-bench.py window -n SIZE -r READS -w WARMUP [-s REPEATS] [--limit S] [--budget S]

The server is REDIS_URL. Like Scripts/llamaindex-fixtures.py, the script creates (or reuses) the
virtualenv .build-llamaindex-venv/ (git-ignored), installs the pinned packages there from PyPI
and re-runs itself with that interpreter.

- `append`: N `put()`s of one ~300-byte user message (the text of ChatMemoryBenchmark's appends)
  after W unmeasured ones, into one session (chat_store_key). With C = 1 the synchronous
  `put()` in a loop (redis-py's synchronous client, one connection); with C > 1, C asyncio tasks
  on one event loop awaiting `aput()` (redis-py's asyncio client, which opens a connection per
  concurrent command). Creating the message is timed, as on the Swift side.
  Prints `append,C,N,W,mean_ms,p50_ms,p99_ms,ops_per_s,how`.
- `window`: writes SIZE messages with `put()` (message i is "i: " and REPEATS copies of the
  text, roles alternating user, assistant), then times `get()` with token_limit 3000: W
  unmeasured reads, then up to READS measured ones, stopping early once the measured ones took
  BUDGET seconds (default 10). A read that takes over LIMIT seconds (default 60) is stopped and
  the size is skipped. Prints `window,llamaindex,SIZE,messages_in_window,R,W,mean_ms,p50_ms,
  p99_ms,ops_per_s,note` (R = 0 and a note when skipped).

Latency percentiles are nearest-rank, as in ChatMemoryBenchmark.
"""

import json
import os
import pathlib
import subprocess
import sys
import time

# Pinned versions: llama-index-core and tiktoken as Scripts/llamaindex-fixtures.py pins them.
PACKAGES = {
    "llama-index-core": "0.14.25",
    "tiktoken": "0.14.0",
    "llama-index-storage-chat-store-redis": "0.8.0",
    "redis": "8.1.0",
}

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".build-llamaindex-venv"
VENV_PYTHON = VENV / "bin" / "python"

# ChatMemoryBenchmark's `turnText`: about 300 bytes, like a short chat turn.
TURN_TEXT = "The quick brown fox jumps over the lazy dog. " * 7


# --- Bootstrap: run inside the pinned virtualenv --------------------------------------------

def installed_versions():
    script = ("import importlib.metadata as m, json, sys; "
              f"print(json.dumps([m.version(name) for name in {list(PACKAGES)!r}]))")
    result = subprocess.run([str(VENV_PYTHON), "-c", script], capture_output=True, text=True)
    return json.loads(result.stdout) if result.returncode == 0 else None


def ensure_venv():
    if not VENV_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if installed_versions() != list(PACKAGES.values()):
        subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet"]
                       + [f"{name}=={version}" for name, version in PACKAGES.items()], check=True)
        if installed_versions() != list(PACKAGES.values()):
            sys.exit(f"could not install {PACKAGES}")


def in_venv():
    return pathlib.Path(sys.prefix).resolve() == VENV.resolve()


# --- Measuring ------------------------------------------------------------------------------

def summary(latencies_ns, wall_ns):
    """mean_ms,p50_ms,p99_ms,ops_per_s"""
    ordered = sorted(latencies_ns)
    if not ordered:
        return "0,0,0,0"

    def percentile(share):
        return ordered[max(0, (len(ordered) * share + 99) // 100 - 1)] / 1e6

    mean = sum(ordered) / len(ordered) / 1e6
    rate = len(ordered) / (wall_ns / 1e9)
    return f"{mean:.4f},{percentile(50):.4f},{percentile(99):.4f},{rate:.0f}" if rate >= 100 else \
        f"{mean:.4f},{percentile(50):.4f},{percentile(99):.4f},{rate:.4f}"


def option(arguments, name, fallback):
    if name in arguments and arguments.index(name) + 1 < len(arguments):
        return type(fallback)(arguments[arguments.index(name) + 1])
    return fallback


def make_memory(key):
    from llama_index.core.memory import ChatMemoryBuffer
    from llama_index.storage.chat_store.redis import RedisChatStore
    store = RedisChatStore(redis_url=os.environ["REDIS_URL"])
    return ChatMemoryBuffer.from_defaults(token_limit=3000, chat_store=store, chat_store_key=key), store


def append_sequential(requests, warmup):
    from llama_index.core.llms import ChatMessage, MessageRole
    memory, _ = make_memory(f"bench:llama:append:1:{os.getpid()}")
    memory.reset()

    def phase(count):
        latencies = []
        started = time.perf_counter_ns()
        for _ in range(count):
            sent = time.perf_counter_ns()
            memory.put(ChatMessage(role=MessageRole.USER, content=TURN_TEXT))
            latencies.append(time.perf_counter_ns() - sent)
        return latencies, time.perf_counter_ns() - started

    phase(warmup)
    latencies, wall = phase(requests)
    memory.reset()
    return latencies, wall, "sync put() in a loop, one connection"


def append_concurrent(concurrency, requests, warmup):
    import asyncio
    from llama_index.core.llms import ChatMessage, MessageRole

    async def run():
        memory, store = make_memory(f"bench:llama:append:{concurrency}:{os.getpid()}")
        await memory.areset()

        async def worker(share, latencies):
            for _ in range(share):
                sent = time.perf_counter_ns()
                await memory.aput(ChatMessage(role=MessageRole.USER, content=TURN_TEXT))
                latencies.append(time.perf_counter_ns() - sent)

        async def phase(count):
            latencies = []
            shares = [count // concurrency + (1 if index < count % concurrency else 0) for index in range(concurrency)]
            started = time.perf_counter_ns()
            await asyncio.gather(*(worker(share, latencies) for share in shares))
            return latencies, time.perf_counter_ns() - started

        await phase(warmup)
        latencies, wall = await phase(requests)
        await memory.areset()
        await store._aredis_client.aclose()
        return latencies, wall

    latencies, wall = asyncio.run(run())
    return latencies, wall, f"{concurrency} asyncio tasks awaiting aput() on one event loop (redis.asyncio)"


class TooSlow(Exception):
    pass


def window(size, reads, warmup, repeats, limit, budget):
    import signal
    from llama_index.core.llms import ChatMessage, MessageRole
    memory, _ = make_memory(f"bench:llama:window:{size}:{os.getpid()}")
    memory.reset()
    content = TURN_TEXT * repeats
    for index in range(size):
        role = MessageRole.USER if index % 2 == 0 else MessageRole.ASSISTANT
        memory.put(ChatMessage(role=role, content=f"{index}: {content}"))

    def on_alarm(signum, frame):
        raise TooSlow()

    signal.signal(signal.SIGALRM, on_alarm)

    def timed_get():
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            sent = time.perf_counter_ns()
            messages = memory.get()
            return len(messages), time.perf_counter_ns() - sent
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    latencies, in_window = [], 0
    try:
        for _ in range(warmup):
            in_window, _ = timed_get()
        started = time.perf_counter_ns()
        while len(latencies) < reads and (not latencies or sum(latencies) < budget * 1e9):
            in_window, took = timed_get()
            latencies.append(took)
        wall = time.perf_counter_ns() - started
    except TooSlow:
        memory.reset()
        return f"window,llamaindex,{size},,0,{warmup},,,,,skipped: a get() took over {limit:g} s"
    memory.reset()
    note = f"stopped after {budget:g} s of reads" if len(latencies) < reads else ""
    return f"window,llamaindex,{size},{in_window},{len(latencies)},{warmup},{summary(latencies, wall)},{note}"


def versions():
    import importlib.metadata as metadata
    import platform
    import redis.utils
    names = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    parser = "hiredis" if redis.utils.HIREDIS_AVAILABLE else "pure Python"
    return f"Python {platform.python_version()}; {names}; redis-py reply parser: {parser}"


def main(arguments):
    command = arguments[0] if arguments else ""
    if command == "versions":
        print(versions())
    elif command == "append":
        concurrency = max(1, option(arguments, "-c", 1))
        requests = max(1, option(arguments, "-n", 20000))
        warmup = max(0, option(arguments, "-w", 1000))
        if concurrency == 1:
            latencies, wall, how = append_sequential(requests, warmup)
        else:
            latencies, wall, how = append_concurrent(concurrency, requests, warmup)
        print(f"append,{concurrency},{len(latencies)},{warmup},{summary(latencies, wall)},{how}")
    elif command == "window":
        print(window(size=max(0, option(arguments, "-n", 10)), reads=max(1, option(arguments, "-r", 200)),
                     warmup=max(0, option(arguments, "-w", 5)), repeats=max(1, option(arguments, "-s", 1)),
                     limit=option(arguments, "--limit", 60.0), budget=option(arguments, "--budget", 10.0)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if not in_venv():
        ensure_venv()
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__] + sys.argv[1:])
    main(sys.argv[1:])
