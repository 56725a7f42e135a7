#!/usr/bin/env bash
# One lease/submit/verdict cycle against the Coordinator on a fresh anvil, with cast:
# deploy (script/Deploy.s.sol), stake, post a batch, lease, submit, judge, withdraw.
# Prints what happened and the gas of every transaction, then stops anvil.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=node_modules/.bin
PORT=${DEMO_PORT:-8546}
RPC=http://127.0.0.1:$PORT
# anvil's well-known dev accounts (mnemonic "test test ... junk"): 0 = operator, 1 = prover.
OP_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
PROVER_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
PROVER=$($BIN/cast wallet address "$PROVER_KEY")

log=$(mktemp)
$BIN/anvil --port "$PORT" --silent >"$log" 2>&1 &
anvil_pid=$!
trap 'kill $anvil_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  $BIN/cast chain-id --rpc-url "$RPC" >/dev/null 2>&1 && break
  kill -0 $anvil_pid 2>/dev/null || { cat "$log"; echo "anvil did not start" >&2; exit 1; }
  sleep 0.1 # waiting for anvil to listen
done

say() { printf '\n== %s\n' "$*"; }
send() { # send <key> <to> <sig> [args...]: prints the tx's gas used, returns the receipt JSON in $RECEIPT
  local key=$1; shift
  RECEIPT=$($BIN/cast send --json --private-key "$key" --rpc-url "$RPC" "$@")
  printf '   %-48s gas used %s\n' "$2" "$(node -pe 'BigInt(JSON.parse(require("fs").readFileSync(0))).toString()' <<<"$(node -pe 'JSON.stringify(JSON.parse(process.argv[1]).gasUsed)' "$RECEIPT")")"
}

say "deploy (forge script script/Deploy.s.sol)"
rm -rf broadcast/Deploy.s.sol/31337 # never read a stale deployment
PRIVATE_KEY=$OP_KEY PARAM_DELAY=60 UNBONDING_DELAY=60 UPLOAD_DEADLINE=10 \
  $BIN/forge script script/Deploy.s.sol --rpc-url "$RPC" --broadcast --silent >/dev/null
read -r TOKEN COORD < <(node -e '
  const r = require("./broadcast/Deploy.s.sol/31337/run-latest.json");
  const a = r.transactions.filter(t => t.transactionType === "CREATE");
  console.log(a.find(t => t.contractName === "TestToken").contractAddress,
              a.find(t => t.contractName === "Coordinator").contractAddress);')
echo "   token       $TOKEN"
echo "   coordinator $COORD"

say "prover $PROVER stakes 20 CPT (two leases' worth)"
send "$PROVER_KEY" "$TOKEN" "mint(address,uint256)" "$PROVER" 20ether
send "$PROVER_KEY" "$TOKEN" "approve(address,uint256)" "$COORD" 20ether
send "$PROVER_KEY" "$COORD" "stake(uint256)" 20ether

say "relayer posts a batch of 4 leaves (a tree of 7 jobs) at 1 CPT each"
OP=$($BIN/cast wallet address "$OP_KEY")
send "$OP_KEY" "$TOKEN" "mint(address,uint256)" "$OP" 7ether
send "$OP_KEY" "$TOKEN" "approve(address,uint256)" "$COORD" 7ether
send "$OP_KEY" "$COORD" "postBatch(bytes32,uint24,uint96,bytes32)" \
  "$($BIN/cast keccak demo-witness-root)" 4 1ether "$($BIN/cast keccak demo-circuit)"

say "prover leases a job"
send "$PROVER_KEY" "$COORD" "lease()"
read -r RID JOB < <(node -e '
  const r = JSON.parse(process.argv[1]);
  // JobLeased(requestId indexed, prover indexed, previousHolder): the job is requestId >> 24.
  const l = r.logs.find(l => l.topics.length === 3);
  const rid = BigInt(l.topics[1]);
  console.log(rid.toString(), (rid >> 24n).toString());' "$RECEIPT")
echo "   request id $RID (job $JOB, attempt $((RID & 0xffffff)))"

say "prover submits its proof hash; relayer records the verdict Valid"
PROOF_HASH=$($BIN/cast keccak "demo proof bytes")
send "$PROVER_KEY" "$COORD" "submitProof(uint64,bytes32)" "$RID" "$PROOF_HASH"
send "$OP_KEY" "$COORD" "recordVerdicts((uint64,address,uint8,bytes32)[])" "[($RID,$PROVER,1,$PROOF_HASH)]"

say "state on chain"
echo "   job $JOB (status, batch, latest request, leased at, winning request):"
$BIN/cast call --rpc-url "$RPC" "$COORD" "job(uint40)(uint8,uint32,uint64,uint32,uint64)" "$JOB" | sed 's/^/     /'
echo "   prover (bond, unbonding, ready at, active leases, earnings, leases to submit, slashes):"
$BIN/cast call --rpc-url "$RPC" "$COORD" "prover(address)(uint256,uint256,uint256,uint256,uint256,uint256,uint256)" "$PROVER" | sed 's/^/     /'
echo "   queue (fresh, pending, head, tail):"
$BIN/cast call --rpc-url "$RPC" "$COORD" "queue()(uint256,uint256,uint40,uint40)" | sed 's/^/     /'

say "prover withdraws its earnings"
send "$PROVER_KEY" "$COORD" "withdrawEarnings()"
echo "   prover's token balance: $($BIN/cast call --rpc-url "$RPC" "$TOKEN" "balanceOf(address)(uint256)" "$PROVER")"
say "done; anvil stops"
