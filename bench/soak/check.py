#!/usr/bin/env python3
"""check.py — the soak's verdict from a server's samples (issue 23).

usage: check.py CSV EVENTS [--strict] [--rss-advisory]

CSV is what the soak server wrote (unix_ms,kind,rss_kb,fds,goroutines,
timers,requests); EVENTS holds "name unix_ms" lines from soak.sh: load_start,
warm (load_start + warm-up), load_end. The first probe row is the idle
baseline, taken before the load; the second is taken one second after the
load stopped. Criteria:

  rss        RSS grows by at most 1 % from the warm-up's end to the load's:
             the median of the last w samples against that of the first w
             after the warm-up (w = a fifth of them, 10 to 60: transient
             peaks, such as a descriptor flood's, are not growth)
  fds        one second after the load, open descriptors equal the baseline
  goroutines one second after the load, goroutines equal the baseline
  timers     one second after the load, pending timers equal the baseline
             (when the server counts them)
  served     requests were served during the load

Prints one line per criterion and a summary; with --strict exits 1 when a
criterion fails. --rss-advisory reports the RSS criterion without failing
on it (CI's short AddressSanitizer run: see docs/BENCHMARKS.md, "Soak").
"""
import csv
import statistics
import sys

path, events_path = sys.argv[1], sys.argv[2]
strict = "--strict" in sys.argv[3:]
rss_advisory = "--rss-advisory" in sys.argv[3:]

rows = list(csv.DictReader(open(path)))
events = dict(line.split() for line in open(events_path) if line.strip())
events = {k: int(v) for k, v in events.items()}
probes = [r for r in rows if r["kind"] == "probe"]
ticks = [r for r in rows if r["kind"] == "tick"]
failed = []


def report(name, ok, detail, advisory=False):
    print("%-10s %s  %s" % (name, "ok  " if ok else ("high" if advisory else "FAIL"), detail))
    if not ok and not advisory:
        failed.append(name)


if len(probes) < 2:
    report("probes", False, "expected 2 probe samples, found %d" % len(probes))
else:
    idle, after = probes[0], probes[1]
    for col in ("fds", "goroutines", "timers"):
        if idle[col] == "":
            print("%-10s n/a   (not counted by this server)" % col)
            continue
        report(col, int(after[col]) == int(idle[col]),
               "idle %s, 1 s after the load %s" % (idle[col], after[col]))
    report("served", int(after["requests"]) > int(idle["requests"]),
           "%d requests" % (int(after["requests"]) - int(idle["requests"])))

steady = [r for r in ticks if events["warm"] <= int(r["unix_ms"]) <= events["load_end"]]
if len(steady) < 20:
    report("rss", False, "only %d samples after the warm-up" % len(steady))
else:
    rss = [int(r["rss_kb"]) for r in steady if int(r["rss_kb"]) > 0]
    w = max(10, min(60, len(rss) // 5))
    first, last = statistics.median(rss[:w]), statistics.median(rss[-w:])
    growth = 100.0 * (last - first) / first
    report("rss", growth <= 1.0, ("(advisory) " if rss_advisory else "") +
           "median of the first %d s after the warm-up %.2f MiB, of the last %d s %.2f MiB (%+.2f %%); "
           "peak %.2f MiB; %d s sampled" % (w, first / 1024, w, last / 1024, growth, max(rss) / 1024, len(rss)), rss_advisory)

    # Not judged: the envelope. Under periodic bursts (the floods) and a
    # periodic scavenger the samples alternate between two levels, and a
    # window's median falls on one or the other; the troughs (10th
    # percentile) and the crests (90th) show growth without that noise.
    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * len(xs)))]
    for q, name in ((0.1, "troughs"), (0.9, "crests")):
        a, b = pct(rss[:w], q), pct(rss[-w:], q)
        print("%-10s info  %s (%dth percentile) of the first %d s %.2f MiB, of the last %d s %.2f MiB (%+.2f %%)" %
              ("rss", name, int(q * 100), w, a / 1024, w, b / 1024, 100.0 * (b - a) / a))

print("verdict    %s" % ("FAIL: " + ", ".join(failed) if failed else "pass"))
sys.exit(1 if strict and failed else 0)
