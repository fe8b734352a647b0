"""Reads redis-benchmark --csv output on stdin; prints "rps,p50_ms" for each test, one per line.

The test name is the command line, which redis-benchmark does not escape (it may hold quotes and
commas), so the numbers are taken from the end of each line: rps, avg, min, p50, p95, p99, max.
"""
import sys

lines = [line.strip() for line in sys.stdin if line.strip()]
for line in lines[1:]:
    numbers = [field.strip('"') for field in line.rsplit(",", 7)[1:]]
    print(f"{float(numbers[0]):.0f},{numbers[3]}")
