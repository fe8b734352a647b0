#!/usr/bin/env bash
# Benchmarks ChatTokenizer (release build) against Python tiktoken on the same rank files and text:
# encoding throughput on 1 MiB of mixed text, microseconds per `count` of a ~300-byte message,
# and the resident memory that loading each encoder adds. Installs Python's tiktoken if missing.
#
#   Scripts/bench-tokenizer.sh            (run from anywhere; builds into .build-tok)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -c 'import tiktoken' 2>/dev/null || python3 -m pip install --quiet tiktoken
python3 Scripts/tokenizer-fixtures.py --bench-text "$work/text.txt"
swift build -c release --scratch-path .build-tok --product TokenizerBenchmark >&2

python3 - "$work" > "$work/results.jsonl" <<'PY'
import importlib.util, json, pathlib, sys, time

work = pathlib.Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("fixtures", "Scripts/tokenizer-fixtures.py")
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)

text = (work / "text.txt").read_bytes().decode()  # no newline translation
data = text.encode()
# ~300-byte messages cut at character boundaries, shared with the Swift side.
messages, start = [], 0
while start < len(data) and len(messages) < 2000:
    end = min(start + 300, len(data))
    while end < len(data) and (data[end] & 0xC0) == 0x80:
        end -= 1
    messages.append(data[start:end].decode())
    start = end
(work / "messages.bin").write_bytes(b"\0".join(m.encode() for m in messages))

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def fastest(rounds, body):
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter(); body(); best = min(best, time.perf_counter() - t)
    return best

for name in fixtures.ENCODINGS:
    before = rss(); t = time.perf_counter()
    encoding = fixtures.load_encoding(name)
    load_seconds = time.perf_counter() - t
    loaded = rss() - before
    tokens = len(encoding.encode_ordinary(text))
    encode_seconds = fastest(5, lambda: encoding.encode_ordinary(text))
    count_seconds = fastest(5, lambda: [len(encoding.encode(m, allowed_special="all")) for m in messages])
    print(json.dumps({"side": "tiktoken", "encoding": name, "tokens": tokens,
                      "tokens_per_second": tokens / encode_seconds,
                      "count_microseconds": count_seconds / len(messages) * 1e6,
                      "load_rss_bytes": loaded, "load_seconds": load_seconds}))
PY
.build-tok/release/TokenizerBenchmark "$work/text.txt" "$work/messages.bin" >> "$work/results.jsonl"

python3 - "$work/results.jsonl" <<'PY'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1])]
by = {(r["side"], r["encoding"]): r for r in rows}
encodings = sorted({r["encoding"] for r in rows})
metrics = [("encode 1 MiB, tokens/s", "tokens_per_second", "{:,.0f}", False),
           ("count ~300 B message, us", "count_microseconds", "{:.2f}", True),
           ("RSS added by loading, MB", "load_rss_bytes", "{:.1f}", True),
           ("load time, ms", "load_seconds", "{:.0f}", True)]
scale = {"load_rss_bytes": 1 / 1e6, "load_seconds": 1e3}
print(f"{'encoding':<12} {'metric':<27} {'tiktoken':>13} {'swift':>13} {'swift better by':>16}")
for name in encodings:
    py, sw = by[("tiktoken", name)], by[("swift", name)]
    if py["tokens"] != sw["tokens"]:
        print(f"WARNING: {name}: token counts differ (tiktoken {py['tokens']}, swift {sw['tokens']})")
    for label, key, fmt, lower_is_better in metrics:
        a, b = py[key] * scale.get(key, 1), sw[key] * scale.get(key, 1)
        ratio = (a / b if lower_is_better else b / a) if min(a, b) > 0 else float("nan")
        print(f"{name:<12} {label:<27} {fmt.format(a):>13} {fmt.format(b):>13} {ratio:>15.2f}x")
PY
