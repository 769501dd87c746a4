#!/usr/bin/env node
// The peer for bench_merkle_root: the same RFC 9162 root computed with merkletreejs.
//
//   node merkle_root_peer.js DIGEST_FILE [EXPECTED_ROOT_HEX] [RUNS]
//
// DIGEST_FILE holds raw 32-byte digests (bench_merkle_root -o). merkletreejs pairs nodes bottom
// up and, without duplicateOdd/complete/sort options, promotes an odd last node unchanged to the
// next layer: that is exactly the shape of RFC 9162's "split at the largest power of two smaller
// than n". Only the hashing differs, so:
//  - leaves are pre-hashed here as SHA-256(0x00 || d) (timed, like the C side) and passed with
//    hashLeaves: false;
//  - an interior node is hashFn(concatenator([left, right])) (MerkleTree.createHashes), so the
//    concatenator prepends 0x01 and hashFn is plain SHA-256 from Node's crypto (OpenSSL).
// Prints "key: value" lines; exits 1 if the root differs from EXPECTED_ROOT_HEX.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const { MerkleTree } = require(path.join(__dirname, 'node_modules', 'merkletreejs'));

const [file, expected, runsArg] = process.argv.slice(2);
if (!file) {
    console.error('usage: node merkle_root_peer.js DIGEST_FILE [EXPECTED_ROOT_HEX] [RUNS]');
    process.exit(2);
}
const runs = runsArg ? parseInt(runsArg, 10) : 3;
const data = fs.readFileSync(file);
if (data.length === 0 || data.length % 32 !== 0) {
    console.error(`${file}: not a whole number of 32-byte digests`);
    process.exit(2);
}
const n = data.length / 32;
const digests = [];
for (let i = 0; i < n; i++) digests.push(data.subarray(32 * i, 32 * i + 32));

// crypto.hash (Node >= 20.12) is the one-shot form; fall back to createHash on older Nodes.
const sha256 = typeof crypto.hash === 'function'
    ? (buf) => crypto.hash('sha256', buf, 'buffer')
    : (buf) => crypto.createHash('sha256').update(buf).digest();
const P0 = Buffer.from([0x00]);
const P1 = Buffer.from([0x01]);

let best = Infinity;
let root = null;
for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const leaves = new Array(n);
    for (let i = 0; i < n; i++) leaves[i] = sha256(Buffer.concat([P0, digests[i]]));
    const tree = new MerkleTree(leaves, sha256, {
        hashLeaves: false,
        concatenator: (bufs) => Buffer.concat([P1, ...bufs]),
    });
    const got = tree.getRoot().toString('hex');
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < best) best = dt;
    if (root !== null && root !== got) {
        console.error('merkletreejs runs disagree on the root');
        process.exit(1);
    }
    root = got;
}

const version = require(path.join(__dirname, 'node_modules', 'merkletreejs', 'package.json')).version;
console.log(`peer: merkletreejs ${version} on Node ${process.version}`);
console.log(`digests: ${n}`);
console.log(`runs: ${runs}`);
console.log(`best_seconds: ${best.toFixed(6)}`);
console.log(`digests_per_s: ${Math.round(n / best)}`);
console.log(`root: ${root}`);
if (expected && expected.toLowerCase() !== root) {
    console.error(`ROOT MISMATCH: merkletreejs ${root} != expected ${expected}`);
    process.exit(1);
}
