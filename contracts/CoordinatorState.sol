// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ICoordinator} from "./ICoordinator.sol";

// Bit offsets of a job's pending-list links in its word (see `_loadJob`).
uint256 constant PREV = 40;
uint256 constant NEXT = 72;

/// @title CoordinatorState: the Coordinator's storage and the helpers that read it
/// @notice Shared by `Coordinator`, which writes it, and `CoordinatorViews`, whose code the
///         Coordinator runs over its own storage (a delegatecall from its fallback) to serve the
///         views: both inherit this one layout, so the views read exactly the Coordinator's
///         slots, and the Coordinator's runtime code keeps about 3 KB of the 24 KiB limit free.
/// @dev Declares every storage variable of the Coordinator (after Ownable2Step's owner and
///      pending owner): a variable declared in either derived contract would shift nothing
///      here but would be invisible to the other.
abstract contract CoordinatorState is Ownable2Step {
    /// @notice Most leases one prover may hold at once, whatever its bond (fits the uint16 count
    ///         that shares the prover's one hot slot).
    uint256 internal constant MAX_ACTIVE_LEASES = 65_535;
    /// @notice Most circuits (each its own queue, a lane) one Coordinator serves.
    uint256 internal constant MAX_LANES = 255;

    // Packed to fit into 1 slot (248 bits): read and written once per lease/verdict call.
    // Fresh aggregation nodes form a singly linked list of job ids (through the jobs' `next`)
    // in the order they became ready; fresh leaves are served batch by batch, and the head
    // batch's next fresh leaf and how many are left are kept here, so that leasing a leaf reads
    // and writes no batch slot (2,100 gas a job where it was cold, 2,900 written). No count of
    // fresh jobs is kept (the views count them): nothing decides by it.
    //
    // Each circuit id has a queue of its own (a lane, numbered in the order circuits first
    // appear; see `laneOf`), so a prover leases only jobs of circuits it proves: lane 0 in
    // `_queueWord`, the others in `_laneWords`. `lane` is which one this copy is, and
    // `laneBatch` a batch known to be of that lane (neither is stored: a run of verdicts on one
    // batch reads its lane once).
    struct Queue {
        uint8 lane;
        uint32 laneBatch;
        uint32 pendingHead;
        uint32 pendingTail;
        uint32 pendingCount;
        uint32 nextLeaf;
        uint32 aggHead;
        uint32 aggTail;
        uint32 round0Head;
        uint24 leavesLeft;
    }

    // Packed to fit into 1 slot (136 bits): only postBatch, stake and the end of a batch's
    // fresh leaves touch it.
    struct Registry {
        uint32 round0Tail;
        uint32 nextBatchId;
        uint40 nextJobId;
        uint32 proverCount;
        uint8 laneCount;
    }

    // Packed to fit into 1 slot (256 bits): everything `lease` needs to know, the stale age and
    // spare attempts included (a slot read less per lease: 2,100 gas).
    struct Config {
        uint96 bondPerLease;
        uint96 minBond;
        uint24 minReassignAge;
        uint24 staleAge;
        uint8 spareAttempts;
        bool leasingPaused;
    }

    // One source batch's whole proving tree: `leafCount` round-0 jobs, then each aggregation
    // level in order (`TreeShape` in the protocol crate), ids `firstJobId..+jobCount-1`.
    // Packed into 5 slots; slot 2 holds everything lease/submit/verdict read. How many of its
    // leaves were leased is derived: all while it is out of the leaves' queue, none while it
    // waits there, and `Queue.leavesLeft` tells the rest for the batch at its head.
    struct Batch {
        bytes32 witnessRoot;
        bytes32 circuitId;
        uint40 firstJobId;
        uint24 leafCount;
        uint24 jobsLeft;
        uint96 rewardPerJob;
        bool cancelled;
        uint8 lane;
        uint24 jobCount;
        uint32 queuePrev;
        uint32 queueNext;
        address poster;
        bytes32 finalProofHash;
    }

    // Packed to fit into 1 slot (256 bits). The job's latest lease lives here too (attempt,
    // holder, submittedAt, state, and the first 4 bytes of its proof hash, which a verdict
    // must match), so an honest job costs one fresh slot in all: the full proof hash is in
    // `ProofSubmitted` only (a fresh slot less per job: 22,100 gas). Earlier leases move to
    // `_leases` when LRP hands the job on. Once the job is Complete its list links are unused,
    // and `prev` holds the winning attempt. An aggregation node has no slot until its last
    // child completes; then it is Fresh and links to the next fresh node in `next`.
    struct Job {
        ICoordinator.JobStatus status;
        uint32 batchId;
        uint32 prev;
        uint32 next;
        uint32 leasedAt;
        uint24 attempt;
        uint24 holder;
        uint32 submittedAt;
        ICoordinator.LeaseState state;
        bytes4 proofPrefix;
    }

    // One per change of the deadlines, oldest first; a submission is held to the one in force
    // when it was made (from that second on), so a change never applies to earlier ones. Read
    // only on the rare paths (Missing verdicts, expiry).
    struct Deadlines {
        uint32 from;
        uint24 upload;
        uint32 verdict;
    }

    // Packed to fit into 1 slot (232 bits): a lease that is no longer its job's latest.
    struct Lease {
        address prover;
        uint32 submittedAt;
        ICoordinator.LeaseState state;
        bytes4 proofPrefix;
    }

    // Packed to fit into 1 slot (256 bits): everything a lease, a submission and a verdict read
    // or write of a prover, so each touches one slot of it. `id` (assigned at its first stake)
    // is what jobs store instead of its address. `activeLeases` counts leases against the bond
    // (submitted ones until judged); `unsubmitted` those not yet submitted, so a prover whose
    // only leases await verdicts counts as idle. `lapsed`: a lease of this prover's was handed
    // on before it submitted or judged Invalid or Missing, and it has completed no job since.
    // `waiting`: its last `submitAndLease` found no job, so the node its proof readies is handed
    // to it (see `_nodeReady`). Earnings are uint96 like rewards (7.9e28 base units); the bond
    // is uint88 (3.1e26 base units, 309M tokens of 18 decimals) to make room for that flag.
    struct Prover {
        uint88 bond;
        uint96 earnings;
        uint24 id;
        uint16 activeLeases;
        uint16 unsubmitted;
        bool lapsed;
        bool waiting;
    }

    // Packed to fit into 1 slot (160 bits): what only unstaking and slashing touch.
    struct ProverFunds {
        uint96 unbonding;
        uint32 unbondingReadyAt;
        uint32 slashes;
    }

    /// @notice The account allowed to post batches and verdicts.
    address public relayer;
    /// @notice Escrow not yet paid out or refunded, over all batches (in the relayer's slot:
    ///         the posts and verdicts that change it have read that slot already, 2,100 gas
    ///         less per transaction; the token's supply is below 2^96, see ICoordinator).
    uint96 public totalEscrow;
    /// @notice Where slashed funds go.
    address public treasury;
    /// @notice Slashed funds not yet swept to the treasury.
    uint256 public slashedOwed;
    /// @notice Whether a witness root was ever posted.
    mapping(bytes32 root => bool used) public rootUsed;

    // The queue, the configuration and each job are one word each, packed and unpacked by hand
    // (`_loadQueue`, `_storeQueue` and the like): the compiler copies a struct between storage
    // and memory a member at a time, a storage access each, about 1,000 gas more per copy.
    uint256 internal _queueWord;
    Registry internal _registry;
    uint256 internal _configWord;
    uint96 internal _slashAmount;
    uint32 internal _unbondingDelay;
    // Only the hash of announced settings is kept (they are in the announcement's event):
    // `applySettings` takes them back and checks them against it, which keeps the contract
    // under the size limit.
    bytes32 internal _proposedHash;
    uint256 internal _proposedAt;
    Deadlines[] internal _deadlines;

    mapping(uint32 => Batch) internal _batches;
    mapping(uint40 => uint256) internal _jobWords;
    mapping(uint64 => Lease) internal _leases;
    mapping(address => Prover) internal _provers;
    mapping(address => ProverFunds) internal _funds;
    mapping(uint24 => address) internal _proverAt;
    // One bit per job, set when it completes, 256 jobs to a slot (keyed by `jobId >> 8`). A
    // verdict's test of its sibling reads the bit its own completion just warmed (100 gas, not
    // a cold job word's 2,100), and a job won by its only lease needs its word no more: the
    // verdict deletes it (a 4,800 gas refund), the views derive it from the bit.
    mapping(uint256 => uint256) internal _done;
    // Lanes: a circuit's lane plus one (0: not seen yet); the queue words and the leaves'
    // queue tails of lanes past 0 (lane 0's are `_queueWord` and `Registry.round0Tail`, as
    // before lanes, so a one-circuit deployment pays nothing for them).
    mapping(bytes32 circuitId => uint256 lanePlusOne) internal _laneOf;
    mapping(uint256 lane => uint256) internal _laneWords;
    mapping(uint256 lane => uint32) internal _laneTails;

    // How many of batch `batchId`'s leaves are fresh: all while it waits in the leaves' queue
    // behind another batch (then it has a predecessor there), none once out of it.
    function _freshLeaves(Queue memory q, Batch storage b, uint32 batchId)
        internal
        view
        returns (uint256)
    {
        if (batchId == q.round0Head) return q.leavesLeft;
        return b.queuePrev != 0 ? b.leafCount : 0;
    }

    // The job after `jobId` in the pending list, whose stored link is `next`: 0 in a listed job
    // other than the tail means the next id (see `_linkAtTail`). Only for jobs in the list.
    function _after(Queue memory q, uint40 jobId, uint32 next) internal pure returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32 (postBatch)
        return next != 0 || jobId == q.pendingTail ? next : uint32(jobId + 1);
    }

    // The batch holding `jobId`, by binary search over batches' first job ids (0 if none).
    function _batchOf(uint40 jobId) internal view returns (uint32) {
        Registry memory r = _loadRegistry();
        if (jobId == 0 || jobId >= r.nextJobId) return 0;
        uint32 lo = 1;
        uint32 hi = r.nextBatchId - 1;
        while (lo < hi) {
            uint32 mid = lo + (hi - lo + 1) / 2;
            if (_batches[mid].firstJobId <= jobId) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    // Struct copies between storage and memory are long in bytecode; one copy of each keeps
    // the contract under the 24 KiB limit. Jobs, the queue and the configuration are packed by
    // hand, in the order the compiler would pack their structs (low bits first), so a word
    // read or written costs one storage access.
    // forge-lint: disable-start(unsafe-typecast) each field is cut out of its own bits
    function _loadJob(uint40 jobId) internal view returns (Job memory j) {
        uint256 w = _jobWords[jobId];
        j.status = ICoordinator.JobStatus(uint8(w));
        j.batchId = uint32(w >> 8);
        j.prev = uint32(w >> PREV);
        j.next = uint32(w >> NEXT);
        j.leasedAt = uint32(w >> 104);
        j.attempt = uint24(w >> 136);
        j.holder = uint24(w >> 160);
        j.submittedAt = uint32(w >> 184);
        j.state = ICoordinator.LeaseState(uint8(w >> 216));
        j.proofPrefix = bytes4(uint32(w >> 224));
    }

    function _storeJob(uint40 jobId, Job memory j) internal {
        _jobWords[jobId] = uint256(uint8(j.status)) | uint256(j.batchId) << 8 | uint256(j.prev)
            << PREV | uint256(j.next) << NEXT | uint256(j.leasedAt) << 104 | uint256(j.attempt)
            << 136 | uint256(j.holder) << 160 | uint256(j.submittedAt) << 184
            | uint256(uint8(j.state)) << 216 | uint256(uint32(j.proofPrefix)) << 224;
    }

    // Whether job `jobId` is complete (see `_done`).
    function _isDone(uint40 jobId) internal view returns (bool) {
        return _done[jobId >> 8] >> (jobId & 255) & 1 != 0;
    }

    // Marks job `jobId` complete (see `_done`).
    function _markDone(uint40 jobId) internal {
        // forge-lint: disable-next-line(incorrect-shift) the job's bit, not a shift of a count
        _done[jobId >> 8] |= 1 << (jobId & 255);
    }

    // Sets one pending-list link (`PREV` or `NEXT`) of a job, the rest of its word kept.
    function _setLink(uint40 jobId, uint256 at, uint32 to) internal {
        uint256 w = _jobWords[jobId];
        _jobWords[jobId] = (w & ~(uint256(type(uint32).max) << at)) | uint256(to) << at;
    }

    function _loadConfig() internal view returns (Config memory c) {
        uint256 w = _configWord;
        c.bondPerLease = uint96(w);
        c.minBond = uint96(w >> 96);
        c.minReassignAge = uint24(w >> 192);
        c.staleAge = uint24(w >> 216);
        c.spareAttempts = uint8(w >> 240);
        c.leasingPaused = w >> 248 != 0;
    }

    function _storeConfig(Config memory c) internal {
        _configWord = uint256(c.bondPerLease) | uint256(c.minBond) << 96 | uint256(c.minReassignAge)
            << 192 | uint256(c.staleAge) << 216 | uint256(c.spareAttempts) << 240
            | (c.leasingPaused ? uint256(1) << 248 : 0);
    }

    function _loadQueue(uint256 lane) internal view returns (Queue memory q) {
        _unpackQueue(q, lane);
    }

    // Makes `q` lane `lane`'s queue (storing the lane it was, if another): a call that meets
    // jobs of several circuits (verdicts, clearing) follows them from lane to lane.
    function _useLane(Queue memory q, uint256 lane) internal {
        if (q.lane == lane) return;
        _storeQueue(q);
        _unpackQueue(q, lane);
    }

    function _unpackQueue(Queue memory q, uint256 lane) internal view {
        uint256 w = lane == 0 ? _queueWord : _laneWords[lane];
        q.lane = uint8(lane);
        q.pendingHead = uint32(w);
        q.pendingTail = uint32(w >> 32);
        q.pendingCount = uint32(w >> 64);
        q.nextLeaf = uint32(w >> 96);
        q.aggHead = uint32(w >> 128);
        q.aggTail = uint32(w >> 160);
        q.round0Head = uint32(w >> 192);
        q.leavesLeft = uint24(w >> 224);
    }

    function _storeQueue(Queue memory q) internal {
        uint256 w = uint256(q.pendingHead) | uint256(q.pendingTail) << 32 | uint256(q.pendingCount)
            << 64 | uint256(q.nextLeaf) << 96 | uint256(q.aggHead) << 128 | uint256(q.aggTail)
            << 160 | uint256(q.round0Head) << 192 | uint256(q.leavesLeft) << 224;
        if (q.lane == 0) _queueWord = w;
        else _laneWords[q.lane] = w;
    }

    // The last batch in lane `q.lane`'s leaves' queue (0 if it is empty).
    function _round0Tail(Queue memory q, Registry memory r) internal view returns (uint32) {
        return q.lane == 0 ? r.round0Tail : _laneTails[q.lane];
    }

    function _setRound0Tail(Queue memory q, Registry memory r, uint32 batchId) internal {
        if (q.lane == 0) r.round0Tail = batchId;
        else _laneTails[q.lane] = batchId;
    }
    // forge-lint: disable-end(unsafe-typecast)

    function _loadLease(uint64 requestId) internal view returns (Lease memory) {
        return _leases[requestId];
    }

    function _storeLease(uint64 requestId, Lease memory l) internal {
        _leases[requestId] = l;
    }

    // A job's latest lease, kept in the job's slot, as a lease.
    function _latestLease(Job memory j) internal view returns (Lease memory) {
        return Lease(_proverAt[j.holder], j.submittedAt, j.state, j.proofPrefix);
    }

    function _loadRegistry() internal view returns (Registry memory) {
        return _registry;
    }

    function _storeRegistry(Registry memory r) internal {
        _registry = r;
    }

    function _rid(uint40 jobId, uint24 attempt) internal pure returns (uint64) {
        return (uint64(jobId) << 24) | attempt;
    }

    function _split(uint64 requestId) internal pure returns (uint40 jobId, uint24 attempt) {
        // forge-lint: disable-next-line(unsafe-typecast) 64 - 24 = 40 bits; the low 24 bits
        return (uint40(requestId >> 24), uint24(requestId));
    }

    function _cap(uint256 bond, Config memory cfg) internal pure returns (uint256) {
        if (bond < cfg.minBond) return 0;
        uint256 cap = bond / cfg.bondPerLease;
        return cap < MAX_ACTIVE_LEASES ? cap : MAX_ACTIVE_LEASES;
    }

    // The deadlines in force at `time`: the last change applied at or before it (binary search;
    // the first entry is the deployment's, before any submission).
    function _deadlinesAt(uint256 time) internal view returns (uint256 upload, uint256 verdict) {
        uint256 lo;
        uint256 hi = _deadlines.length - 1;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            if (_deadlines[mid].from <= time) lo = mid;
            else hi = mid - 1;
        }
        Deadlines memory d = _deadlines[lo];
        return (d.upload, d.verdict);
    }
}
