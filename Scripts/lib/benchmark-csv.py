"""Benchmark figures for the Scripts/bench-*.sh scripts.

    benchmark-csv.py < redis-benchmark-csv
        Reads `redis-benchmark --csv` output; prints "rps,mean_ms,p50_ms,p95_ms,p99_ms" for each
        test, one per line. The test name is the command line, which redis-benchmark does not
        escape (it may hold quotes and commas), so the numbers are taken from the end of each
        line: rps, avg, min, p50, p95, p99, max.

    benchmark-csv.py table --ref NAME --ours NAME --unit us|ms --ratio latency|speedup < rows
        Prints rows side by side, one line per test with a column per figure for both sides.
        Each input row is
            test,concurrency,side,requests,warmup,pinning,mean_ms,p50_ms,p99_ms,ops_per_s[,note]
        with side "ref" or "ours"; a ref or ours row with 0 requests prints as skipped (its
        note says why). The ratio is the one the scripts' targets use: at concurrency 1 the
        mean-latency ratio (`latency`: ours / ref, lower is better; `speedup`: ref / ours,
        higher is better), above 1 the ops/s ratio (ours / ref, higher is better).

    benchmark-csv.py median < rows
        Reads rows of the `table` form from several rounds of the same tests; prints one row per
        test, concurrency and side: the rounds' requests added up, and the median of the rounds'
        mean, p50, p99 and ops/s (each figure on its own), noting the rounds' range of means.

    benchmark-csv.py commands MONITOR OPS
        MONITOR holds `redis-cli monitor` output taken around a run of OPS operations; prints the
        commands the clients sent per operation and those run inside scripts, leaving out those
        under 0.01 each and connection set-up, and the number of connections that sent the rest.

    benchmark-csv.py ratios < rows
        Prints figures beside their references as a table. Each input row is
            what,reference,reference_figure,our_figure[,target]
        and the ratio is ours / reference; a target such as "<=1.6" or ">=1.1" bounds the ratio
        and the row says whether this run met it.

    benchmark-csv.py server-time BEFORE AFTER OPS
        BEFORE and AFTER hold `INFO commandstats` taken around a run of OPS operations; prints
        the server's µs per operation in the command that took the most (a script's time holds
        the commands it runs).
"""
import argparse
import re
import statistics
import sys


def redis_benchmark_csv():
    lines = [line.strip() for line in sys.stdin if line.strip()]
    for line in lines[1:]:
        numbers = [float(field.strip('"')) for field in line.rsplit(",", 7)[1:]]
        rps, avg, _, p50, p95, p99, _ = numbers
        print(f"{rps:.0f},{avg:.3f},{p50:.3f},{p95:.3f},{p99:.3f}")


def latency(value_ms, unit):
    value = value_ms * 1000 if unit == "us" else value_ms
    for bound, digits in ((1, 3), (10, 2), (1000, 1)):
        if value < bound:
            return f"{value:.{digits}f}"
    return f"{value:,.0f}"


def times(ratio):
    return f"{ratio:.2f}" if ratio < 100 else f"{ratio:,.0f}"


def table(arguments):
    parser = argparse.ArgumentParser(prog="benchmark-csv.py table")
    parser.add_argument("--ref", required=True)
    parser.add_argument("--ours", required=True)
    parser.add_argument("--unit", choices=("us", "ms"), default="us")
    parser.add_argument("--ratio", choices=("latency", "speedup"), default="latency")
    options = parser.parse_args(arguments)
    order, rows = [], {}
    for line in sys.stdin:
        if not line.strip():
            continue
        fields = line.rstrip("\n").split(",", 10)
        test, concurrency, side = fields[:3]
        if (test, concurrency) not in order:
            order.append((test, concurrency))
        rows[(test, concurrency, side)] = {
            "requests": int(fields[3]), "warmup": fields[4], "pinning": fields[5],
            "figures": [float(x) if x else 0.0 for x in fields[6:10]],
            "note": fields[10] if len(fields) > 10 else "",
        }
    unit = "µs" if options.unit == "us" else "ms"
    groups = ["", "", "", "", "", f"mean {unit}", f"p50 {unit}", f"p99 {unit}", "ops/s", "", ""]
    header = ["test", "conc", "pinning", "requests", "warm-up"] + [options.ref, options.ours] * 4 + ["ratio", "notes"]
    body, footnotes = [], []
    for test, concurrency in order:
        ref, ours = rows.get((test, concurrency, "ref")), rows.get((test, concurrency, "ours"))
        sides = [side for side in (ref, ours) if side]

        def both(key):
            values = [str(side[key]) for side in sides]
            return values[0] if len(set(values)) == 1 else " / ".join(values)

        line = [test, concurrency, both("pinning"), both("requests"), both("warmup")]
        for index in range(4):
            for side in (ref, ours):
                if not side or side["requests"] == 0:
                    line.append("skipped")
                elif index == 3:
                    ops = side["figures"][3]
                    line.append(f"{ops:,.0f}" if ops >= 100 else f"{ops:.3g}")
                else:
                    line.append(latency(side["figures"][index], options.unit))
        ratio = ""
        if ref and ours and ref["requests"] and ours["requests"]:
            (ref_mean, *_, ref_ops), (our_mean, *_, our_ops) = ref["figures"], ours["figures"]
            if concurrency == "1" and options.ratio == "latency" and ref_mean:
                ratio = f"{times(our_mean / ref_mean)}× mean latency"
            elif concurrency == "1" and our_mean:
                ratio = f"{times(ref_mean / our_mean)}× (mean latency)"
            elif ref_ops:
                ratio = f"{times(our_ops / ref_ops)}× ops/s"
        notes = "; ".join(f"{name}: {side['note']}" for name, side in ((options.ref, ref), (options.ours, ours))
                          if side and side["note"])
        if len(notes) > 80:
            footnotes.append(notes)
            notes = f"[{len(footnotes)}]"
        body.append(line + [ratio, notes])
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    for pair in range(4):   # each figure's name spans its two columns
        first = 5 + 2 * pair
        widths[first + 1] += max(0, len(groups[5 + pair]) - (widths[first] + 2 + widths[first + 1]))
    spans = [(widths[i], groups[i]) for i in range(5)]
    spans += [(widths[5 + 2 * pair] + 2 + widths[6 + 2 * pair], groups[5 + pair]) for pair in range(4)]
    print("  ".join(label.center(width) for width, label in spans).rstrip())
    for row in [header] + body:
        cells = [cell.ljust(widths[i]) if i in (0, 2, len(header) - 1) else cell.rjust(widths[i])
                 for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip())
    if any(" / " in cell for row in body for cell in row[2:5]):
        print(f"(a / b: {options.ref} / {options.ours})")
    for number, note in enumerate(footnotes, 1):
        print(f"[{number}] {note}")


