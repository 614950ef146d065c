#!/usr/bin/env python3
# Per-process CPU from /proc for bench/shop-up-probe.sh. `snap FILE` stores utime+stime, name and
# command line of every process; `diff A B SECONDS` prints the top 25 by CPU between two snapshots.
import os, sys, json
def snap():
    out = {}
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            st = open(f'/proc/{p}/stat').read()
            r = st.rsplit(')', 1)[1].split()
            ticks = int(r[11]) + int(r[12])
            comm = st[st.index('(')+1:st.rindex(')')]
            cmd = open(f'/proc/{p}/cmdline').read().replace('\0', ' ')[:160]
            out[p] = [ticks, comm, cmd]
        except Exception: pass
    return out
if sys.argv[1] == 'snap':
    json.dump(snap(), open(sys.argv[2], 'w'))
else:
    a = json.load(open(sys.argv[2])); b = json.load(open(sys.argv[3])); secs = float(sys.argv[4]); reqs = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    hz = os.sysconf('SC_CLK_TCK')
    rows = []
    for p, (t, comm, cmd) in b.items():
        d = t - a.get(p, [0])[0]
        if d > 0: rows.append((d, p, comm, cmd))
    rows.sort(reverse=True)
    tot = 0
    for d, p, comm, cmd in rows[:25]:
        tot += d
        print(f'{d/hz:6.2f}s {100*d/hz/secs:5.1f}% {p:>7} {comm[:15]:15} {cmd[:110]}')
    print(f'total top25 {tot/hz:.2f}s over {secs}s')
