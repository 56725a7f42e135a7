// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICoordinator: the on-chain Job Distributor of CrowdProve
/// @notice A rollup's relayer posts batches of proving jobs (one Merkle root per batch) with
///         their rewards in escrow; bonded provers lease jobs, submit proof hashes, and are paid a
///         fixed reward per job once the relayer judges their proof valid. Jobs that are leased
///         but not completed are reassigned Least-Recently-Processed first (LRP), so a prover that
///         hoards or crashes delays nobody for long; active leases are capped by bond.
/// @dev Ids start at 1; 0 means "none". A request id names one lease of one job:
///      `requestId = jobId << 24 | attempt`, where attempt counts the job's leases from 1, so a
///      job's latest lease is kept in the job's own storage slot (see Coordinator).
///      All amounts are in the one ERC20 token fixed at construction, which must be a plain
///      token (no fee on transfer, no rebasing) whose supply stays below 2^96 base units:
///      rewards, unbonding funds and a prover's unwithdrawn earnings are stored as uint96, a
///      bond as uint88 (at most 2^88 - 1 per prover; `stake` refuses more). Times are uint32
///      seconds (valid until 2106).
interface ICoordinator {
    // ------------------------------------------------------------------ types

    /// @notice Life cycle of a job. Fresh leaves have no storage yet; an aggregation node is
    ///         Waiting until its last child completes, then Fresh; Cleared = cancelled and
    ///         removed from the pending list or the fresh-node list.
    enum JobStatus {
        Fresh,
        Pending,
        Complete,
        Cleared,
        Waiting
    }

    /// @notice Life cycle of a lease (one prover's claim on one job).
    enum LeaseState {
        None,
        Leased,
        Submitted,
        Valid,
        Invalid,
        Missing,
        Expired,
        Released
    }

    /// @notice The relayer's judgement of a submitted proof.
    enum VerdictResult {
        None,
        Valid,
        Invalid,
        Missing
    }

    /// @notice Why an entry of a batched call was skipped instead of applied.
    enum SkipReason {
        UnknownRequest,
        WrongJobOrProver,
        NotSubmitted,
        AlreadyJudged,
        UploadDeadlineNotPassed,
        NoResult,
        // No longer given (it was the batched submission's); kept so the numbers stay.
        JobNotPending,
        WrongProof
    }

    /// @notice One verdict of `recordVerdicts`: it names the lease, its holder and the proof
    ///         hash of the submission it judges, so that after a reorg replaced a submission a
    ///         verdict about the old one is skipped (`WrongProof`: the contract compares the
    ///         hash's first 4 bytes, all it keeps) instead of judging the new one.
    ///         `result` is a VerdictResult as a number, so that an out-of-range value skips this
    ///         entry instead of reverting the whole batch.
    struct Verdict {
        uint64 requestId;
        address prover;
        uint8 result;
        bytes32 proofHash;
    }

    /// @notice A batch, one source batch's whole proving tree, as stored (see `batch`). Its jobs
    ///         are the `leafCount` round-0 jobs, then each aggregation level bottom up: level
    ///         `l + 1` has ceil(n_l / 2) nodes, node k aggregating nodes 2k and 2k + 1 of level l
    ///         (2k alone when 2k + 1 is past the level's end); the last job is the top.
    struct BatchInfo {
        bytes32 witnessRoot;
        bytes32 circuitId;
        uint40 firstJobId;
        uint24 jobCount;
        uint24 leafCount;
        uint24 jobsLeft;
        uint24 leasedFresh;
        uint24 freshNodes;
        uint96 rewardPerJob;
        bool cancelled;
        bytes32 finalProofHash;
        address poster;
    }

    /// @notice What a bond risks: the bond each lease needs, the least bond that leases at all,
    ///         and what an Invalid verdict takes.
    struct StakeParams {
        uint96 bondPerLease;
        uint96 minBond;
        uint96 slashAmount;
    }