def median_rows():
    order, rounds = [], {}
    for line in sys.stdin:
        if not line.strip():
            continue
        fields = line.rstrip("\n").split(",", 10)
        group = tuple(fields[:3])
        if group not in rounds:
            order.append(group)
            rounds[group] = []
        rounds[group].append(fields)
    for group in order:
        rows = rounds[group]
        requests = sum(int(row[3]) for row in rows)
        figures = [statistics.median(float(row[index]) for row in rows) for index in range(6, 10)]
        means = [float(row[6]) for row in rows]
        note = f"median of {len(rows)} rounds, means {min(means):.3f}–{max(means):.3f} ms"
        print(",".join(list(group) + [str(requests), f"{len(rows)}×{rows[0][4]}", rows[0][5]]
                       + [f"{figure:.4f}" for figure in figures[:3]] + [f"{figures[3]:.0f}", note]))


# Connection set-up and script loading: reported as the number of connections, not per operation.
SET_UP = {"hello", "info", "client", "select", "auth", "script", "ping"}


def commands(monitor_path, operations):
    sent, in_scripts, connections = {}, {}, set()
    for line in open(monitor_path, errors="replace"):
        match = re.match(r'[0-9.]+ \[\d+ ([^\]]+)\] "([^"]+)"', line)
        if not match:
            continue
        source, name = match.group(1), match.group(2).lower()
        if source == "lua":
            in_scripts[name] = in_scripts.get(name, 0) + 1
        elif name not in SET_UP:
            connections.add(source)
            sent[name] = sent.get(name, 0) + 1

    def per_operation(counts):
        shares = sorted(((calls / operations, name) for name, calls in counts.items()), reverse=True)
        return " + ".join(f"{share:.2f} {name.upper()}" for share, name in shares if share >= 0.01) or "none"

    text = f"sends {per_operation(sent)}"
    if in_scripts:
        text += f" (the script runs {per_operation(in_scripts)})"
    print(f"{text} per operation, over {len(connections)} connection(s)")


def ratios():
    header = ["what", "reference", "ref", "ours", "ratio", "target", ""]
    body = []

    def figure(value):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}" if value < 10 else f"{value:.1f}"
    for line in sys.stdin:
        if not line.strip():
            continue
        what, reference, ref, ours, target = (line.rstrip("\n").split(",") + [""])[:5]
        bound = float(target[2:]) if target else None
        shown = f"{'≤' if target.startswith('<=') else '≥'} {bound:.2f}×" if target else ""
        if not ref or not ours:   # a step that failed to give its figure
            body.append([what, reference, ref or "-", ours or "-", "", shown, "no figure"])
            continue
        ref, ours = float(ref), float(ours)
        ratio = ours / ref if ref else float("inf")
        verdict = ""
        if target:
            verdict = "met" if (ratio <= bound if target.startswith("<=") else ratio >= bound) else "NOT met"
        body.append([what, reference, figure(ref), figure(ours), f"{times(ratio)}×", shown, verdict])
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    for row in [header] + body:
        cells = [cell.rjust(widths[i]) if i in (2, 3, 4) else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip())


def server_time(before_path, after_path, operations):
    def usec(path):
        found = {}
        for line in open(path):
            match = re.match(r"cmdstat_([^:]+):calls=\d+,usec=(\d+)", line.strip())
            if match:
                found[match.group(1)] = int(match.group(2))
        return found
    before, after = usec(before_path), usec(after_path)
    spent = {name: value - before.get(name, 0) for name, value in after.items() if name != "info"}
    name = max(spent, key=spent.get)
    print(f"{spent[name] / operations:.1f} µs of server time in {name.upper()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "table":
        table(sys.argv[2:])
    elif len(sys.argv) == 2 and sys.argv[1] == "median":
        median_rows()
    elif len(sys.argv) == 2 and sys.argv[1] == "ratios":
        ratios()
    elif len(sys.argv) == 4 and sys.argv[1] == "commands":
        commands(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "server-time":
        server_time(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        redis_benchmark_csv()
