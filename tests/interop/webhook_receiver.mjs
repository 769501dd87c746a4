// A webhook receiver for tests/integration/test_webhooks.py (issue #18): an HTTP server on
// loopback that checks every delivery's signature with the `standardwebhooks` library from
// npm (the Standard Webhooks reference implementation, a peer nobody here wrote) and records
// it as one JSON line. Behaviour per path comes from a control file, re-read per request:
//   {"paths": {"/hook-a": {"secrets": ["whsec_..."], "fail_first": 2, "hang": false}}}
// secrets: each is tried alone (verified[i] is true or the library's error message);
// fail_first: answer 500 to the first N requests of that path; hang: never answer.
// Usage: node webhook_receiver.mjs PORT OUT.jsonl CONTROL.json READY_FILE (PORT 0: any).
import fs from "node:fs";
import http from "node:http";
import { Webhook } from "standardwebhooks";

const [port, outFile, controlFile, readyFile] = process.argv.slice(2);
const counts = {};

function control() {
  try {
    return JSON.parse(fs.readFileSync(controlFile, "utf8"));
  } catch {
    return {};
  }
}

function verifyWith(secrets, body, headers) {
  return secrets.map((s) => {
    try {
      new Webhook(s).verify(body, headers);
      return true;
    } catch (e) {
      return String(e && e.message);
    }
  });
}

function handle(req, res, body) {
  const p = (control().paths || {})[req.url] || {};
  counts[req.url] = (counts[req.url] || 0) + 1;
  const rec = {
    path: req.url, n: counts[req.url], method: req.method,
    id: req.headers["webhook-id"], timestamp: req.headers["webhook-timestamp"],
    signature: req.headers["webhook-signature"], contentType: req.headers["content-type"],
    body, verified: verifyWith(p.secrets || [], body, req.headers), hang: !!p.hang,
  };
  rec.status = p.hang ? 0 : p.fail_first && counts[req.url] <= p.fail_first ? 500 : 200;
  fs.appendFileSync(outFile, JSON.stringify(rec) + "\n");
  if (p.hang) return; // never answer: the node's timeout must end it
  res.writeHead(rec.status, { "content-type": "text/plain" });
  res.end(rec.status === 200 ? "ok" : "try again");
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
});
server.listen(Number(port) || 0, "127.0.0.1", () => {
  fs.writeFileSync(readyFile + ".tmp", String(server.address().port));
  fs.renameSync(readyFile + ".tmp", readyFile);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
