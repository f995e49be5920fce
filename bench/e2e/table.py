"""Prints the end-to-end results as a table, with the ratios h1c / floor,
h1c / libcurl (CPU per request: lower is better; below 1 means h1c costs
less) and h1c rate / wrk rate at the same depth. A client run several
times (rounds) is shown by the median of each measure."""
import json
import statistics
import sys

runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in runs:
    groups.setdefault((r["file"], r["label"]), []).append(r)
rows = []
for (f, label), rs in groups.items():
    m = dict(rs[0])
    for k, v in rs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            m[k] = statistics.median(x[k] for x in rs if k in x)
    m["rounds"] = len(rs)
    rows.append(m)
pairs = {  # h1c label -> (floor label, curl label, wrk label)
    "h1c seq": ("floor seq", "curl easy", "wrk pipe 1"),
    "h1c pipe 8": ("floor pipe 8", None, "wrk pipe 8"),
    "h1c pipe 32": ("floor pipe 32", None, "wrk pipe 32"),
    "h1c conns 4": (None, "curl multi 4", None),
    "h1c conns 64": (None, "curl multi 64", None),
}
for f in sorted({r["file"] for r in rows}):
    by = {r["label"]: r for r in rows if r["file"] == f}
    print(f"\n{f}")
    print(f"{'client':16} {'req/s':>9} {'CPU us/req':>10} {'RSS KiB':>8} {'allocs/req':>10}"
          f" {'CPU/floor':>9} {'CPU/curl':>8} {'rate/wrk':>8}")
    for label, r in by.items():
        cpu = r.get("cpu_us_per_req")
        line = f"{label:16} {r['rps']:>9.0f} " + (f"{cpu:>10.1f} {r['max_rss_kb']:>8.0f}" if cpu is not None else f"{'-':>10} {'-':>8}")
        allocs = r.get("allocs_per_req")
        line += f" {allocs:>10.3f}" if allocs is not None else f" {'':>10}"
        if label in pairs:
            fl, cu, wr = pairs[label]
            for other, key in ((fl, "cpu_us_per_req"), (cu, "cpu_us_per_req")):
                o = by.get(other) if other else None
                line += f" {cpu / o[key]:>8.2f}x" if o and cpu else f" {'':>9}"
            w = by.get(wr) if wr else None
            line += f" {r['rps'] / w['rps']:>7.2f}x" if w else ""
        print(line)
    seq, p8 = by.get("h1c seq"), by.get("h1c pipe 8")
    if seq and p8:
        print(f"h1c depth 8 / sequential rate on one connection: {p8['rps'] / seq['rps']:.2f}x")
    idle = [r.get("heap_bytes_per_idle_conn") for r in by.values() if r.get("heap_bytes_per_idle_conn")]
    if idle:
        print(f"h1c heap per idle pooled connection (hooks, buffers included): {max(idle):.0f} bytes")
    print(f"(median of {max(r['rounds'] for r in by.values())} rounds)")