    /// @notice Everything the owner sets that changes what a prover risks or who judges it:
    ///         announced with `proposeSettings`, in force only `paramDelay` later
    ///         (`applySettings`), so a prover who dislikes a change can leave before it applies.
    ///         A changed upload or verdict deadline never applies to submissions made before it.
    struct Settings {
        StakeParams stake;
        uint24 minReassignAge;
        uint24 uploadDeadline;
        uint32 unbondingDelay;
        uint32 verdictDeadline;
        address relayer;
        address treasury;
    }

    // ------------------------------------------------------------------ events

    /// @notice A batch of `jobCount` jobs (a tree over `leafCount` leaves) with ids
    ///         `firstJobId..firstJobId+jobCount-1` was posted.
    event BatchPosted(
        uint32 indexed batchId,
        bytes32 indexed witnessRoot,
        uint40 firstJobId,
        uint24 leafCount,
        uint24 jobCount,
        uint96 rewardPerJob,
        bytes32 circuitId
    );
    /// @notice A batch was cancelled and `refund` of unspent escrow returned to `to`, who posted
    ///         it.
    event BatchCancelled(uint32 indexed batchId, address indexed to, uint256 refund);
    /// @notice A batch's top job completed: its winning proof is the batch's final proof.
    event BatchFinalized(uint32 indexed batchId, bytes32 finalProofHash);
    /// @notice `prover` leased job `requestId >> 24` under `requestId`; `previousHolder` is set
    ///         on an LRP reassignment (zero for a fresh job). Events name the job by the request
    ///         id alone: a topic less is 375 gas less per lease, submission and verdict.
    event JobLeased(uint64 indexed requestId, address indexed prover, address previousHolder);
    /// @notice The holder of `requestId` committed to the proof whose keccak256 is `proofHash`.
    ///         The contract keeps only its first 4 bytes: this event is where the hash is.
    event ProofSubmitted(uint64 indexed requestId, address indexed prover, bytes32 proofHash);
    /// @notice A verdict was applied. `completed` is true when it completed the job (first valid
    ///         proof); `amount` is the reward credited or the bond slashed.
    event VerdictRecorded(
        uint64 indexed requestId,
        address indexed prover,
        VerdictResult result,
        bool completed,
        uint256 amount
    );
    /// @notice A verdict was skipped because it did not match or no longer applied.
    event VerdictSkipped(uint64 indexed requestId, SkipReason reason);
    /// @notice A submission went unjudged past its verdict deadline: its lease stopped counting
    ///         against `prover`'s bond, with neither pay nor slash.
    event SubmissionExpired(uint64 indexed requestId, address indexed prover);
    /// @notice A pending job of a cancelled batch left the pending list and its holder's count.
    event JobCleared(uint40 indexed jobId);
    /// @notice `prover` gave back its lease `requestId` unsubmitted: the job is the next one to
    ///         hand on, and the lease no longer counts against the bond.
    event LeaseReleased(uint64 indexed requestId, address indexed prover);
    /// @notice `prover` added `amount` to its bond.
    event Staked(address indexed prover, uint256 amount);
    /// @notice `prover` moved `amount` from bond to unbonding, withdrawable at `readyAt`.
    event UnstakeRequested(address indexed prover, uint256 amount, uint256 readyAt);
    /// @notice `prover` withdrew `amount` of unbonded stake.
    event Unstaked(address indexed prover, uint256 amount);
    /// @notice `prover` withdrew `amount` of earnings.
    event EarningsWithdrawn(address indexed prover, uint256 amount);
    /// @notice `prover` lost `amount` (from bond, then unbonding) for an invalid proof.
    event Slashed(address indexed prover, uint64 indexed requestId, uint256 amount);
    /// @notice Slashed funds owed to the treasury were sent to it.
    event SlashesSwept(address indexed treasury, uint256 amount);
    /// @notice The stale age changed (it takes effect at once; 0 = off).
    event StaleAgeChanged(uint24 staleAge);
    /// @notice The number of leases up to which a job may go as a spare changed (0 = only jobs
    ///         whose holder has lapsed).
    event SpareAttemptsChanged(uint8 spareAttempts);
    /// @notice New settings were announced; they can be applied from `effectiveAt`.
    event SettingsProposed(Settings settings, uint256 effectiveAt);
    /// @notice Settings took effect (at deployment, then each announced change).
    event SettingsApplied(Settings settings);
    /// @notice Leasing was paused (true) or resumed (false). Nothing else is ever paused.
    event LeasingPaused(bool paused);

