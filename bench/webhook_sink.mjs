// A lean webhook receiver for bench/webhooks.sh (issue #18): an HTTP server on loopback that
// answers every POST 200 at once, counts requests (per path, and distinct webhook-ids), keeps
// each arrival time in memory, and checks the signature of every SAMPLE-th request with the
// `standardwebhooks` npm library (tests/interop/node_modules: the Standard Webhooks reference
// implementation, not our code). tests/interop/webhook_receiver.mjs verifies every request
// and appends a JSON line each; this one does as little as it can so that the node, not the
// receiver, is what is measured. It writes SUMMARY (atomically: a .tmp renamed) once it has N
// requests, and again on SIGTERM/SIGINT before it exits:
//   {"count","distinct","paths":{path:count},"verified","failed","failures":[...],
//    "nth": epoch ms of the N-th arrival or null, "times":[epoch ms of each arrival],
//    "sample":{"path","headers","body"} (the first request, for the peer to copy)}
// SECRETS is a JSON file {"/path": "whsec_..."}, read when the first sample is checked (the
// endpoints are created after this server starts: their URLs name its port), re-read while a
// path is missing.
// Usage: node webhook_sink.mjs PORT READY_FILE SUMMARY N SECRETS [SAMPLE=100] (PORT 0: any).
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../tests/interop/package.json"));
const { Webhook } = require("standardwebhooks");

const [port, readyFile, summaryFile, nArg, secretsFile, sampleArg] = process.argv.slice(2);
const N = Number(nArg);
const SAMPLE = Number(sampleArg || 100);
const t0 = performance.timeOrigin;

let times = new Float64Array(Math.max(1024, N + 16));
let count = 0;
let nth = null;
let verified = 0;
let failed = 0;
const failures = [];
const ids = new Set();
const paths = {};
let sample = null;
let secrets = {};
const hooks = {};

function webhookFor(p) {
  if (!(p in secrets)) {
    try {
      secrets = JSON.parse(fs.readFileSync(secretsFile, "utf8"));
    } catch {
      secrets = {};
    }
  }
  if (!(p in secrets)) return null;
  return (hooks[p] ||= new Webhook(secrets[p]));
}

function summary() {
  const out = {
    count, distinct: ids.size, paths, verified, failed, failures: failures.slice(0, 5), nth,
    times: Array.from(times.subarray(0, count), (t) => Math.round(t * 1000) / 1000), sample,
  };
  fs.writeFileSync(summaryFile + ".tmp", JSON.stringify(out));
  fs.renameSync(summaryFile + ".tmp", summaryFile);
}

function handle(req, res, body) {
  const at = t0 + performance.now();
  if (count === times.length) {
    const t = new Float64Array(times.length * 2);
    t.set(times);
    times = t;
  }
  times[count++] = at;
  ids.add(req.headers["webhook-id"]);
  paths[req.url] = (paths[req.url] || 0) + 1;
  if (!sample) sample = { path: req.url, headers: req.headers, body };
  if (count % SAMPLE === 1 || SAMPLE === 1) {
    const wh = webhookFor(req.url);
    try {
      if (!wh) throw new Error(`no secret for ${req.url}`);
      wh.verify(body, req.headers);
      verified++;
    } catch (e) {
      failed++;
      failures.push(String(e && e.message));
    }
  }
  res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
  res.end("ok");
  if (count === N) {
    nth = at;
    summary();
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
});
server.keepAliveTimeout = 60000;
server.listen(Number(port) || 0, "127.0.0.1", () => {
  fs.writeFileSync(readyFile + ".tmp", String(server.address().port));
  fs.renameSync(readyFile + ".tmp", readyFile);
});
for (const sig of ["SIGTERM", "SIGINT"])
  process.on(sig, () => {
    summary();
    process.exit(0);
  });
