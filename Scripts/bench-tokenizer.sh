#!/usr/bin/env bash
# Benchmarks ChatTokenizer (release build) against Python tiktoken on the same rank files:
#   1. mixed text: encoding throughput on 1 MiB, microseconds per `count` of a ~300-byte message,
#      and the resident memory that loading each encoder adds;
#   2. long unbroken pieces (the worst case of byte-pair merging): 1 MiB and 16 MiB of one "word"
#      of random letters and of one repeated letter, and 1 MiB of punctuation and of CJK, each
#      encoded once in a process of its own: processor time, and the peak resident memory that
#      encoding adds per input byte;
#   3. the LlamaIndex window count: 288 messages (~69k tokens) joined by spaces, counted for every
#      window size with JoinedTextCounter, beside one count of the whole joined text.
# Installs Python's tiktoken if missing.
#
#   Scripts/bench-tokenizer.sh                        (run from anywhere; builds into .build-tok)
#   PIECE_SIZES_MIB="1 16 64" Scripts/bench-tokenizer.sh   other long-piece sizes
#   TIKTOKEN_TIMEOUT=1800 Scripts/bench-tokenizer.sh       seconds before a tiktoken run is given up
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PIECE_SIZES_MIB=${PIECE_SIZES_MIB:-"1 16"}
TIKTOKEN_TIMEOUT=${TIKTOKEN_TIMEOUT:-900}

python3 -c 'import tiktoken' 2>/dev/null || python3 -m pip install --quiet tiktoken
python3 Scripts/tokenizer-fixtures.py --bench-text "$work/text.txt"
swift build -c release --scratch-path .build-tok --product TokenizerBenchmark >&2
BIN=.build-tok/release/TokenizerBenchmark

# The inputs: ~300-byte messages and a 288-message window cut from the mixed text, and the long
# pieces. Everything is cut at character boundaries.
python3 - "$work" "$PIECE_SIZES_MIB" <<'PY'
import pathlib, random, sys

work = pathlib.Path(sys.argv[1])
data = (work / "text.txt").read_bytes()

def cut(lengths):
    pieces, start = [], 0
    for length in lengths:
        end = min(start + length, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(data[start:end])
        start = end
    return pieces

(work / "messages.bin").write_bytes(b"\0".join(cut([300] * 2000)))
rng = random.Random(5)
(work / "window.bin").write_bytes(b"\0".join(cut([rng.randrange(200, 1340) for _ in range(288)])))

letters = "abcdefghijklmnopqrstuvwxyz"
punctuation = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"
for mib in map(int, sys.argv[2].split()):
    n = mib << 20
    kinds = {"letters": lambda: "".join(rng.choices(letters, k=n)), "repeat": lambda: "a" * n}
    if mib <= 1:
        kinds["punct"] = lambda: "".join(rng.choices(punctuation, k=n))
        kinds["cjk"] = lambda: "".join(chr(rng.randrange(0x4E00, 0x9FA0)) for _ in range(n // 3))
    for kind, make in kinds.items():
        (work / f"piece-{kind}-{mib}").write_text(make())
PY

# 1. Mixed text.
python3 - "$work" > "$work/results.jsonl" <<'PY'
import importlib.util, json, pathlib, sys, time

work = pathlib.Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("fixtures", "Scripts/tokenizer-fixtures.py")
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)

text = (work / "text.txt").read_bytes().decode()  # no newline translation
messages = [m.decode() for m in (work / "messages.bin").read_bytes().split(b"\0")]

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
"$BIN" mixed "$work/text.txt" "$work/messages.bin" >> "$work/results.jsonl"

# 2. Long pieces, one process per run so that each peak is its own.
cat > "$work/piece.py" <<'PY'
import importlib.util, json, sys, time

spec = importlib.util.spec_from_file_location("fixtures", "Scripts/tokenizer-fixtures.py")
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

name, path = sys.argv[1], sys.argv[2]
encoding = fixtures.load_encoding(name)
text = open(path, "rb").read().decode()
with open("/proc/self/clear_refs", "w") as clear:  # the peak (VmHWM) starts again from here
    clear.write("5")
before = status("VmRSS:")
wall, cpu = time.perf_counter(), time.process_time()
tokens = len(encoding.encode_ordinary(text))
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"side": "tiktoken", "encoding": name, "bytes": len(text.encode()), "tokens": tokens,
                  "seconds": wall, "cpu_seconds": cpu, "peak_added_bytes": status("VmHWM:") - before}))
