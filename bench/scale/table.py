"""Prints the scaling benchmark's results (bench/scale/run.sh) as Markdown
tables: CPU per request at each N with its ratio to the same row at N = 16,
heap per idle connection and allocations per request; h1c's CPU per
request over libcurl multi's and over the floor's (no library: what the
kernel charges for the same traffic); requests/s; and where each h1c row
stands against the targets of issue 15, and how much of a ratio over
N = 16 is the floor's own.

usage: python3 bench/scale/table.py scale.jsonl"""
import json
import statistics
import sys

ROWS = [  # (label in the JSON, name in the table)
    ("builtin", "h1c built-in loop"),
    ("libuv", "h1c libuv adapter"),
    ("libevent", "h1c libevent adapter"),
    ("curl-socket", "libcurl multi_socket_action + epoll"),
    ("curl-poll", "libcurl multi_perform + multi_poll"),
    ("floor", "floor: no library, send + recv on epoll"),
]
SCEN = [("busy", "all N busy"), ("idle", "1 active, N-1 idle")]
H1C = ("builtin", "libuv", "libevent")
CURL = ("curl-socket", "curl-poll")
TARGET_FLAT, TARGET_HEAP, TARGET_CURL = 1.3, 4096, 0.5

runs = {}
for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        runs.setdefault((d["label"], d["scenario"], d["n"]), []).append(d)
# Several rounds: the median of each measure; a cut in any round marks it.
cells = {}
for k, rs in runs.items():
    m = dict(rs[0])
    for key in {key for r in rs for key in r}:
        vals = [r[key] for r in rs if key in r]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            m[key] = statistics.median(vals)
    m["cut"] = "+".join(sorted({r["cut"] for r in rs if r.get("cut")}))
    m["exit"] = max(r.get("exit", 0) for r in rs)
    m["rounds"] = len(rs)
    cells[k] = m
rounds = max(m["rounds"] for m in cells.values())
ns = sorted({k[2] for k in cells})
labels = [r for r in ROWS if any(k[0] == r[0] for k in cells)]


def cpu(label, sc, n):
    d = cells.get((label, sc, n))
    return d.get("cpu_us_per_req") if d else None


def mark(d):
    """* a phase was cut short (see the notes); what was measured stands."""
    return "*" if d.get("cut") and "cpu_us_per_req" in d else ""


def fmt_us(v):
    return f"{v:.1f}" if v < 1000 else f"{v:,.0f}"


def cell_text(label, sc, n):
    d = cells.get((label, sc, n))
    if not d:
        return ""
    if "cpu_us_per_req" not in d:
        return "not measured (%s)" % (d.get("cut") or "failed")
    s = fmt_us(d["cpu_us_per_req"]) + mark(d)
    base = cpu(label, sc, 16)
    if n != 16 and base:
        s += " (%.2fx)" % (d["cpu_us_per_req"] / base)
    if d.get("connections", n) < n:
        s += " (%d conns)" % d["connections"]
    if d.get("exit"):
        s += " exit %s" % d["exit"]
    return s


def worst(label, sc, key):
    vals = [cells[(label, sc, n)].get(key) for n in ns if (label, sc, n) in cells]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def heap_text(label, sc="idle"):
    """Heap per idle connection at the largest N measured: through h1c's
    allocator hooks, and the whole process's (the loop's and adapter's
    records per descriptor included) at the end of the idle window. For a
    busy row, h1c's heap per connection with all N busy (hooks)."""
    if sc == "busy":
        for n in reversed(ns):
            d = cells.get((label, "busy", n))
            if d and d.get("heap_per_busy_conn"):
                return "busy: %.1f KiB (N = %s)" % (d["heap_per_busy_conn"] / 1024, f"{n:,}")
        return ""
    for n in reversed(ns):
        d = cells.get((label, "idle", n))
        if not d:
            continue
        h, p = d.get("heap_per_conn"), d.get("proc_heap_per_conn")
        parts = []
        if h:
            parts.append("%.1f" % (h / 1024))
        if p:
            parts.append(("process " if not h else "") + "%.1f" % (p / 1024))
        if parts:
            return ", ".join(parts) + " KiB (N = %s)" % f"{n:,}"
    return ""


def curl_best(sc, n):
    vals = [(cpu(c, sc, n), c) for c in CURL if cpu(c, sc, n)]
    return min(vals) if vals else (None, None)


head = "| client | scenario | " + " | ".join(f"N = {n:,}" for n in ns)
sep = "|---|---|" + "---|" * len(ns)
print("\nCPU µs per request (user + system of the client process), in parentheses "
      "over the same row at N = 16%s:\n" % (", median of %d rounds" % rounds if rounds > 1 else ""))
print(head + " | heap per conn, idle (busy rows: all busy): hooks, process | allocs/req: hooks, process |")
print(sep + "---|---|")
for label, name in labels:
    for sc, scname in SCEN:
        if not any((label, sc, n) in cells for n in ns):
            continue
        line = f"| {name} | {scname} | " + " | ".join(cell_text(label, sc, n) for n in ns)
        heap = heap_text(label, sc)
        a, p = worst(label, sc, "allocs_per_req"), worst(label, sc, "proc_allocs_per_req")
        allocs = ("%.3g" % a if a is not None else "-") + ", " + ("%.3g" % p if p is not None else "-")
        print(line + f" | {heap} | {allocs} |")

if any(k[0] in CURL for k in cells):
    for label, name in labels:
        if label not in H1C:
            continue
        for sc, scname in SCEN:
            out = []
            for n in ns:
                h = cpu(label, sc, n)
                c, _ = curl_best(sc, n)
                out.append("%.2fx" % (h / c) if h and c else "")
            if any(out):
                print(f"| {name} / libcurl | {scname} | " + " | ".join(out) + " | | |")
    for sc, scname in SCEN:
        out = []
        for n in ns:
            f, (c, _) = cpu("floor", sc, n), curl_best(sc, n)
            out.append("%.2fx" % (f / c) if f and c else "")
        if any(out):
            print(f"| floor / libcurl | {scname} | " + " | ".join(out) + " | | |")