    // ------------------------------------------------------------------ errors

    /// @notice Only the relayer may call this.
    error NotRelayer();
    /// @notice Only the relayer or the owner may call this.
    error NotRelayerOrOwner();
    /// @notice The witness root is zero or was accepted before.
    error RootAlreadyUsed(bytes32 root);
    /// @notice Job count outside 1..MAX_JOBS_PER_BATCH.
    error BadJobCount(uint256 jobCount);
    /// @notice The circuit id is zero.
    error ZeroCircuitId();
    /// @notice A new circuit would be one more than the lanes the Coordinator keeps.
    error TooManyCircuits();
    /// @notice No batch with this id.
    error UnknownBatch(uint32 batchId);
    /// @notice The batch was cancelled.
    error BatchIsCancelled(uint32 batchId);
    /// @notice The batch was already finalized.
    error BatchIsFinalized(uint32 batchId);
    /// @notice Leasing is paused.
    error LeasingIsPaused();
    /// @notice No job can be leased now: try again later.
    error NoJobAvailable();
    /// @notice The prover's bond backs no more leases (`active` of `cap` in use).
    error LeaseCapReached(uint256 active, uint256 cap);
    /// @notice `n` is zero or above MAX_LEASES_PER_CALL.
    error BadLeaseCount(uint256 n);
    /// @notice No lease with this request id.
    error UnknownRequest(uint64 requestId);
    /// @notice The caller does not hold this lease.
    error NotLeaseHolder(uint64 requestId);
    /// @notice The lease already has a submission.
    error AlreadySubmitted(uint64 requestId);
    /// @notice The lease was given back (`releaseLease`): it can be neither submitted nor
    ///         released again.
    error LeaseIsReleased(uint64 requestId);
    /// @notice The job's last possible lease (MAX_ATTEMPTS): nobody could take it over, so its
    ///         holder keeps it.
    error LastAttempt(uint64 requestId);
    /// @notice The job is complete or its batch cancelled.
    error JobNotPending(uint40 jobId);
    /// @notice The proof hash is zero.
    error ZeroProofHash();
    /// @notice Array lengths differ, or an array is empty or too long.
    error BadArrayLength();
    /// @notice The amount is zero or does not fit.
    error BadAmount();
    /// @notice Bond that backs active leases cannot be unstaked (`free` is available).
    error BondLocked(uint256 requested, uint256 free);
    /// @notice Unbonded stake is not withdrawable until `readyAt`.
    error StillUnbonding(uint256 readyAt);
    /// @notice Nothing to withdraw.
    error NothingToWithdraw();
    /// @notice A parameter is outside its bounds.
    error ParamOutOfBounds();
    /// @notice These settings are not the announced ones, or their delay has not passed.
    error NoSettingsDue();
    /// @notice The submission is not past its verdict deadline unjudged (`dueAt` is when it is).
    error NotExpired(uint256 dueAt);
    /// @notice The zero address is not allowed here.
    error ZeroAddress();

    // ------------------------------------------------------------------ relayer

    /// @notice Posts the proving tree of a source batch of `leafCount` round-0 jobs (see
    ///         `BatchInfo` for its shape) and pulls `jobCount * rewardPerJob` from the caller
    ///         into escrow. The leaves are fresh at once; each aggregation node becomes fresh
    ///         when the Valid verdict on its last child is recorded, and the top's Valid
    ///         verdict records the batch's final proof.
    /// @param witnessRoot Merkle root over the jobs' leaves; each root is accepted once.
    /// @param leafCount Number of round-0 jobs; the tree may hold MAX_JOBS_PER_BATCH jobs.
    /// @param rewardPerJob Paid to the first valid proof of each job (may be zero).
    /// @param circuitId Digest of the verifier data the round-0 proofs must have.
    /// @return batchId The new batch's id.
    function postBatch(
        bytes32 witnessRoot,
        uint24 leafCount,
        uint96 rewardPerJob,
        bytes32 circuitId
    ) external returns (uint32 batchId);