PY
for file in "$work"/piece-*; do
    piece=${file##*/piece-}
    for encoding in cl100k_base o200k_base; do
        echo "long piece $piece, $encoding" >&2
        "$BIN" piece "$encoding" "$file" | sed "s/^{/{\"piece\":\"$piece\",/" >> "$work/pieces.jsonl"
        if ! timeout "$TIKTOKEN_TIMEOUT" python3 "$work/piece.py" "$encoding" "$file" > "$work/tiktoken.json"; then
            echo "{\"side\":\"tiktoken\",\"encoding\":\"$encoding\",\"timeout\":$TIKTOKEN_TIMEOUT}" > "$work/tiktoken.json"
        fi
        sed "s/^{/{\"piece\":\"$piece\",/" "$work/tiktoken.json" >> "$work/pieces.jsonl"
    done
done

# 3. The joined window.
for encoding in cl100k_base o200k_base; do
    "$BIN" joined "$encoding" "$work/window.bin" >> "$work/joined.jsonl"
done

python3 - "$work" <<'PY'
import json, pathlib, sys

work = pathlib.Path(sys.argv[1])
rows = [json.loads(line) for line in open(work / "results.jsonl")]
by = {(r["side"], r["encoding"]): r for r in rows}
encodings = sorted({r["encoding"] for r in rows})
metrics = [("encode 1 MiB, tokens/s", "tokens_per_second", "{:,.0f}", False),
           ("count ~300 B message, us", "count_microseconds", "{:.2f}", True),
           ("RSS added by loading, MB", "load_rss_bytes", "{:.1f}", True),
           ("load time, ms", "load_seconds", "{:.0f}", True)]
scale = {"load_rss_bytes": 1 / 1e6, "load_seconds": 1e3}
print("Mixed text")
print(f"{'encoding':<12} {'metric':<27} {'tiktoken':>13} {'swift':>13} {'swift better by':>16}")
for name in encodings:
    py, sw = by[("tiktoken", name)], by[("swift", name)]
    if py["tokens"] != sw["tokens"]:
        print(f"WARNING: {name}: token counts differ (tiktoken {py['tokens']}, swift {sw['tokens']})")
    for label, key, fmt, lower_is_better in metrics:
        a, b = py[key] * scale.get(key, 1), sw[key] * scale.get(key, 1)
        ratio = (a / b if lower_is_better else b / a) if min(a, b) > 0 else float("nan")
        print(f"{name:<12} {label:<27} {fmt.format(a):>13} {fmt.format(b):>13} {ratio:>15.2f}x")

print()
print("Long unbroken pieces: processor seconds to encode, and peak memory added per input byte")
print(f"{'encoding':<12} {'piece':<16} {'tiktoken s':>11} {'swift s':>9} {'faster':>8} "
      f"{'tiktoken B/B':>13} {'swift B/B':>10} {'smaller':>8}")
pieces = {}
for line in open(work / "pieces.jsonl"):
    r = json.loads(line)
    pieces[(r["encoding"], r["piece"], r["side"])] = r
def order(key):
    kind, mib = key[1].rsplit("-", 1)
    return (key[0], int(mib), kind)
for encoding, piece, _ in sorted({(e, p, "") for e, p, _ in pieces}, key=order):
    sw, py = pieces[(encoding, piece, "swift")], pieces[(encoding, piece, "tiktoken")]
    kind, mib = piece.rsplit("-", 1)
    label = f"{kind} {mib} MiB"
    sw_s, sw_b = sw["cpu_seconds"], sw["peak_added_bytes"] / sw["bytes"]
    if "timeout" in py:
        print(f"{encoding:<12} {label:<16} {'>' + str(py['timeout']):>11} {sw_s:>9.2f} {'':>8} {'':>13} {sw_b:>10.1f}")
        continue
    if py["tokens"] != sw["tokens"]:
        print(f"WARNING: {encoding} {label}: token counts differ (tiktoken {py['tokens']}, swift {sw['tokens']})")
    py_s, py_b = py["cpu_seconds"], py["peak_added_bytes"] / py["bytes"]
    print(f"{encoding:<12} {label:<16} {py_s:>11.2f} {sw_s:>9.2f} {py_s / sw_s:>7.1f}x "
          f"{py_b:>13.1f} {sw_b:>10.1f} {py_b / sw_b:>7.1f}x")

print()
print("Window counts: 288 messages joined by spaces, counted for every window size")
print(f"{'encoding':<12} {'tokens':>8} {'one count':>10} {'all windows':>12} {'ratio':>6} {'recounting each':>16}")
for line in open(work / "joined.jsonl"):
    r = json.loads(line)
    if r["tokens"] != r["incremental_tokens"]:
        print(f"WARNING: {r['encoding']}: incremental count {r['incremental_tokens']} != {r['tokens']}")
    print(f"{r['encoding']:<12} {r['tokens']:>8,} {r['count_seconds'] * 1e3:>7.2f} ms {r['prepend_all_seconds'] * 1e3:>9.2f} ms "
          f"{r['prepend_all_seconds'] / r['count_seconds']:>5.1f}x {r['recount_every_window_seconds'] * 1e3:>13.0f} ms")
PY