if any(k[0] == "floor" for k in cells):
    for label, name in labels:
        if label not in H1C:
            continue
        for sc, scname in SCEN:
            out = []
            for n in ns:
                h, f = cpu(label, sc, n), cpu("floor", sc, n)
                out.append("%.2fx" % (h / f) if h and f else "")
            if any(out):
                print(f"| {name} / floor | {scname} | " + " | ".join(out) + " | | |")


def round_cpu(label, sc, n):
    """CPU per request by round: {round: value}."""
    return {r.get("round", 1): r["cpu_us_per_req"] for r in runs.get((label, sc, n), [])
            if "cpu_us_per_req" in r}


def spread(vals):
    return "%.2f-%.2fx" % (min(vals), max(vals)) if vals else ""


# Several rounds: ratios paired within each round (cells measured minutes
# apart vary by 20 to 40% here), as the range over the rounds, then what
# is left of each h1c row's ratio once the floor's of the same round is
# divided out (its own growth, the part a client can change).
if rounds > 1 and any(k[0] == "floor" for k in cells):
    print("\nRatio over N = 16 within each round, the range over %d rounds; then h1c's own "
          "growth: its ratio over the floor's ratio of the same round, the median:\n" % rounds)
    print(head + " |")
    print(sep)
    for label, name in labels:
        if label not in H1C and label != "floor":
            continue
        for sc, scname in SCEN:
            base = round_cpu(label, sc, 16)
            if not base:
                continue
            out = []
            for n in ns:
                cur = round_cpu(label, sc, n)
                out.append(spread([cur[r] / base[r] for r in cur if r in base]) if n != 16 else "")
            print(f"| {name} | {scname} | " + " | ".join(out) + " |")
    for label, name in labels:
        if label not in H1C:
            continue
        for sc, scname in SCEN:
            base, fbase = round_cpu(label, sc, 16), round_cpu("floor", sc, 16)
            if not base or not fbase:
                continue
            out = []
            for n in ns:
                cur, fcur = round_cpu(label, sc, n), round_cpu("floor", sc, n)
                own = [(cur[r] / base[r]) / (fcur[r] / fbase[r]) for r in cur
                       if r in base and r in fcur and r in fbase]
                out.append("%.2fx" % statistics.median(own) if own and n != 16 else "")
            print(f"| {name}: own growth | {scname} | " + " | ".join(out) + " |")

print("\nRequests/s:\n")
print(head + " |")
print(sep)
for label, name in labels:
    for sc, scname in SCEN:
        if not any((label, sc, n) in cells for n in ns):
            continue
        out = []
        for n in ns:
            d = cells.get((label, sc, n))
            out.append("%.0f" % d["rps"] if d and "rps" in d else "")
        print(f"| {name} | {scname} | " + " | ".join(out) + " |")

print("\nAgainst the targets (flat: worst CPU per request over N = 16's; "
      f"heap per idle connection <= {TARGET_HEAP // 1024} KiB; 0 allocations per request; "
      f"CPU <= {TARGET_CURL}x libcurl multi's at every N):")
for label, name in labels:
    if label not in H1C:
        continue
    for sc, scname in SCEN:
        if not any((label, sc, n) in cells for n in ns):
            continue
        base = cpu(label, sc, 16)
        ratios = [(cpu(label, sc, n) / base, n) for n in ns if base and cpu(label, sc, n)]
        vs = []
        for n in ns:
            h, (c, _) = cpu(label, sc, n), curl_best(sc, n)
            if h and c:
                vs.append((h / c, n))
        missing = [n for n in ns if not cpu(label, sc, n)]
        s = f"  {name}, {scname}:"
        if ratios:
            r, n = max(ratios)
            s += " flat %.2fx (N = %s) %s;" % (r, f"{n:,}", "met" if r <= TARGET_FLAT else "not met")
        if vs:
            r, n = max(vs)
            s += " vs libcurl %.2fx (N = %s) %s;" % (r, f"{n:,}", "met" if r <= TARGET_CURL else "not met")
        a = worst(label, sc, "allocs_per_req")
        if a is not None:
            s += " allocs/req %.3g %s;" % (a, "met" if a == 0 else "not met")
        if sc == "idle":
            hv = [cells[(label, sc, n)].get("heap_per_conn") for n in ns if (label, sc, n) in cells]
            hv = [v for v in hv if v]
            if hv:
                s += " heap/idle conn %.1f KiB %s;" % (hv[-1] / 1024, "met" if hv[-1] <= TARGET_HEAP else "not met")
        fb = cpu("floor", sc, 16)
        if ratios and fb:
            r, n = max(ratios)
            fn = cpu("floor", sc, n)
            if fn and n != 16:
                s += " (the floor's own at N = %s: %.2fx; h1c over it: %.2fx);" % (
                    f"{n:,}", fn / fb, r / (fn / fb))
        if missing:
            s += " not measured at N = " + ", ".join(f"{n:,}" for n in missing)
        print(s.rstrip(";"))
cut = sorted({(d["label"], d["scenario"], d["n"], d.get("cut")) for d in cells.values() if d.get("cut")})
if cut:
    print("\n* cut short (setup: the N connections were not all open in time, nothing measured; "
          "warm: warm-up ended by its time limit before every connection was reused twice; "
          "window: fewer than 2 N requests in the window's time limit):")
    for label, sc, n, c in cut:
        print(f"  {label} {sc} N = {n:,}: {c}")