    /// @notice Cancels a batch: its fresh jobs are never leased, nodes not yet fresh never
    ///         become so, its pending jobs are cleared lazily (see `clearCancelled`), and the
    ///         escrow of every job not completed goes back to whoever posted the batch.
    /// @param batchId The batch to cancel; relayer or owner only.
    function cancelBatch(uint32 batchId) external;

    /// @notice Applies verdicts in order. An entry that does not match its lease and submission
    ///         or no longer applies is skipped with `VerdictSkipped`; the rest goes through. A
    ///         Valid verdict that makes a node ready may lease it to its waiting completer (see
    ///         `submitAndLease`).
    /// @param verdicts The verdicts, at most MAX_VERDICTS_PER_CALL.
    function recordVerdicts(Verdict[] calldata verdicts) external;

    // ------------------------------------------------------------------ provers

    /// @notice Leases one job. Fresh round-0 jobs go before fresh aggregation nodes of the same
    ///         or later trees, aggregation nodes of older trees before them; a pending job leased at
    ///         least `staleAge` ago goes before any fresh job (to an idle caller); other pending jobs (least
    ///         recently leased first, not one whose latest lease is the caller's) only when nothing
    ///         is fresh, and only once leased `minReassignAge` ago unless it may go as a spare
    ///         (`spareAttempts`). A caller that holds a lease not yet submitted gets fresh round-0
    ///         jobs only; one whose leases all await verdicts is idle. A caller that has lapsed
    ///         (`lapsed`) gets fresh round-0 jobs, pending jobs that nobody holds and pending
    ///         jobs held for twice the stale age (twice `minReassignAge` if no stale age is
    ///         set) only, while `minReassignAge` is set.
    ///         Reverts `NoJobAvailable` when there is none, unless the call cleared jobs of
    ///         cancelled batches on its way (then it leases nothing and keeps the clearing, so
    ///         any number of them is cleared a bounded number per call).
    /// @return requestId The lease's id, needed to submit (0 if none).
    /// @return jobId The leased job (0 if none).
    function lease() external returns (uint64 requestId, uint40 jobId);

    /// @notice Leases up to `n` jobs, as many as are available and the bond backs (none only
    ///         as `lease` says).
    /// @param n How many to lease, 1..MAX_LEASES_PER_CALL.
    /// @return requestIds The leases' ids.
    /// @return jobIds The leased jobs, in the same order.
    function leaseMany(uint256 n)
        external
        returns (uint64[] memory requestIds, uint40[] memory jobIds);

    /// @notice `leaseMany` from the queue of one circuit (its lane, see `laneOf`): a prover
    ///         leases only jobs of circuits it proves. `leaseMany` is lane 0, the first circuit
    ///         posted. `submitAndLease` leases from the lane of the job submitted.
    /// @param lane The circuit's lane.
    /// @param n How many to lease, 1..MAX_LEASES_PER_CALL.
    /// @return requestIds The leases' ids.
    /// @return jobIds The leased jobs, in the same order.
    function leaseFrom(uint8 lane, uint256 n)
        external
        returns (uint64[] memory requestIds, uint40[] memory jobIds);

    /// @notice Commits to a proof for a lease the caller holds; once per lease, while the job
    ///         is pending. The proof bytes then go to the relayer, which checks their hash. A
    ///         lease that LRP handed on counts against the bond again once submitted, so the bond
    ///         must back one more lease (`LeaseCapReached` otherwise).
    /// @param requestId The lease.
    /// @param proofHash keccak256 of the proof bytes.
    function submitProof(uint64 requestId, bytes32 proofHash) external;

