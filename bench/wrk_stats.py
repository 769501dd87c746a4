"""Reads a `wrk --latency` report (bench/*.sh): wrk(path) -> (text, seconds, requests,
non-2xx responses, {"50%": ..., "99%": ...})."""
import re


def wrk(path):
    t = open(path).read()
    secs = float(re.search(r"requests in ([\d.]+)(m?s)", t).group(1))
    if re.search(r"requests in [\d.]+ms", t): secs /= 1000
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    lat = {k: re.search(r"^\s*%s\s+(\S+)" % k, t, re.M).group(1) for k in ("50%", "99%")}
    return t, secs, reqs, int(bad.group(1)) if bad else 0, lat
