"""What the delivery benchmarks' drivers share (bench/delivery.sh, bench/webhooks.sh): issuing
rosters by POST /v1/credentials/batch over one keep-alive connection, and how much of the
machine's CPU processes outside the benchmark took meanwhile (so a busy machine is reported,
not mistaken for a slow node)."""
import json
import os
import sys
import time

HZ, NCPU = os.sysconf("SC_CLK_TCK"), os.cpu_count()

def busy_ticks():  # the whole machine: every CPU's non-idle time
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(v) - v[3] - v[4]

def own_ticks(pids):  # the benchmark's processes: the watched ones, this one and its children
    n = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            n += sum(int(x) for x in f[11:15])
        except (OSError, IndexError):
            pass
    t = os.times()
    return n + (t.user + t.system + t.children_user + t.children_system) * HZ

class Others:
    """The share of all CPUs that processes outside the benchmark used over an interval."""
    def __init__(self, pids):
        self.pids = [int(p) for p in pids]
        self.t, self.busy, self.own = time.time(), busy_ticks(), own_ticks(self.pids)
    def share(self):
        dt = time.time() - self.t
        other = (busy_ticks() - self.busy) - (own_ticks(self.pids) - self.own)
        return max(0.0, other / (dt * NCPU * HZ)) * 100

def roster(tag, n, course):
    rows = ["externalId,name,email,department,course,completedAt"]
    for i in range(n):
        rows.append(f"{tag}-{i:06d},Participant {i},p{i}.{tag}@bench.example,Department {i % 23},"
                    f"{course},2026-06-{1 + i % 28:02d}T{9 + i % 8:02d}:15:00Z")
    return ("\n".join(rows) + "\n").encode()

def post(conn, token, body):
    conn.request("POST", "/v1/credentials/batch", body=body,
                 headers={"Authorization": "Bearer " + token, "Content-Type": "text/csv"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit(f"batch: HTTP {r.status}: {data[:400]!r}")
    j = json.loads(data)
    if j.get("failed"):
        sys.exit(f"batch: {j['failed']} rows failed: {data[:400]!r}")
    return j.get("issued", 0)