    /// @notice `submitProof`, then, while any job is fresh, a lease of one more job the bond
    ///         backs (in `lease`'s order: an aggregation node too if the caller holds no other
    ///         lease not yet submitted, a stale pending job first, see `staleAge`; no other
    ///         pending job; none after a lease handed on since, not the job's latest); never
    ///         reverts for want of a job. A busy prover sends one transaction per job instead of
    ///         two. If it leases nothing, the caller waits for work: should this proof's Valid
    ///         verdict make its parent node ready while the caller holds no lease left to prove
    ///         (and the bond backs one more, leasing not paused), the node is leased to the
    ///         caller in that verdict's transaction (`JobLeased` with the verdict; a handoff: no
    ///         lease transaction, no wait for a prover to ask). The caller's next submission or
    ///         release ends the wait.
    /// @param requestId The lease whose proof is submitted.
    /// @param proofHash keccak256 of the proof bytes.
    /// @return nextRequestId The new lease (0 if none).
    /// @return jobId Its job (0 if none).
    function submitAndLease(uint64 requestId, bytes32 proofHash)
        external
        returns (uint64 nextRequestId, uint40 jobId);

    /// @notice Gives back a lease the caller holds and will not finish (a prover that stops, or
    ///         whose proofs keep failing), so nobody waits for it: the lease stops counting
    ///         against the bond, and the job goes to the head of the pending list, where the
    ///         next lease that may take a pending job takes it whatever its age (the caller's
    ///         own too): a prover with nothing fresh to do, or an idle one before fresh leaves
    ///         where `staleAge` is set. Only the job's latest lease, unsubmitted, while the job
    ///         is pending; one of a cancelled batch is cleared instead (`JobCleared`). The
    ///         caller does not lapse: giving work back is what an honest prover that cannot
    ///         finish it should do.
    /// @param requestId The lease.
    function releaseLease(uint64 requestId) external;

    /// @notice Adds `amount` to the caller's bond (pulled from the caller); a bond holds at most
    ///         2^88 - 1 base units (`BadAmount` past it).
    /// @param amount Tokens to bond.
    function stake(uint256 amount) external;

    /// @notice Moves `amount` of free bond to unbonding; withdrawable after the unbonding delay
    ///         (which restarts). Unbonding funds can still be slashed.
    /// @param amount Tokens to unbond; bond that backs active leases cannot leave.
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraws all unbonded stake once its delay has passed.
    function withdrawUnstaked() external;

    /// @notice Withdraws all of the caller's earnings.
    function withdrawEarnings() external;

    /// @notice Clears pending jobs of cancelled batches from the pending list and from their
    ///         holders' active-lease counts, then drops up to MAX_CLEAR_PER_CALL fresh nodes of
    ///         cancelled batches from the head of the fresh-node list. Anyone may call; ids that
    ///         do not apply are ignored.
    /// @param jobIds Jobs to clear, at most MAX_CLEAR_PER_CALL.
    function clearCancelled(uint40[] calldata jobIds) external;

    /// @notice Sends slashed funds owed to the treasury to it. Anyone may call.
    function sweepSlashed() external;

    /// @notice Applies announced settings once their delay has passed. Anyone may call.
    /// @param settings The settings exactly as announced (`SettingsProposed`).
    function applySettings(Settings calldata settings) external;

    /// @notice Releases a submission that went unjudged past its verdict deadline (the upload
    ///         and verdict deadlines in force when it was submitted): its lease stops counting
    ///         against the bond, with neither pay nor slash, and becomes Expired, so a dead or
    ///         hostile relayer cannot trap bonds. The job stays pending for LRP. Anyone may call.
    /// @param requestId The submitted lease.
    function expireSubmission(uint64 requestId) external;

    // ------------------------------------------------------------------ owner

    /// @notice Announces new settings, effective after `paramDelay`; replaces any earlier
    ///         announcement. Bounds: slash <= bondPerLease <= minBond, minReassignAge <=
    ///         MAX_MIN_REASSIGN_AGE, uploadDeadline and verdictDeadline within their bounds,
    ///         unbondingDelay <= paramDelay, nonzero relayer and treasury.
    /// @param settings The whole new set (read the current one to change a part).
    function proposeSettings(Settings calldata settings) external;

    /// @notice Sets the stale age: a pending job whose latest lease is at least this old (and at
    ///         least `minReassignAge`) goes before any fresh job to an idle prover, with a
    ///         `submitAndLease` too (0 = never), at most MAX_MIN_REASSIGN_AGE.
    /// @param staleAge_ Seconds.
    function setStaleAge(uint24 staleAge_) external;

