#!/usr/bin/env node
// Writes the ABI and bytecode of the contracts the Rust side deploys and calls from forge's
// out/ into bindings/artifacts/, which bindings/src/lib.rs reads with alloy's sol! macro.
// `make bindings` runs it after `forge build`; a cargo test fails when the files are stale.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
// [source, contract, contracts whose ABI joins it]: the Coordinator serves the views of the
// CoordinatorViews it deploys through its fallback, so callers see one ABI with both.
const contracts = [
  ['Coordinator.sol', 'Coordinator', [['CoordinatorViews.sol', 'CoordinatorViews']]],
  ['TestToken.sol', 'TestToken', []],
];

function read(source, name) {
  return JSON.parse(fs.readFileSync(path.join(root, 'out', source, `${name}.json`), 'utf8'));
}

// An ABI entry's identity: its kind, name and input types (a getter both contracts inherit
// appears once).
function key(e) {
  return `${e.type}:${e.name || ''}(${(e.inputs || []).map((i) => i.type).join(',')})`;
}

function minimal(source, name, joined) {
  const a = read(source, name);
  const abi = [...a.abi];
  const seen = new Set(abi.map(key));
  for (const [s, n] of joined) {
    for (const e of read(s, n).abi) {
      if (e.type === 'constructor' || seen.has(key(e))) continue;
      seen.add(key(e));
      abi.push(e);
    }
  }
  return {
    abi,
    bytecode: { object: a.bytecode.object },
    deployedBytecode: { object: a.deployedBytecode.object },
  };
}

const check = process.argv.includes('--check');
let stale = false;
for (const [source, name, joined] of contracts) {
  const text = JSON.stringify(minimal(source, name, joined), null, 1) + '\n';
  const dest = path.join(root, 'bindings', 'artifacts', `${name}.json`);
  const current = fs.existsSync(dest) ? fs.readFileSync(dest, 'utf8') : '';
  if (current === text) continue;
  if (check) {
    console.error(`bindings/artifacts/${name}.json is stale: run \`make bindings\``);
    stale = true;
  } else {
    fs.writeFileSync(dest, text);
    console.log(`wrote bindings/artifacts/${name}.json`);
  }
}
process.exit(stale ? 1 : 0);
