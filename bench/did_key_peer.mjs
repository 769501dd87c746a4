#!/usr/bin/env node
// The peer for bench_did_key: key-did-resolver's getResolver().key driver, called directly
// (no did-resolver wrapper, which would only add parsing) on the same DIDs, round-robin.
//
//   node did_key_peer.mjs DIDS_FILE [SECONDS] [RUNS]
//
// Prints "key: value" lines: dids, resolutions_per_s (best of RUNS).
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const {getResolver} = await import(pathToFileURL(path.join(
  here, '..', 'tests', 'interop', 'node_modules', 'key-did-resolver', 'dist', 'index.js')).href);

const [file, secondsArg, runsArg] = process.argv.slice(2);
const seconds = secondsArg ? Number(secondsArg) : 3;
const runs = runsArg ? Number(runsArg) : 3;
const dids = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const parsed = dids.map((did) => ({did, id: did.slice('did:key:'.length)}));
const resolve = getResolver().key;

async function once(limit) {
  let done = 0;
  const t0 = performance.now();
  let t;
  do {
    for(let k = 0; k < 1000; k++) {
      const p = parsed[done % parsed.length];
      const r = await resolve(p.did, p, null, {});
      if(!r.didDocument) {
        throw new Error(`${p.did}: ${JSON.stringify(r.didResolutionMetadata)}`);
      }
      done++;
    }
    t = (performance.now() - t0) / 1000;
  } while(t < limit);
  return done / t;
}

await once(0.5); // warm up the JIT
let best = 0;
for(let i = 0; i < runs; i++) {
  best = Math.max(best, await once(seconds));
}
console.log(`dids: ${dids.length}`);
console.log(`resolutions_per_s: ${Math.round(best)}`);