    /// @notice Sets `spareAttempts` (at most MAX_SPARE_ATTEMPTS): a pending job leased at most
    ///         that many times goes at once, whatever the minimum age, to an idle prover that
    ///         has not lapsed (a lease of its handed on unsubmitted, no job completed since).
    /// @param spareAttempts_ Leases; 0 = only jobs whose latest holder has lapsed.
    function setSpareAttempts(uint8 spareAttempts_) external;

    /// @notice Pauses (true) or resumes (false) leasing. Submissions, verdicts and withdrawals
    ///         are never paused.
    /// @param paused_ The new state.
    function setLeasingPaused(bool paused_) external;
}

/// @title ICoordinatorViews: what the Coordinator's state says
/// @notice The Coordinator answers these through its fallback, with the code of a
///         `CoordinatorViews` it deployed, over its own storage; call them on the Coordinator's
///         address like any other function (its ABI in bindings/ holds both).
interface ICoordinatorViews {
    /// @notice The batch with id `batchId`.
    /// @param batchId The batch.
    /// @return info Its stored fields.
    function batch(uint32 batchId) external view returns (ICoordinator.BatchInfo memory info);

    /// @notice The job with id `jobId` (derived for fresh jobs).
    /// @param jobId The job.
    /// @return status Its status.
    /// @return batchId Its batch.
    /// @return latestRequest The latest lease (0 if never leased).
    /// @return leasedAt Time of the latest lease (0 for a job won by its only lease: the
    ///         verdict deleted its record, and the time is in its `JobLeased` event).
    /// @return winningRequest The lease whose proof completed it (0 if not complete); its
    ///         `ProofSubmitted` event holds the proof hash.
    function job(uint40 jobId)
        external
        view
        returns (
            ICoordinator.JobStatus status,
            uint32 batchId,
            uint64 latestRequest,
            uint32 leasedAt,
            uint64 winningRequest
        );

    /// @notice The lease with id `requestId`. The only lease of a job it won reads Valid with
    ///         holder, time and prefix zero: the verdict deleted the job's record (a refund), and
    ///         they are in the lease's `JobLeased` and `ProofSubmitted` events.
    /// @param requestId The lease.
    /// @return holder Its holder.
    /// @return jobId Its job.
    /// @return state Its state.
    /// @return submittedAt When it was submitted (0 if not).
    /// @return proofPrefix The first 4 bytes of the submitted proof hash (0 if not submitted);
    ///         the whole hash is in the lease's `ProofSubmitted` event.
    function leaseInfo(uint64 requestId)
        external
        view
        returns (
            address holder,
            uint40 jobId,
            ICoordinator.LeaseState state,
            uint32 submittedAt,
            bytes4 proofPrefix
        );

    /// @notice A prover's funds and counters.
    /// @param account The prover.
    /// @return bond Bonded stake.
    /// @return unbonding Stake waiting out the unbonding delay.
    /// @return unbondingReadyAt When `unbonding` can be withdrawn.
    /// @return activeLeases Leases counted against the bond.
    /// @return earnings Withdrawable rewards.
    /// @return unsubmitted Leases held and not yet submitted (the prover is busy while any).
    /// @return slashes Times this prover was slashed.
    function prover(address account)
        external
        view
        returns (
            uint256 bond,
            uint256 unbonding,
            uint256 unbondingReadyAt,
            uint256 activeLeases,
            uint256 earnings,
            uint256 unsubmitted,
            uint256 slashes
        );

    /// @notice Whether a lease of `account`'s was handed on before it submitted, or judged
    ///         Invalid or Missing, and it has completed no job since: its leases may go as
    ///         spares, it takes no spare, and while `minReassignAge` is set it takes fresh
    ///         round-0 jobs, pending jobs nobody holds and jobs held for twice the stale age only
    ///         (no stale job, no fresh node).
    /// @param account The prover.
    /// @return Whether it has lapsed.
    function lapsed(address account) external view returns (bool);

    /// @notice How many leases `account`'s bond backs in all (0 below the minimum bond).
    /// @param account The prover.
    /// @return cap The cap on active leases.
    function leaseCap(address account) external view returns (uint256 cap);

