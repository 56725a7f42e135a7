// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICoordinator} from "./ICoordinator.sol";
import {CoordinatorState, NEXT, PREV} from "./CoordinatorState.sol";
import {CoordinatorViews} from "./CoordinatorViews.sol";

/// @title Coordinator: CrowdProve's Job Distributor as a contract
/// @notice See ICoordinator for the protocol. Storage is packed so that the hot paths (lease,
///         submit, verdict) touch as few slots as possible: one slot per job (its latest lease
///         and the first 4 bytes of its proof hash included), one per prover, one queue slot
///         shared by all; an honest job creates one slot in all (docs/results/gas.md).
contract Coordinator is CoordinatorState, ICoordinator, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Most jobs one batch may hold.
    uint256 public constant MAX_JOBS_PER_BATCH = 1 << 20;
    /// @notice Most jobs one `leaseMany` call may lease.
    uint256 internal constant MAX_LEASES_PER_CALL = 16;
    /// @notice Most entries of one `recordVerdicts` call.
    uint256 internal constant MAX_VERDICTS_PER_CALL = 256;
    /// @notice Most entries of one `clearCancelled` call.
    uint256 internal constant MAX_CLEAR_PER_CALL = 256;
    /// @notice Most cancelled jobs one lease clears from the pending list's head.
    uint256 internal constant MAX_CLEAR_PER_LEASE = 8;
    /// @notice Job ids stay below this (2^32), so the pending list's links fit the job's slot.
    uint256 internal constant MAX_JOB_ID = (1 << 32) - 1;
    /// @notice Prover ids stay below this (2^24), so a job's holder fits the job's slot.
    uint256 internal constant MAX_PROVERS = (1 << 24) - 1;
    /// @notice Upper bound of the minimum reassign age.
    uint256 public constant MAX_MIN_REASSIGN_AGE = 1 days;
    /// @notice Bounds of the upload deadline: long enough to upload, short enough to move on.
    uint256 internal constant MIN_UPLOAD_DEADLINE = 10;
    /// @notice Upper bound of the upload deadline.
    uint256 internal constant MAX_UPLOAD_DEADLINE = 1 days;
    /// @notice Upper bound of the settings' announcement delay.
    uint256 internal constant MAX_PARAM_DELAY = 30 days;
    /// @notice Bounds of the verdict deadline: time for a relayer's outage, not for a bond to
    ///         stay trapped.
    uint256 internal constant MIN_VERDICT_DEADLINE = 1 hours;
    /// @notice Upper bound of the verdict deadline.
    uint256 internal constant MAX_VERDICT_DEADLINE = 30 days;
    /// @notice The verdict deadline at deployment.
    uint32 public constant DEFAULT_VERDICT_DEADLINE = 2 days;
    /// @notice Most leases one job may have (the attempt part of a request id is 24 bits). A
    ///         job's last possible lease leaves it out of the pending list: nobody can take it
    ///         over, and it blocks no other job; its holder can still complete it.
    uint256 public constant MAX_ATTEMPTS = (1 << 24) - 1;
    /// @notice Upper bound of `spareAttempts`.
    uint256 public constant MAX_SPARE_ATTEMPTS = 8;
    /// @notice `spareAttempts` at deployment: a job leased at most twice goes at once to an
    ///         idle prover that has not lapsed, so two spares at most (the simulator's choice,
    ///         docs/results/sim-rules.md).
    uint8 public constant DEFAULT_SPARE_ATTEMPTS = 2;

    /// @notice The token of bonds, rewards and slashes.
    IERC20 public immutable token;
    /// @notice Seconds between announcing and applying settings; bounds the unbonding delay, so
    ///         a prover who dislikes an announcement can leave before it applies.
    uint256 public immutable paramDelay;
    // The CoordinatorViews this contract deployed, whose code serves the views (`fallback`).
    address internal immutable _views;

    modifier onlyRelayer() {
        if (msg.sender != relayer) revert NotRelayer();
        _;
    }

    /// @notice Deploys a coordinator for `token_`, owned by `owner_`.
    /// @param token_ Token of bonds and rewards (a plain ERC20).
    /// @param owner_ Sets parameters and rotates the relayer.
    /// @param relayer_ Posts batches and verdicts.
    /// @param treasury_ Receives slashed funds.
    /// @param paramDelay_ Announcement delay of stake parameters, at most MAX_PARAM_DELAY.
    /// @param stakeParams_ Initial bond per lease, minimum bond and slash amount.
    /// @param minReassignAge_ Initial minimum reassign age.
    /// @param uploadDeadline_ Initial upload deadline.
    /// @param unbondingDelay_ Initial unbonding delay (at most `paramDelay_`).
    constructor(
        IERC20 token_,
        address owner_,
        address relayer_,
        address treasury_,
        uint256 paramDelay_,
        StakeParams memory stakeParams_,
        uint24 minReassignAge_,
        uint24 uploadDeadline_,
        uint32 unbondingDelay_
    ) Ownable(owner_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (paramDelay_ > MAX_PARAM_DELAY) revert ParamOutOfBounds();
        token = token_;
        paramDelay = paramDelay_;
        _views = address(new CoordinatorViews());
        _registry =
            Registry({round0Tail: 0, nextBatchId: 1, nextJobId: 1, proverCount: 0, laneCount: 0});
        Settings memory s = Settings({
            stake: stakeParams_,
            minReassignAge: minReassignAge_,
            uploadDeadline: uploadDeadline_,
            unbondingDelay: unbondingDelay_,
            verdictDeadline: DEFAULT_VERDICT_DEADLINE,
            relayer: relayer_,
            treasury: treasury_
        });
        _checkSettings(s, paramDelay_);
        _applySettings(s);
        Config memory c = _loadConfig();
        c.spareAttempts = DEFAULT_SPARE_ATTEMPTS;
        _storeConfig(c);
    }

    /// @notice Serves the views (ICoordinatorViews) by running the code of the CoordinatorViews
    ///         deployed in the constructor over this contract's storage. That code only reads;
    ///         a call that is not a view reverts there (it has no fallback), and so does value.
    fallback() external {
        address impl = _views;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ================================================================== relayer

    /// @inheritdoc ICoordinator
    function postBatch(
        bytes32 witnessRoot,
        uint24 leafCount,
        uint96 rewardPerJob,
        bytes32 circuitId
    ) external onlyRelayer nonReentrant returns (uint32 batchId) {
        if (witnessRoot == 0 || rootUsed[witnessRoot]) {
            revert RootAlreadyUsed(witnessRoot);
        }
        uint256 jobCount = _treeSize(leafCount);
        if (leafCount == 0 || jobCount > MAX_JOBS_PER_BATCH) revert BadJobCount(leafCount);
        if (circuitId == 0) revert ZeroCircuitId();

        uint40 firstJobId;
        (batchId, firstJobId) = _createBatch(leafCount, jobCount, circuitId);
        Batch storage b = _batches[batchId];
        b.witnessRoot = witnessRoot;
        b.circuitId = circuitId;
        b.rewardPerJob = rewardPerJob;
        b.poster = msg.sender;
        rootUsed[witnessRoot] = true;
        uint256 escrow = jobCount * rewardPerJob;
        totalEscrow = SafeCast.toUint96(totalEscrow + escrow);
        // forge-lint: disable-next-line(unsafe-typecast) jobCount <= MAX_JOBS_PER_BATCH < 2^24
        uint24 count = uint24(jobCount);
        emit BatchPosted(
            batchId, witnessRoot, firstJobId, leafCount, count, rewardPerJob, circuitId
        );
        if (escrow != 0) token.safeTransferFrom(msg.sender, address(this), escrow);
    }

    /// @inheritdoc ICoordinator
    function cancelBatch(uint32 batchId) external nonReentrant {
        if (msg.sender != relayer && msg.sender != owner()) revert NotRelayerOrOwner();
        Batch storage b = _existingBatch(batchId);
        if (b.cancelled) revert BatchIsCancelled(batchId);
        if (b.finalProofHash != 0) revert BatchIsFinalized(batchId);

        Queue memory q = _loadQueue(b.lane);
        // Its fresh leaves leave the leaves' queue. Its fresh aggregation nodes stay linked
        // until a lease meets them at the head of the fresh-node list and drops them; they stop
        // counting as fresh now (the views count only those of live batches).
        if (_freshLeaves(q, b, batchId) != 0) {
            Registry memory r = _loadRegistry();
            _unlinkFresh(q, r, batchId);
            _storeRegistry(r);
            _storeQueue(q);
        }
        b.cancelled = true;
        uint256 refund = uint256(b.jobsLeft) * b.rewardPerJob;
        // forge-lint: disable-next-line(unsafe-typecast) at most totalEscrow, a uint96
        totalEscrow -= uint96(refund);
        // To whoever escrowed it: an owner that cancels takes nothing, nor does a later relayer.
        address to = b.poster;
        emit BatchCancelled(batchId, to, refund);
        if (refund != 0) token.safeTransfer(to, refund);
    }

    /// @inheritdoc ICoordinator
    function recordVerdicts(Verdict[] calldata verdicts) external onlyRelayer {
        uint256 n = verdicts.length;
        if (n == 0 || n > MAX_VERDICTS_PER_CALL) revert BadArrayLength();
        // Lane 0's queue to start with; a verdict on another circuit's job switches (`_complete`).
        Queue memory q = _loadQueue(0);
        uint256 paid;
        uint256 slashed;
        for (uint256 i; i < n; ++i) {
            (uint256 p, uint256 s) = _applyVerdict(q, verdicts[i]);
            paid += p;
            slashed += s;
        }
        _storeQueue(q);
        // forge-lint: disable-next-line(unsafe-typecast) at most totalEscrow, a uint96
        if (paid != 0) totalEscrow -= uint96(paid);
        if (slashed != 0) slashedOwed += slashed;
    }

    // ================================================================== provers

    /// @inheritdoc ICoordinator
    function lease() external returns (uint64 requestId, uint40 jobId) {
        (, requestId, jobId) = _lease(1, false, new uint64[](0), new uint40[](0), _loadQueue(0));
    }

    /// @inheritdoc ICoordinator
    function leaseMany(uint256 n)
        external
        returns (uint64[] memory requestIds, uint40[] memory jobIds)
    {
        return leaseFrom(0, n);
    }

    /// @inheritdoc ICoordinator
    function leaseFrom(uint8 lane, uint256 n)
        public
        returns (uint64[] memory requestIds, uint40[] memory jobIds)
    {
        if (n == 0 || n > MAX_LEASES_PER_CALL) revert BadLeaseCount(n);
        requestIds = new uint64[](n);
        jobIds = new uint40[](n);
        (uint256 got,,) = _lease(n, false, requestIds, jobIds, _loadQueue(lane));
        assembly ("memory-safe") {
            mstore(requestIds, got)
            mstore(jobIds, got)
        }
    }

    /// @inheritdoc ICoordinator
    function submitProof(uint64 requestId, bytes32 proofHash) external {
        _submit(requestId, proofHash);
    }

    /// @inheritdoc ICoordinator
    function submitAndLease(uint64 requestId, bytes32 proofHash)
        external
        returns (uint64 nextRequestId, uint40 jobId)
    {
        // A lease handed on since (not the job's latest) chains none: the stale job it would
        // take could be the very job just submitted.
        (bool latest, uint8 lane) = _submit(requestId, proofHash);
        // The next job comes from the same circuit's lane: the caller proves that circuit.
        // Nothing fresh (a tree's tail, most often): no lease is tried, 7k gas less. (A node of
        // a cancelled batch may still be listed: then a lease is tried and finds nothing.)
        Queue memory q = _loadQueue(lane);
        if (latest && (q.round0Head != 0 || q.aggHead != 0)) {
            (, nextRequestId, jobId) = _lease(1, true, new uint64[](0), new uint40[](0), q);
            if (jobId != 0) return (nextRequestId, jobId);
        }
        // Nothing to lease now: the node this proof readies, if it does, comes with its verdict.
        _provers[msg.sender].waiting = true;
    }

    /// @inheritdoc ICoordinator
    function releaseLease(uint64 requestId) external {
        (uint40 jobId, uint24 attempt) = _split(requestId);
        Job memory j = _loadJob(jobId);
        _heldLease(requestId, attempt, j, _provers[msg.sender]);
        // An earlier lease was handed on: it no longer counts, and the job is someone else's.
        if (attempt != j.attempt) revert NotLeaseHolder(requestId);
        if (j.status != JobStatus.Pending) revert JobNotPending(jobId);
        Batch storage b = _batches[j.batchId];
        Queue memory q = _loadQueue(b.lane);
        if (b.cancelled) {
            _clear(q, jobId);
        } else {
            if (j.attempt == MAX_ATTEMPTS) revert LastAttempt(requestId);
            _releaseUnsubmitted(j);
            _provers[msg.sender].waiting = false;
            _unlinkPending(q, jobId, j);
            _linkAtHead(q, jobId, j);
            j.state = LeaseState.Released;
            _storeJob(jobId, j);
            emit LeaseReleased(requestId, msg.sender);
        }
        _storeQueue(q);
    }

    /// @inheritdoc ICoordinator
    function stake(uint256 amount) external nonReentrant {
        Prover storage p = _provers[msg.sender];
        uint256 bond = uint256(p.bond) + amount;
        if (amount == 0 || bond > type(uint88).max) revert BadAmount();
        // forge-lint: disable-next-line(unsafe-typecast) checked against uint88 max above
        p.bond = uint88(bond);
        if (p.id == 0) {
            uint32 id = ++_registry.proverCount;
            if (id > MAX_PROVERS) revert BadAmount();
            // forge-lint: disable-next-line(unsafe-typecast) id <= MAX_PROVERS < 2^24
            uint24 short = uint24(id);
            p.id = short;
            _proverAt[short] = msg.sender;
        }
        emit Staked(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICoordinator
    function requestUnstake(uint256 amount) external {
        Prover storage p = _provers[msg.sender];
        ProverFunds storage f = _funds[msg.sender];
        uint256 bond = p.bond;
        uint256 locked = uint256(p.activeLeases) * _loadConfig().bondPerLease;
        uint256 free = bond > locked ? bond - locked : 0;
        if (amount == 0) revert BadAmount();
        if (amount > free) revert BondLocked(amount, free);
        uint256 unbonding = uint256(f.unbonding) + amount;
        if (unbonding > type(uint96).max) revert BadAmount();
        uint256 readyAt = block.timestamp + _unbondingDelay;
        // forge-lint: disable-start(unsafe-typecast) amount <= free <= bond; unbonding checked
        // above; readyAt = now + at most 30 days fits 32 bits until 2106, as leasedAt does
        p.bond = uint88(bond - amount);
        f.unbonding = uint96(unbonding);
        f.unbondingReadyAt = uint32(readyAt);
        // forge-lint: disable-end(unsafe-typecast)
        emit UnstakeRequested(msg.sender, amount, readyAt);
    }

    /// @inheritdoc ICoordinator
    function withdrawUnstaked() external nonReentrant {
        ProverFunds storage f = _funds[msg.sender];
        uint256 amount = f.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < f.unbondingReadyAt) revert StillUnbonding(f.unbondingReadyAt);
        f.unbonding = 0;
        f.unbondingReadyAt = 0;
        emit Unstaked(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ICoordinator
    function withdrawEarnings() external nonReentrant {
        Prover storage p = _provers[msg.sender];
        uint256 amount = p.earnings;
        if (amount == 0) revert NothingToWithdraw();
        p.earnings = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ICoordinator
    function clearCancelled(uint40[] calldata jobIds) external {
        uint256 n = jobIds.length;
        if (n == 0 || n > MAX_CLEAR_PER_CALL) revert BadArrayLength();
        Queue memory q = _loadQueue(_batches[_loadJob(jobIds[0]).batchId].lane);
        for (uint256 i; i < n; ++i) {
            uint40 jobId = jobIds[i];
            Job memory j = _loadJob(jobId);
            Batch storage b = _batches[j.batchId];
            if (j.status == JobStatus.Pending && b.cancelled) {
                _useLane(q, b.lane);
                _clear(q, jobId);
            }
        }
        // A lease drops a bounded number of them and reverts when it finds nothing else, so
        // a live node behind more cancelled ones than that needs this way out (in the lane of
        // the jobs named last).
        _freshNode(q, MAX_CLEAR_PER_CALL);
        _storeQueue(q);
    }

    /// @inheritdoc ICoordinator
    function sweepSlashed() external nonReentrant {
        uint256 amount = slashedOwed;
        if (amount == 0) revert NothingToWithdraw();
        slashedOwed = 0;
        address to = treasury;
        emit SlashesSwept(to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc ICoordinator
    function applySettings(Settings calldata settings_) external {
        uint256 at = _proposedAt;
        if (at == 0 || block.timestamp < at || keccak256(abi.encode(settings_)) != _proposedHash) {
            revert NoSettingsDue();
        }
        _proposedHash = 0;
        _proposedAt = 0;
        _applySettings(settings_);
    }

    /// @inheritdoc ICoordinator
    function expireSubmission(uint64 requestId) external {
        (uint40 jobId, uint24 attempt) = _split(requestId);
        Job memory j = _loadJob(jobId);
        bool latest = attempt == j.attempt;
        Lease memory l = latest ? _latestLease(j) : _loadLease(requestId);
        // An unknown request id reads as a lease in state None.
        if (l.state != LeaseState.Submitted) revert NotExpired(0);
        (uint256 upload, uint256 verdict) = _deadlinesAt(l.submittedAt);
        uint256 due = l.submittedAt + upload + verdict;
        if (block.timestamp < due) revert NotExpired(due);
        if (latest) {
            j.state = LeaseState.Expired;
            _storeJob(jobId, j);
        } else {
            _leases[requestId].state = LeaseState.Expired;
        }
        _provers[l.prover].activeLeases -= 1;
        emit SubmissionExpired(requestId, l.prover);
    }

    // ================================================================== owner

    /// @inheritdoc ICoordinator
    function proposeSettings(Settings calldata settings_) external onlyOwner {
        _checkSettings(settings_, paramDelay);
        uint256 at = block.timestamp + paramDelay;
        _proposedHash = keccak256(abi.encode(settings_));
        _proposedAt = at;
        emit SettingsProposed(settings_, at);
    }

    /// @inheritdoc ICoordinator
    function setStaleAge(uint24 staleAge_) external onlyOwner {
        if (staleAge_ > MAX_MIN_REASSIGN_AGE) revert ParamOutOfBounds();
        Config memory c = _loadConfig();
        c.staleAge = staleAge_;
        _storeConfig(c);
        emit StaleAgeChanged(staleAge_);
    }

    /// @inheritdoc ICoordinator
    function setSpareAttempts(uint8 spareAttempts_) external onlyOwner {
        if (spareAttempts_ > MAX_SPARE_ATTEMPTS) revert ParamOutOfBounds();
        Config memory c = _loadConfig();
        c.spareAttempts = spareAttempts_;
        _storeConfig(c);
        emit SpareAttemptsChanged(spareAttempts_);
    }

    /// @inheritdoc ICoordinator
    function setLeasingPaused(bool paused_) external onlyOwner {
        Config memory c = _loadConfig();
        c.leasingPaused = paused_;
        _storeConfig(c);
        emit LeasingPaused(paused_);
    }

    // ================================================================== leasing internals

    // Leases up to `n` jobs for msg.sender from `q`, the queue of a lane as the caller read it.
    // The queue slot is read once and written once; other
    // provers' counts are updated in storage, the caller's at the end (it is never the previous
    // holder of a job it takes, but clearing may lower its count, hence no cached copy). A
    // `chained` lease comes right after the caller's submission (`submitAndLease`): it leases a
    // fresh job if there is one the bond backs, maybe nothing, and never reverts; it takes no
    // pending job (that is `lease`'s, for a prover with nothing else to do). Each lease goes
    // into `requestIds` and `jobIds` while they have room; a single lease passes empty arrays
    // and gets it returned (no arrays of results to fill and return, about 250 gas).
    function _lease(
        uint256 n,
        bool chained,
        uint64[] memory requestIds,
        uint40[] memory jobIds,
        Queue memory q
    ) internal returns (uint256 got, uint64 requestId, uint40 jobId) {
        Config memory cfg = _loadConfig();
        Prover storage p = _provers[msg.sender];
        n = _room(n, p.activeLeases, p.bond, cfg, !chained);
        // Busy: holding a lease not yet submitted. One whose leases all await verdicts is idle.
        uint256 unsubmitted = p.unsubmitted;

        while (got < n) {
            address previousHolder;
            (jobId, requestId, previousHolder) =
                _takeJob(q, cfg, p, unsubmitted + got != 0, chained);
            if (jobId == 0) break;
            if (got < requestIds.length) (requestIds[got], jobIds[got]) = (requestId, jobId);
            ++got;
            emit JobLeased(requestId, msg.sender, previousHolder);
        }
        // Nothing leased: if it cleared cancelled jobs on its way (the heads moved from those in
        // storage, written only below), keep that, so any number of them goes a bounded number
        // per call instead of blocking for good.
        if (!chained && got == 0 && _heads(q) == _heads(_loadQueue(q.lane))) {
            revert NoJobAvailable();
        }
        _storeQueue(q);
        // forge-lint: disable-start(unsafe-typecast) active + got <= cap <= MAX_ACTIVE_LEASES
        p.activeLeases = uint16(p.activeLeases + got);
        p.unsubmitted = uint16(p.unsubmitted + got);
        // forge-lint: disable-end(unsafe-typecast)
    }

    // How many of `n` leases the bond backs on top of `active` (0 while leasing is paused); a
    // `strict` call reverts instead of leasing none for either reason.
    function _room(uint256 n, uint256 active, uint256 bond, Config memory cfg, bool strict)
        internal
        pure
        returns (uint256)
    {
        uint256 cap = _cap(bond, cfg);
        uint256 room = active < cap && !cfg.leasingPaused ? cap - active : 0;
        if (strict) {
            if (cfg.leasingPaused) revert LeasingIsPaused();
            if (room == 0) revert LeaseCapReached(active, cap);
        }
        return n < room ? n : room;
    }

    // Both list heads in one word: a lease that moved either cleared cancelled jobs.
    function _heads(Queue memory q) internal pure returns (uint256) {
        return uint256(q.pendingHead) << 32 | q.aggHead;
    }

    // Picks the next job under the protocol's order and makes the caller its latest holder at
    // the pending list's tail. Within a tree, fresh leaves go before fresh aggregation nodes:
    // the job farthest from the top first (Hu's rule, optimal for trees of equal jobs; the
    // simulator measured 37.6 min against 40.2 for aggregation first, docs/results/sim-rules.md).
    // Fresh aggregation nodes of a tree older than every tree with fresh leaves go first, so a
    // stream of batches never starves a tree's top. A stale pending job (see `staleAge`) goes
    // before any fresh job, a `submitAndLease`'s included: a hoarded job holds up its parent and
    // everything above it, a fresh job only itself (in the simulator, 20% of the provers
    // hoarding late cost 1.08x instead of 1.20x, docs/results/sim-rules.md); other pending jobs
    // only when nothing is fresh (LRP). A prover that holds a lease not yet submitted (`busy`)
    // gets fresh leaves only: a node or another prover's job would wait behind its own, and
    // they are the critical path (a busy prover's lease-ahead held a ready node for 30 s while
    // another prover idled, in a devnet run). A prover that has lapsed is kept off the critical
    // path while there is a minimum age: no stale job, no fresh node, no spare (see
    // `spareAttempts`), and from the pending list only a job nobody holds or one held for twice
    // the stale age (nobody in good standing took it: a crashed holder's); else a persistent
    // hoarder, its lease handed on, takes the next stale job or ready node and holds that one
    // too (in the simulator, 20% of the provers doing so from the tree's tail cost 1.15x; kept
    // off, 1.10x). A `freshOnly` lease takes no other pending job. `caller` is the caller's
    // slot.
    function _takeJob(
        Queue memory q,
        Config memory cfg,
        Prover storage caller,
        bool busy,
        bool freshOnly
    ) internal returns (uint40 jobId, uint64 requestId, address previousHolder) {
        // Without a minimum age every lease handed on lapses its holder, honest ones included.
        bool lapsed = caller.lapsed && cfg.minReassignAge != 0;
        bool critical = !busy && !lapsed;
        if (cfg.staleAge != 0 && critical) {
            (jobId, requestId, previousHolder) =
                _takeFromPendingHead(q, cfg, caller.id, cfg.staleAge, false);
            if (jobId != 0) return (jobId, requestId, previousHolder);
        }
        // The head tree's leaves go before its own nodes: a node at the fresh head past its next
        // leaf is its own (later trees' leaves are not out yet), and its word and batch need
        // not be read.
        if (critical && (q.round0Head == 0 || q.aggHead < q.nextLeaf)) {
            jobId = _freshNode(q, MAX_CLEAR_PER_LEASE);
        }
        uint32 batchId;
        if (jobId != 0) batchId = _loadJob(jobId).batchId;
        uint32 leaves = q.round0Head;
        if (leaves != 0 && (jobId == 0 || batchId >= leaves)) {
            batchId = leaves;
            jobId = _takeFreshLeaf(q, leaves);
        } else if (jobId != 0) {
            _takeFreshNode(q, jobId);
        } else {
            if (busy || freshOnly) return (0, 0, address(0));
            return _takeFromPendingHead(q, cfg, caller.id, 0, !lapsed);
        }
        return (jobId, _leaseFirst(q, jobId, batchId, caller.id), address(0));
    }

    // Makes `holder` the first holder of `jobId` (of batch `batchId`), at the pending list's
    // tail; returns the lease's request id.
    function _leaseFirst(Queue memory q, uint40 jobId, uint32 batchId, uint24 holder)
        internal
        returns (uint64)
    {
        _storeJob(
            jobId,
            Job({
                status: JobStatus.Pending,
                batchId: batchId,
                prev: q.pendingTail,
                next: 0,
                leasedAt: uint32(block.timestamp),
                attempt: 1,
                holder: holder,
                submittedAt: 0,
                state: LeaseState.Leased,
                proofPrefix: 0
            })
        );
        _linkAtTail(q, jobId);
        return _rid(jobId, 1);
    }

    // The next fresh leaf of the batch at the head of the leaves' queue; the batch leaves the
    // queue with its last fresh leaf.
    function _takeFreshLeaf(Queue memory q, uint32 batchId) internal returns (uint40 jobId) {
        jobId = q.nextLeaf;
        q.leavesLeft -= 1;
        // After the last, the next batch's (id 2^32 - 1 can be the last: no `+ 1` past it).
        if (q.leavesLeft != 0) {
            q.nextLeaf += 1;
        } else {
            Registry memory r = _loadRegistry();
            _unlinkFresh(q, r, batchId);
            _storeRegistry(r);
        }
    }

    // The head of the fresh-node list, after dropping (up to `limit`) nodes of cancelled
    // batches met there; 0 if none is left in reach.
    function _freshNode(Queue memory q, uint256 limit) internal returns (uint40 jobId) {
        jobId = q.aggHead;
        for (uint256 k; jobId != 0 && k < limit; ++k) {
            Job memory j = _loadJob(jobId);
            if (!_batches[j.batchId].cancelled) return jobId;
            uint40 cleared = jobId;
            jobId = j.next;
            j.status = JobStatus.Cleared;
            j.next = 0;
            _storeJob(cleared, j);
            // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32
            q.aggHead = uint32(jobId);
            if (jobId == 0) q.aggTail = 0;
        }
        return jobId != 0 && !_batches[_loadJob(jobId).batchId].cancelled ? jobId : 0;
    }

    // Removes `jobId`, the head of the fresh-node list, from the list.
    function _takeFreshNode(Queue memory q, uint40 jobId) internal {
        uint32 next = _loadJob(jobId).next;
        q.aggHead = next;
        if (next == 0) q.aggTail = 0;
    }

    // LRP: the head of the pending list moves to the tail, unless its latest lease is the
    // caller's (then the job after the head, no further) or it was leased less than
    // max(minReassignAge, minAge) ago and may not go as a spare (see `spareAttempts`; `spare`
    // says whether the caller may take one). Cancelled jobs met at the head are cleared first
    // (a bounded number). The job's previous latest lease moves to `_leases`, where its holder
    // can still submit; if it was not submitted, its holder has lapsed.
    function _takeFromPendingHead(
        Queue memory q,
        Config memory cfg,
        uint24 self,
        uint256 minAge,
        bool spare
    ) internal returns (uint40 jobId, uint64 requestId, address previousHolder) {
        jobId = q.pendingHead;
        for (uint256 k; jobId != 0 && k < MAX_CLEAR_PER_LEASE; ++k) {
            if (!_batches[_loadJob(jobId).batchId].cancelled) break;
            _clear(q, jobId);
            jobId = q.pendingHead;
        }
        if (jobId == 0) return (0, 0, address(0));
        Job memory j = _loadJob(jobId);
        if (_own(j, self)) {
            jobId = _after(q, jobId, j.next);
            if (jobId == 0) return (0, 0, address(0));
            j = _loadJob(jobId);
            if (_own(j, self)) return (0, 0, address(0));
        }
        if (_batches[j.batchId].cancelled) return (0, 0, address(0));
        // A lapsed caller (no spare, on the LRP path) takes only a job nobody holds, or one
        // held for twice the stale age (the minimum age if none is set): no prover in good
        // standing took it by then, and lapsed provers alone must still be able to finish.
        if (!spare && minAge == 0 && j.state <= LeaseState.Submitted) {
            uint256 overdue = cfg.staleAge != 0 ? cfg.staleAge : cfg.minReassignAge;
            if (block.timestamp < uint256(j.leasedAt) + 2 * overdue) return (0, 0, address(0));
        }
        if (minAge < cfg.minReassignAge) minAge = cfg.minReassignAge;
        // Young: only as a spare (read in the order that leaves out what does not decide). A
        // released job is never young: its holder gave it back.
        if (
            block.timestamp < uint256(j.leasedAt) + minAge && j.state != LeaseState.Released
                && !(spare
                    && (j.attempt <= cfg.spareAttempts || _provers[_proverAt[j.holder]].lapsed))
        ) return (0, 0, address(0));
        previousHolder = _proverAt[j.holder];
        Prover storage previous = _provers[previousHolder];

        _storeLease(_rid(jobId, j.attempt), _latestLease(j));
        if (j.state == LeaseState.Leased) {
            previous.activeLeases -= 1;
            previous.unsubmitted -= 1;
            previous.lapsed = true;
        }
        _unlinkPending(q, jobId, j);
        j.prev = 0;
        j.next = 0;
        j.leasedAt = uint32(block.timestamp);
        j.attempt += 1;
        j.holder = self;
        j.submittedAt = 0;
        j.state = LeaseState.Leased;
        j.proofPrefix = 0;
        // A job's last possible lease leaves it out of the list: nobody can take it over again,
        // and at the head it would keep every job behind it from being reassigned (two
        // addresses passing one job back and forth could get it there). Its holder can still
        // complete it.
        if (j.attempt != MAX_ATTEMPTS) {
            j.prev = q.pendingTail;
            _linkAtTail(q, jobId);
        }
        _storeJob(jobId, j);
        requestId = _rid(jobId, j.attempt);
    }

    // Whether the job's latest lease is `self`'s and still its own (not given back): LRP passes
    // over it.
    function _own(Job memory j, uint24 self) internal pure returns (bool) {
        return j.holder == self && j.state != LeaseState.Released;
    }

    // Makes `jobId` (not listed, its word `j`, stored by the caller) the head: a released job
    // is the next one to hand on. Its `next` is written whole (an explicit link is always
    // valid; 0 is the tail's).
    function _linkAtHead(Queue memory q, uint40 jobId, Job memory j) internal {
        uint32 head = q.pendingHead;
        // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32 (postBatch)
        uint32 id = uint32(jobId);
        j.prev = 0;
        j.next = head;
        if (head == 0) q.pendingTail = id;
        else _setLink(head, PREV, id);
        q.pendingHead = id;
        q.pendingCount += 1;
    }

    // Makes `jobId` the tail; its own `prev` is the caller's to set. A job right after the tail
    // by id (the next leaf leased, most often) needs no link written into the tail's word: a
    // `next` of 0 in a listed job other than the tail means the job after it by id (`_after`).
    // That saves a cold write (5,000 gas) per such lease.
    function _linkAtTail(Queue memory q, uint40 jobId) internal {
        uint32 tail = q.pendingTail;
        // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32 (postBatch)
        uint32 id = uint32(jobId);
        if (tail == 0) q.pendingHead = id;
        else if (id != uint256(tail) + 1) _setLink(tail, NEXT, id);
        q.pendingTail = id;
        q.pendingCount += 1;
    }

    // Removes `jobId` (whose word is `j`) from the pending list, writing its predecessor's link
    // whole (an implicit one would now skip a job); the job's own links are the caller's to
    // reset. A pending job with no `prev` that is not the head was never linked (its last
    // possible lease): nothing to do.
    function _unlinkPending(Queue memory q, uint40 jobId, Job memory j) internal {
        uint32 prev = j.prev;
        if (prev == 0 && q.pendingHead != jobId) return;
        uint32 next = _after(q, jobId, j.next);
        if (prev == 0) q.pendingHead = next;
        else _setLink(prev, NEXT, next);
        if (next == 0) q.pendingTail = prev;
        else _setLink(next, PREV, prev);
        q.pendingCount -= 1;
    }

    // Removes a pending job of a cancelled batch from the list and from its holder's count.
    function _clear(Queue memory q, uint40 jobId) internal {
        Job memory j = _loadJob(jobId);
        _unlinkPending(q, jobId, j);
        _releaseUnsubmitted(j);
        j.status = JobStatus.Cleared;
        j.prev = 0;
        j.next = 0;
        _storeJob(jobId, j);
        emit JobCleared(jobId);
    }

    // A job that stops being pending releases its latest lease from the holder's counts, unless
    // that lease was submitted (then its verdict releases it).
    function _releaseUnsubmitted(Job memory j) internal {
        if (j.state == LeaseState.Leased) {
            Prover storage p = _provers[_proverAt[j.holder]];
            p.activeLeases -= 1;
            p.unsubmitted -= 1;
        }
    }

    // Appends a new batch to the leaves' queue; at its head, its leaves are the fresh ones.
    function _appendFresh(
        Queue memory q,
        Registry memory r,
        uint32 batchId,
        uint40 firstJobId,
        uint24 leafCount
    ) internal {
        uint32 tail = _round0Tail(q, r);
        if (tail == 0) {
            q.round0Head = batchId;
            // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32 (postBatch)
            q.nextLeaf = uint32(firstJobId);
            q.leavesLeft = leafCount;
        } else {
            _batches[tail].queueNext = batchId;
            _batches[batchId].queuePrev = tail;
        }
        _setRound0Tail(q, r, batchId);
    }

    // Removes a batch from the leaves' queue; a new head brings its fresh leaves.
    function _unlinkFresh(Queue memory q, Registry memory r, uint32 batchId) internal {
        Batch storage b = _batches[batchId];
        uint32 prev = b.queuePrev;
        uint32 next = b.queueNext;
        if (prev == 0) {
            q.round0Head = next;
            q.leavesLeft = 0;
            q.nextLeaf = 0;
            if (next != 0) {
                Batch storage n = _batches[next];
                q.leavesLeft = n.leafCount;
                // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32
                q.nextLeaf = uint32(n.firstJobId);
            }
        } else {
            _batches[prev].queueNext = next;
        }
        if (next == 0) _setRound0Tail(q, r, prev);
        else _batches[next].queuePrev = prev;
        b.queuePrev = 0;
        b.queueNext = 0;
    }

    // ================================================================== submission internals

    // Checks that `requestId`, its job's `attempt`-th lease (the job's word `j`), is the
    // caller's (`p`) and neither submitted nor released; the lease itself where it is not the
    // job's latest (then in `_leases`).
    function _heldLease(uint64 requestId, uint24 attempt, Job memory j, Prover storage p)
        internal
        view
        returns (Lease memory l)
    {
        if (attempt == 0 || attempt > j.attempt) {
            // A job won by its only lease has no word left (see `_done`).
            (uint40 jobId,) = _split(requestId);
            if (attempt == 1 && _isDone(jobId)) revert AlreadySubmitted(requestId);
            revert UnknownRequest(requestId);
        }
        LeaseState state;
        if (attempt == j.attempt) {
            if (p.id != j.holder) revert NotLeaseHolder(requestId);
            state = j.state;
        } else {
            l = _loadLease(requestId);
            if (l.prover != msg.sender) revert NotLeaseHolder(requestId);
            state = l.state;
        }
        if (state != LeaseState.Leased) {
            if (state == LeaseState.Released) revert LeaseIsReleased(requestId);
            revert AlreadySubmitted(requestId);
        }
    }

    function _submit(uint64 requestId, bytes32 proofHash)
        internal
        returns (bool latest, uint8 lane)
    {
        if (proofHash == 0) revert ZeroProofHash();
        (uint40 jobId, uint24 attempt) = _split(requestId);
        Job memory j = _loadJob(jobId);
        Prover storage p = _provers[msg.sender];
        Lease memory l = _heldLease(requestId, attempt, j, p);
        latest = attempt == j.attempt;
        Batch storage b = _batches[j.batchId];
        if (j.status != JobStatus.Pending || b.cancelled) revert JobNotPending(jobId);
        lane = b.lane;
        // The first 4 bytes are enough for a verdict to tell a replaced submission; the hash
        // itself is in the event, where it costs 256 gas instead of a fresh slot's 22,100.
        // forge-lint: disable-next-line(unsafe-typecast) the truncation is the point
        bytes4 prefix = bytes4(proofHash);
        // A plain submission asks for nothing: a `submitAndLease` sets it again after this.
        p.waiting = false;
        if (latest) {
            p.unsubmitted -= 1;
            j.state = LeaseState.Submitted;
            j.submittedAt = uint32(block.timestamp);
            j.proofPrefix = prefix;
            _storeJob(jobId, j);
        } else {
            // A lease that LRP moved on no longer counted; as a submitted, unjudged lease it
            // does again, so the bond must back it: else a prover could unstake and withdraw,
            // then submit junk with nothing left to slash.
            uint256 active = p.activeLeases;
            uint256 cap = _cap(p.bond, _loadConfig());
            if (active >= cap) revert LeaseCapReached(active, cap);
            // forge-lint: disable-next-line(unsafe-typecast) active < cap <= MAX_ACTIVE_LEASES
            p.activeLeases = uint16(active + 1);
            l.state = LeaseState.Submitted;
            l.submittedAt = uint32(block.timestamp);
            l.proofPrefix = prefix;
            _storeLease(requestId, l);
        }
        emit ProofSubmitted(requestId, msg.sender, proofHash);
    }

    // ================================================================== verdict internals

    // What a verdict needs to know of the lease it names, wherever that lease is kept.
    struct Target {
        uint64 requestId;
        uint40 jobId;
        uint24 attempt;
        bool latest;
        address prover;
        uint32 submittedAt;
        LeaseState state;
        bytes4 proofPrefix;
        bytes32 proofHash;
    }

    function _applyVerdict(Queue memory q, Verdict calldata v)
        internal
        returns (uint256 paid, uint256 slashed)
    {
        Target memory t;
        t.requestId = v.requestId;
        t.prover = v.prover;
        t.proofHash = v.proofHash;
        (t.jobId, t.attempt) = _split(t.requestId);
        Job memory j = _loadJob(t.jobId);
        uint8 result = v.result;
        SkipReason reason;
        if (t.attempt == 0 || t.attempt > j.attempt) {
            // A job won by its only lease has no word left (see `_done`).
            reason = t.attempt == 1 && _isDone(t.jobId)
                ? SkipReason.AlreadyJudged
                : SkipReason.UnknownRequest;
        } else if (!_loadTarget(t, j)) {
            reason = SkipReason.WrongJobOrProver;
        } else if (t.state != LeaseState.Submitted) {
            reason = t.state == LeaseState.Leased || t.state == LeaseState.Released
                ? SkipReason.NotSubmitted
                : SkipReason.AlreadyJudged;
        } else if (result == 0 || result > uint8(VerdictResult.Missing)) {
            reason = SkipReason.NoResult;
        } else if (bytes4(t.proofHash) != t.proofPrefix) {
            reason = SkipReason.WrongProof;
        } else if (result == uint8(VerdictResult.Missing) && !_uploadDeadlinePassed(t.submittedAt))
        {
            reason = SkipReason.UploadDeadlineNotPassed;
        } else {
            return _judge(q, t, j, VerdictResult(result));
        }
        emit VerdictSkipped(t.requestId, reason);
    }

    // Fills the lease's state from the job (latest lease) or `_leases`; false if `t.prover` is
    // not its holder.
    function _loadTarget(Target memory t, Job memory j) internal view returns (bool) {
        t.latest = t.attempt == j.attempt;
        if (t.latest) {
            t.state = j.state;
            t.submittedAt = j.submittedAt;
            t.proofPrefix = j.proofPrefix;
            return _provers[t.prover].id == j.holder;
        }
        Lease memory l = _loadLease(t.requestId);
        t.state = l.state;
        t.submittedAt = l.submittedAt;
        t.proofPrefix = l.proofPrefix;
        return l.prover == t.prover;
    }

    function _judge(Queue memory q, Target memory t, Job memory j, VerdictResult result)
        internal
        returns (uint256 paid, uint256 slashed)
    {
        LeaseState judged = result == VerdictResult.Valid
            ? LeaseState.Valid
            : result == VerdictResult.Invalid ? LeaseState.Invalid : LeaseState.Missing;
        if (t.latest) j.state = judged;
        else _leases[t.requestId].state = judged;
        Prover storage p = _provers[t.prover];
        p.activeLeases -= 1;

        bool completed;
        uint256 amount;
        if (result == VerdictResult.Valid) {
            (completed, amount) = _complete(q, t, j);
            paid = amount;
            if (completed) p.lapsed = false;
        } else {
            // It did not deliver, as a handed-on lease did not: a withholder that submits a hash
            // and never uploads must lapse too.
            p.lapsed = true;
            if (result == VerdictResult.Invalid) {
                amount = _slash(t.prover, t.requestId);
                slashed = amount;
            }
        }
        // A job won by its only lease: nothing reads its word again (no other lease of it can
        // be submitted or judged), and its completion is in `_done`.
        if (completed && j.attempt == 1) delete _jobWords[t.jobId];
        else if (t.latest || completed) _storeJob(t.jobId, j);
        emit VerdictRecorded(t.requestId, t.prover, result, completed, amount);
    }

    // First valid proof of a pending job: complete it, pay its holder, and count it as done
    // for its parent node, which becomes fresh with its last child; the top's proof is the
    // batch's final proof. Updates `j` in memory; the caller stores it.
    function _complete(Queue memory q, Target memory t, Job memory j)
        internal
        returns (bool completed, uint256 reward)
    {
        uint32 batchId = j.batchId;
        Batch storage b = _batches[batchId];
        if (j.status != JobStatus.Pending || b.cancelled) return (false, 0);
        if (batchId != q.laneBatch) {
            _useLane(q, b.lane);
            q.laneBatch = batchId;
        }

        _unlinkPending(q, t.jobId, j);
        if (!t.latest) _releaseUnsubmitted(j);
        j.status = JobStatus.Complete;
        j.prev = t.attempt;
        j.next = 0;
        _markDone(t.jobId);

        reward = b.rewardPerJob;
        b.jobsLeft -= 1;
        // forge-lint: disable-next-line(unsafe-typecast) reward is a uint96
        _provers[t.prover].earnings += uint96(reward);

        uint40 first = b.firstJobId;
        (uint256 parent, uint256 children, uint256 sibling) =
            _parentOf(t.jobId - first, b.leafCount);
        if (children == 0) {
            b.finalProofHash = t.proofHash;
            emit BatchFinalized(batchId, t.proofHash);
        } else if (
            // forge-lint: disable-next-line(unsafe-typecast) sibling < jobCount, within the batch
            children == 1 || _isDone(first + uint40(sibling))
        ) {
            // The node is ready with its last child, which the second child to complete tells
            // by its sibling's bit: no count is kept in the node, which has no slot until then
            // (a cold write less per node).
            // forge-lint: disable-next-line(unsafe-typecast) parent < jobCount, within the batch
            _nodeReady(q, batchId, first + uint40(parent), t.prover);
        }
        return (true, reward);
    }

    // Node `jobId` is ready. It is handed at once to `completer`, whose proof completed its last
    // child, if that prover asked for a job its `submitAndLease` did not find (`waiting`), holds
    // no lease left to prove and its bond backs one more: the lease is made in this transaction,
    // which saves the node a lease transaction and its wait for an idle prover to ask. Else it
    // becomes fresh, at the tail of the fresh-node list. Its children complete once each, so it
    // is ready once.
    function _nodeReady(Queue memory q, uint32 batchId, uint40 jobId, address completer) internal {
        Prover storage c = _provers[completer];
        if (
            c.waiting && c.unsubmitted == 0
                && _room(1, c.activeLeases, c.bond, _loadConfig(), false) != 0
        ) {
            c.activeLeases += 1;
            c.unsubmitted = 1;
            c.waiting = false;
            emit JobLeased(_leaseFirst(q, jobId, batchId, c.id), completer, address(0));
            return;
        }
        Job memory p;
        p.status = JobStatus.Fresh;
        p.batchId = batchId;
        _storeJob(jobId, p);
        uint32 tail = q.aggTail;
        // forge-lint: disable-next-line(unsafe-typecast) job ids are below 2^32 (postBatch)
        uint32 id = uint32(jobId);
        if (tail == 0) q.aggHead = id;
        else _setLink(tail, NEXT, id);
        q.aggTail = id;
    }

    // Slashes up to the slash amount, from bond first, then from unbonding funds.
    function _slash(address account, uint64 requestId) internal returns (uint256 amount) {
        Prover storage p = _provers[account];
        ProverFunds storage f = _funds[account];
        uint88 bond = p.bond;
        uint96 unbonding = f.unbonding;
        amount = _slashAmount;
        if (amount > uint256(bond) + unbonding) amount = uint256(bond) + unbonding;
        // forge-lint: disable-start(unsafe-typecast) amount <= slashAmount, a uint96
        if (amount <= bond) {
            p.bond = bond - uint88(amount);
        } else {
            p.bond = 0;
            f.unbonding = unbonding - uint96(amount - bond);
        }
        // forge-lint: disable-end(unsafe-typecast)
        f.slashes += 1;
        emit Slashed(account, requestId, amount);
    }

    // ================================================================== helpers

    // Allocates a batch id and its job ids and appends the batch to the leaves' queue.
    function _createBatch(uint24 leafCount, uint256 jobCount, bytes32 circuitId)
        internal
        returns (uint32 batchId, uint40 firstJobId)
    {
        Registry memory r = _loadRegistry();
        // A circuit seen for the first time gets the next lane.
        uint256 lane = _laneOf[circuitId];
        if (lane == 0) {
            if (r.laneCount == MAX_LANES) revert TooManyCircuits();
            lane = ++r.laneCount;
            _laneOf[circuitId] = lane;
        }
        --lane;
        Queue memory q = _loadQueue(lane);
        batchId = r.nextBatchId;
        firstJobId = r.nextJobId;
        if (firstJobId + jobCount > MAX_JOB_ID + 1) revert BadJobCount(leafCount);
        Batch storage b = _batches[batchId];
        b.firstJobId = firstJobId;
        b.leafCount = leafCount;
        // forge-lint: disable-start(unsafe-typecast) jobCount <= MAX_JOBS_PER_BATCH < 2^24
        b.jobCount = uint24(jobCount);
        b.jobsLeft = uint24(jobCount);
        b.lane = uint8(lane);
        r.nextBatchId = batchId + 1;
        r.nextJobId += uint40(jobCount);
        // forge-lint: disable-end(unsafe-typecast)
        _appendFresh(q, r, batchId, firstJobId, leafCount);
        _storeRegistry(r);
        _storeQueue(q);
    }

    function _existingBatch(uint32 batchId) internal view returns (Batch storage b) {
        if (batchId == 0 || batchId >= _registry.nextBatchId) revert UnknownBatch(batchId);
        return _batches[batchId];
    }

    // Nodes of the proving tree over `leaves` leaves: each level halves the one below, rounding
    // up (an odd node out gets a single-child parent), until one node is left.
    function _treeSize(uint256 leaves) internal pure returns (uint256 size) {
        for (uint256 c = leaves; c != 0; c = (c + 1) / 2) {
            size += c;
            if (c == 1) break;
        }
    }

    // The parent of the node at `index` of a tree over `leaves` leaves, how many children that
    // parent has (1 or 2), and the node's sibling (itself if it has none); (0, 0, 0) for the top.
    function _parentOf(uint256 index, uint256 leaves)
        internal
        pure
        returns (uint256 parent, uint256 children, uint256 sibling)
    {
        uint256 offset;
        uint256 c = leaves;
        while (index >= offset + c) {
            offset += c;
            c = (c + 1) / 2;
        }
        if (c == 1) return (0, 0, 0);
        uint256 pos = (index - offset) / 2;
        uint256 left = offset + 2 * pos;
        if (2 * pos + 1 >= c) return (offset + c + pos, 1, index);
        return (offset + c + pos, 2, index == left ? left + 1 : left);
    }

    // `maxUnbondingDelay` is paramDelay, passed in because the constructor cannot read it yet.
    function _checkSettings(Settings memory s, uint256 maxUnbondingDelay) internal pure {
        StakeParams memory sp = s.stake;
        if (s.relayer == address(0) || s.treasury == address(0)) revert ZeroAddress();
        if (
            sp.bondPerLease == 0 || sp.minBond < sp.bondPerLease || sp.slashAmount > sp.bondPerLease
                || s.minReassignAge > MAX_MIN_REASSIGN_AGE || s.uploadDeadline < MIN_UPLOAD_DEADLINE
                || s.uploadDeadline > MAX_UPLOAD_DEADLINE || s.unbondingDelay > maxUnbondingDelay
                || s.verdictDeadline < MIN_VERDICT_DEADLINE
                || s.verdictDeadline > MAX_VERDICT_DEADLINE
        ) revert ParamOutOfBounds();
    }

    function _applySettings(Settings memory s) internal {
        Config memory c = _loadConfig();
        c.bondPerLease = s.stake.bondPerLease;
        c.minBond = s.stake.minBond;
        c.minReassignAge = s.minReassignAge;
        _storeConfig(c);
        _slashAmount = s.stake.slashAmount;
        _unbondingDelay = s.unbondingDelay;
        relayer = s.relayer;
        treasury = s.treasury;
        uint256 n = _deadlines.length;
        if (
            n == 0 || _deadlines[n - 1].upload != s.uploadDeadline
                || _deadlines[n - 1].verdict != s.verdictDeadline
        ) _deadlines.push(Deadlines(uint32(block.timestamp), s.uploadDeadline, s.verdictDeadline));
        emit SettingsApplied(s);
    }

    function _uploadDeadlinePassed(uint32 submittedAt) internal view returns (bool) {
        (uint256 upload,) = _deadlinesAt(submittedAt);
        return block.timestamp >= submittedAt + upload;
    }
}
