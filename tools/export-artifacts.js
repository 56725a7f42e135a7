#!/usr/bin/env node
// Writes the ABI and bytecode of the contracts the Rust side deploys and calls from forge's
// out/ into bindings/artifacts/, which bindings/src/lib.rs reads with alloy's sol! macro.
// `make bindings` runs it after `forge build`; a cargo test fails when the files are stale.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const contracts = [
  ['Coordinator.sol', 'Coordinator'],
  ['TestToken.sol', 'TestToken'],
];

function minimal(source, name) {
  const file = path.join(root, 'out', source, `${name}.json`);
  const a = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    abi: a.abi,
    bytecode: { object: a.bytecode.object },
    deployedBytecode: { object: a.deployedBytecode.object },
  };
}

const check = process.argv.includes('--check');
let stale = false;
for (const [source, name] of contracts) {
  const text = JSON.stringify(minimal(source, name), null, 1) + '\n';
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