    /// @notice The queue: fresh jobs not yet leased, pending jobs and the pending list's ends.
    /// @return freshJobs Jobs never leased, of uncancelled batches (counted here by walking
    ///         the fresh lists: the contract keeps no count).
    /// @return pendingJobs Jobs in the pending list (cancelled ones until cleared).
    /// @return pendingHead The least recently leased pending job.
    /// @return pendingTail The most recently leased pending job.
    function queue()
        external
        view
        returns (uint256 freshJobs, uint256 pendingJobs, uint40 pendingHead, uint40 pendingTail);

    /// @notice `queue` of one circuit's lane (`queue` is lane 0's).
    /// @param lane The lane.
    /// @return freshJobs Jobs never leased, of uncancelled batches.
    /// @return pendingJobs Jobs in the lane's pending list.
    /// @return pendingHead The least recently leased pending job.
    /// @return pendingTail The most recently leased pending job.
    function laneQueue(uint8 lane)
        external
        view
        returns (uint256 freshJobs, uint256 pendingJobs, uint40 pendingHead, uint40 pendingTail);

    /// @notice The lane (queue) of a circuit's batches.
    /// @param circuitId The circuit id batches carry.
    /// @return known Whether a batch of it was ever posted.
    /// @return lane Its lane (0 if unknown).
    function laneOf(bytes32 circuitId) external view returns (bool known, uint8 lane);

    /// @notice The neighbours of a job in the pending list (0 at the ends or when not listed).
    /// @param jobId The job.
    /// @return prev The job leased just before.
    /// @return next The job leased just after.
    function pendingLinks(uint40 jobId) external view returns (uint40 prev, uint40 next);

    /// @notice The deadlines a submission made at `time` is held to: the upload deadline (a
    ///         Missing verdict waits for it) and the verdict deadline (counted after the upload
    ///         deadline; past both, `expireSubmission` releases the lease).
    /// @param time The submission's time (`leaseInfo`'s submittedAt).
    /// @return uploadDeadline Seconds after the submission.
    /// @return verdictDeadline Seconds after the upload deadline.
    function deadlinesAt(uint256 time)
        external
        view
        returns (uint256 uploadDeadline, uint256 verdictDeadline);

    /// @notice The parameters in force.
    /// @return stakeParams Bond per lease, minimum bond, slash amount.
    /// @return minReassignAge Seconds a lease is protected from reassignment.
    /// @return uploadDeadline Seconds before a Missing verdict is accepted.
    /// @return unbondingDelay Seconds of unbonding.
    /// @return leasingPaused Whether leasing is paused.
    function params()
        external
        view
        returns (
            ICoordinator.StakeParams memory stakeParams,
            uint24 minReassignAge,
            uint24 uploadDeadline,
            uint32 unbondingDelay,
            bool leasingPaused
        );

    /// @notice A pending job whose latest lease is at least this old (seconds) goes before any
    ///         fresh job (0 = never): a hoarder on a tree's top job cannot hold the batch while
    ///         fresh work of later batches remains, nor one on a leaf hold up the nodes above it.
    /// @return The stale age.
    function staleAge() external view returns (uint24);

    /// @notice A pending job leased at most this many times may go at once, whatever the minimum
    ///         age, to an idle prover that has not lapsed (a spare lease: a second opinion on a
    ///         job whose holder may be a hoarder); so may any job whose latest holder has lapsed.
    ///         Other young leases are protected by the minimum age, so honest work is not
    ///         duplicated over and over.
    /// @return The spare attempts.
    function spareAttempts() external view returns (uint8);

    /// @notice The hash (keccak256 of their ABI encoding) of the announced settings and when
    ///         they can be applied (0 = none); `SettingsProposed` holds the settings.
    /// @return proposedHash The announced settings' hash.
    /// @return effectiveAt When `applySettings` accepts them.
    function proposedSettings() external view returns (bytes32 proposedHash, uint256 effectiveAt);

    /// @notice Ids the next batch and the next job will get.
    /// @return nextBatchId The next batch id.
    /// @return nextJobId The next job id.
    function nextIds() external view returns (uint32 nextBatchId, uint40 nextJobId);
}
