// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ICoordinator, ICoordinatorViews} from "./ICoordinator.sol";
import {CoordinatorState} from "./CoordinatorState.sol";

/// @title CoordinatorViews: the Coordinator's views, run over the Coordinator's storage
/// @notice The Coordinator deploys one in its constructor and delegates every call it does not
///         implement to it (its fallback), so `coordinator.job(id)` and the other views answer
///         from the Coordinator's own storage. Called directly, the views read this contract's
///         empty storage. Nothing here writes storage: the functions below are all views, and
///         the ones it inherits that write (Ownable2Step's) are the Coordinator's own, so its
///         fallback never reaches them here.
contract CoordinatorViews is CoordinatorState, ICoordinatorViews {
    /// @notice Deployed by the Coordinator, which owns it (an owner Ownable requires; unused).
    constructor() Ownable(msg.sender) {}

    /// @inheritdoc ICoordinatorViews
    function batch(uint32 batchId) external view returns (ICoordinator.BatchInfo memory info) {
        Batch storage b = _batches[batchId];
        // forge-lint: disable-next-line(unsafe-typecast) at most leafCount, a uint24
        uint24 leased = b.leafCount - uint24(_freshLeaves(_loadQueue(b.lane), b, batchId));
        info = ICoordinator.BatchInfo({
            witnessRoot: b.witnessRoot,
            circuitId: b.circuitId,
            firstJobId: b.firstJobId,
            jobCount: b.jobCount,
            leafCount: b.leafCount,
            jobsLeft: b.jobsLeft,
            leasedFresh: leased,
            // forge-lint: disable-next-line(unsafe-typecast) at most the batch's jobs, below 2^24
            freshNodes: uint24(_freshNodes(b.lane, batchId)),
            rewardPerJob: b.rewardPerJob,
            cancelled: b.cancelled,
            finalProofHash: b.finalProofHash,
            poster: b.poster
        });
    }

    /// @inheritdoc ICoordinatorViews
    function job(uint40 jobId)
        external
        view
        returns (
            ICoordinator.JobStatus status,
            uint32 batchId,
            uint64 latestRequest,
            uint32 leasedAt,
            uint64 winningRequest
        )
    {
        Job memory j = _loadJob(jobId);
        if (j.status == ICoordinator.JobStatus.Fresh) {
            batchId = _batchOf(jobId);
            // Won by its only lease: the word was deleted, the completion kept (see `_done`);
            // when it was leased is in the lease's event.
            if (_isDone(jobId)) {
                uint64 only = _rid(jobId, 1);
                return (ICoordinator.JobStatus.Complete, batchId, only, 0, only);
            }
            // An aggregation node none of whose children is complete has no storage yet.
            Batch storage b = _batches[batchId];
            bool waiting = j.batchId == 0 && batchId != 0 && jobId >= b.firstJobId + b.leafCount;
            return (
                waiting ? ICoordinator.JobStatus.Waiting : ICoordinator.JobStatus.Fresh,
                batchId,
                0,
                0,
                0
            );
        }
        // forge-lint: disable-next-line(unsafe-typecast) a complete job's prev is an attempt
        if (j.status == ICoordinator.JobStatus.Complete) {
            winningRequest = _rid(jobId, uint24(j.prev));
        }
        return (j.status, j.batchId, _rid(jobId, j.attempt), j.leasedAt, winningRequest);
    }

    /// @inheritdoc ICoordinatorViews
    function leaseInfo(uint64 requestId)
        external
        view
        returns (
            address holder,
            uint40 jobId,
            ICoordinator.LeaseState state,
            uint32 submittedAt,
            bytes4 proofPrefix
        )
    {
        uint24 attempt;
        (jobId, attempt) = _split(requestId);
        Job memory j = _loadJob(jobId);
        if (attempt == 0 || attempt > j.attempt) {
            // The only lease of a job it won, whose word was deleted (see `_done`): Valid; its
            // holder, time and proof hash are in its events (`JobLeased`, `ProofSubmitted`).
            if (attempt == 1 && _isDone(jobId)) {
                return (address(0), jobId, ICoordinator.LeaseState.Valid, 0, 0);
            }
            return (address(0), 0, ICoordinator.LeaseState.None, 0, 0);
        }
        Lease memory l = attempt == j.attempt ? _latestLease(j) : _loadLease(requestId);
        return (l.prover, jobId, l.state, l.submittedAt, l.proofPrefix);
    }

    /// @inheritdoc ICoordinatorViews
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
        )
    {
        Prover memory p = _provers[account];
        ProverFunds memory f = _funds[account];
        return (
            p.bond,
            f.unbonding,
            f.unbondingReadyAt,
            p.activeLeases,
            p.earnings,
            p.unsubmitted,
            f.slashes
        );
    }

    /// @inheritdoc ICoordinatorViews
    function lapsed(address account) external view returns (bool) {
        return _provers[account].lapsed;
    }

    /// @inheritdoc ICoordinatorViews
    function leaseCap(address account) external view returns (uint256) {
        return _cap(_provers[account].bond, _loadConfig());
    }

    /// @inheritdoc ICoordinatorViews
    function queue()
        external
        view
        returns (uint256 freshJobs, uint256 pendingJobs, uint40 pendingHead, uint40 pendingTail)
    {
        return laneQueue(0);
    }

    /// @inheritdoc ICoordinatorViews
    function laneQueue(uint8 lane)
        public
        view
        returns (uint256 freshJobs, uint256 pendingJobs, uint40 pendingHead, uint40 pendingTail)
    {
        Queue memory q = _loadQueue(lane);
        freshJobs = q.leavesLeft + _freshNodes(lane, 0);
        if (q.round0Head != 0) {
            for (
                uint32 id = _batches[q.round0Head].queueNext; id != 0; id = _batches[id].queueNext) {
                freshJobs += _batches[id].leafCount;
            }
        }
        return (freshJobs, q.pendingCount, q.pendingHead, q.pendingTail);
    }

    // The listed nodes of live batches, of batch `batchId` alone unless it is 0, counted: the
    // Coordinator keeps no count (a batch slot written less per node lease), and nodes of a
    // cancelled batch stay listed until a lease drops them.
    function _freshNodes(uint256 lane, uint32 batchId) internal view returns (uint256 n) {
        for (uint40 id = _loadQueue(lane).aggHead; id != 0; id = _loadJob(id).next) {
            uint32 b = _loadJob(id).batchId;
            if ((batchId == 0 || b == batchId) && !_batches[b].cancelled) ++n;
        }
    }

    /// @inheritdoc ICoordinatorViews
    function laneOf(bytes32 circuitId) external view returns (bool known, uint8 lane) {
        uint256 l = _laneOf[circuitId];
        // forge-lint: disable-next-line(unsafe-typecast) at most MAX_LANES
        return l == 0 ? (false, 0) : (true, uint8(l - 1));
    }

    /// @inheritdoc ICoordinatorViews
    function staleAge() external view returns (uint24) {
        return _loadConfig().staleAge;
    }

    /// @inheritdoc ICoordinatorViews
    function spareAttempts() external view returns (uint8) {
        return _loadConfig().spareAttempts;
    }

    /// @inheritdoc ICoordinatorViews
    function pendingLinks(uint40 jobId) external view returns (uint40 prev, uint40 next) {
        Job memory j = _loadJob(jobId);
        Queue memory q = _loadQueue(_batches[j.batchId].lane);
        if (j.status != ICoordinator.JobStatus.Pending || (j.prev == 0 && q.pendingHead != jobId)) {
            return (0, 0);
        }
        return (j.prev, _after(q, jobId, j.next));
    }

    /// @inheritdoc ICoordinatorViews
    function params()
        external
        view
        returns (
            ICoordinator.StakeParams memory stakeParams,
            uint24 minReassignAge,
            uint24 uploadDeadline,
            uint32 unbondingDelay,
            bool leasingPaused
        )
    {
        Config memory c = _loadConfig();
        stakeParams = ICoordinator.StakeParams(c.bondPerLease, c.minBond, _slashAmount);
        uint24 upload = _deadlines[_deadlines.length - 1].upload;
        return (stakeParams, c.minReassignAge, upload, _unbondingDelay, c.leasingPaused);
    }

    /// @inheritdoc ICoordinatorViews
    function proposedSettings() external view returns (bytes32 proposedHash, uint256 effectiveAt) {
        return (_proposedHash, _proposedAt);
    }

    /// @inheritdoc ICoordinatorViews
    function deadlinesAt(uint256 time)
        external
        view
        returns (uint256 uploadDeadline, uint256 verdictDeadline)
    {
        return _deadlinesAt(time);
    }

    /// @inheritdoc ICoordinatorViews
    function nextIds() external view returns (uint32 nextBatchId, uint40 nextJobId) {
        Registry memory r = _loadRegistry();
        return (r.nextBatchId, r.nextJobId);
    }
}
