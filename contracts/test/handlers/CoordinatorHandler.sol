// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "../utils/TestBase.sol";
import {Vm} from "../utils/Vm.sol";
import {Coordinator} from "../../Coordinator.sol";
import {views} from "../utils/Views.sol";
import {ICoordinator} from "../../ICoordinator.sol";
import {TestToken} from "../../devnet/TestToken.sol";

/// @notice Drives the Coordinator through random sequences of every call, by honest and
///         hostile provers, a relayer and an owner, and keeps the ghost state that the
///         invariants compare with the contract's.
/// @dev Roles: actors 0-2 are honest (their proofs are judged Valid); 3 hoards (leases as much as
///      its bond backs, never submits); 4 cheats (its proofs are judged Invalid); 5 never
///      uploads (judged Missing once the deadline passes). The relayer posts whole proving
///      trees of random leaf counts and cancels some; `drive` lets the honest provers and the
///      relayer work for a while, which finishes trees.
contract CoordinatorHandler is TestBase {
    uint256 internal constant ACTORS = 6;
    uint256 internal constant HOARDER = 3;
    uint256 internal constant CHEAT = 4;
    uint256 internal constant SILENT = 5;
    uint256 internal constant HONEST = 3;
    uint256 internal constant UPLOAD_DEADLINE_PASSED = 61;
    /// Jobs posted in one run at most: every invariant scans them all after every call.
    uint256 internal constant MAX_JOBS = 64;
    uint256 internal constant MAX_LEAVES = 13;
    bytes32 internal constant CIRCUIT = keccak256("circuit");
    /// @notice A second circuit: its batches go to a lane of their own (lane 1).
    bytes32 internal constant CIRCUIT_B = keccak256("another circuit");
    /// @notice Lanes the campaign posts to.
    uint8 public constant LANES = 2;
    bytes32 internal constant JOB_LEASED = keccak256("JobLeased(uint64,address,address)");
    bytes32 internal constant VERDICT_RECORDED =
        keccak256("VerdictRecorded(uint64,address,uint8,bool,uint256)");
    bytes32 internal constant BATCH_FINALIZED = keccak256("BatchFinalized(uint32,bytes32)");

    Coordinator public coord;
    TestToken public token;
    address public relayer;
    address public owner;
    address[] public actors;

    /// @notice Every lease the handler obtained, in order.
    uint64[] public rids;
    /// @notice Submitted leases not yet seen judged, in submission order.
    uint64[] internal awaiting;
    /// @notice Leases that may still be submitted (pruned as they stop being so).
    uint64[] internal unsubmitted;
    uint32 public batchCount;

    /// @notice How often each job was paid (must stay at most 1).
    mapping(uint40 => uint256) public timesPaid;
    /// @notice Jobs seen Complete or Cleared: they must never be leased again.
    mapping(uint40 => bool) public finished;
    /// @notice Rewards credited, by the contract's events.
    uint256 public ghostCredited;
    /// @notice Earnings withdrawn by provers.
    uint256 public ghostWithdrawnEarnings;
    /// @notice Set if a finished or cancelled job was leased.
    bool public leasedFinishedJob;
    /// @notice Set if a lease from one lane got a job of another circuit's.
    bool public leasedFromAnotherLane;
    /// @notice Set if a hostile call (foreign request, double submission, non-relayer verdict)
    ///         went through.
    bool public hostileCallSucceeded;
    /// @notice Jobs seen out of Waiting (ready at least once).
    mapping(uint40 => bool) public sawReady;
    /// @notice Set if a job seen ready was later seen Waiting again (it would become fresh twice).
    bool public readiedTwice;
    /// @notice Set if a job younger than the minimum age went other than as a spare (see
    ///         `spareAttempts`): to a lapsed prover, or past spareAttempts from a holder in good
    ///         standing.
    bool public badSpare;
    /// @notice When each lease was made.
    mapping(uint64 => uint256) internal leasedAt;
    /// @notice Set if a cancel refunded other than (jobs not complete) * reward.
    bool public badRefund;
    /// @notice Final proofs announced by BatchFinalized, per batch (must be the top's proof).
    mapping(uint32 => bytes32) public announcedFinal;
    /// @notice Times each batch was announced final (must stay at most 1).
    mapping(uint32 => uint256) public timesFinalized;
    /// @notice Set if an expiry moved funds, or did not release exactly one lease, or an overdue
    ///         submission could not be expired.
    bool public badExpiry;
    /// @notice Set if a release left the bond counted, lapsed its holder, moved funds, or left
    ///         the job anywhere but at the pending list's head; or a lease that could be
    ///         released was refused.
    bool public badRelease;
    /// @notice The settings last announced.
    ICoordinator.Settings internal proposed;
    /// @notice Calls per action, for the summary.
    mapping(bytes32 => uint256) public calls;

    constructor(Coordinator coord_, TestToken token_, address relayer_, address owner_) {
        coord = coord_;
        token = token_;
        relayer = relayer_;
        owner = owner_;
        for (uint256 i; i < ACTORS; ++i) {
            actors.push(makeAddr(string.concat("actor", vm.toString(i))));
        }
    }

    /// @notice Start every run from a live network: each prover bonded for three leases.
    function bootstrap() external {
        for (uint256 i; i < ACTORS; ++i) {
            this.stake(i, 30);
        }
    }

    // ------------------------------------------------------------------ actions

    /// @notice A prover adds to its bond.
    function stake(uint256 actorSeed, uint256 amount) external {
        address a = _actor(actorSeed);
        // Whole tokens, so that fuzzed small numbers still make a useful bond.
        amount = bound(amount, 1, 60) * 1 ether + (amount >> 200);
        token.mint(a, amount);
        vm.startPrank(a);
        token.approve(address(coord), amount);
        coord.stake(amount);
        vm.stopPrank();
        calls[keccak256("stake")]++;
    }

    /// @notice A prover starts unbonding part of its free bond.
    function requestUnstake(uint256 actorSeed, uint256 amount) external {
        address a = _actor(actorSeed);
        (uint256 bond,,, uint256 active,,,) = views(coord).prover(a);
        (ICoordinator.StakeParams memory sp,,,,) = views(coord).params();
        uint256 locked = active * sp.bondPerLease;
        if (bond <= locked) return;
        amount = bound(amount, 1, bond - locked);
        vm.prank(a);
        coord.requestUnstake(amount);
        calls[keccak256("requestUnstake")]++;
    }

    /// @notice A prover withdraws unbonded stake when it may.
    function withdrawUnstaked(uint256 actorSeed) external {
        address a = _actor(actorSeed);
        (, uint256 unbonding, uint256 readyAt,,,,) = views(coord).prover(a);
        if (unbonding == 0 || block.timestamp < readyAt) return;
        vm.prank(a);
        coord.withdrawUnstaked();
        calls[keccak256("withdrawUnstaked")]++;
    }

    /// @notice A prover withdraws its earnings.
    function withdrawEarnings(uint256 actorSeed) external {
        address a = _actor(actorSeed);
        (,,,, uint256 earnings,,) = views(coord).prover(a);
        if (earnings == 0) return;
        vm.prank(a);
        coord.withdrawEarnings();
        ghostWithdrawnEarnings += earnings;
        calls[keccak256("withdrawEarnings")]++;
    }

    /// @notice The relayer posts a source batch's whole proving tree of 1..MAX_LEAVES leaves, of
    ///         one of two circuits (so in one of two lanes).
    function postBatch(uint256 leaves, uint256 reward) external {
        bytes32 circuit = (leaves >> 200) % 2 == 0 ? CIRCUIT : CIRCUIT_B;
        (, uint40 nextJob) = views(coord).nextIds();
        if (nextJob > MAX_JOBS) return;
        reward = bound(reward, 0, 3 ether);
        uint24 n = uint24(bound(leaves, 1, MAX_LEAVES));
        uint256 jobs = _treeSize(n);
        token.mint(relayer, jobs * reward);
        vm.startPrank(relayer);
        token.approve(address(coord), jobs * reward);
        uint32 id = coord.postBatch(
            keccak256(abi.encode("root", batchCount, block.timestamp)), n, uint96(reward), circuit
        );
        vm.stopPrank();
        batchCount = id;
        calls[keccak256("postBatch")]++;
    }

    /// @notice A prover leases up to `n` jobs from one lane; every job it gets must be of that
    ///         lane's circuit. The hoarder always asks for its whole cap.
    function lease(uint256 actorSeed, uint256 n) external {
        uint256 idx = actorSeed % ACTORS;
        address a = actors[idx];
        uint8 lane = uint8((n >> 200) % LANES);
        n = idx == HOARDER ? 16 : bound(n, 1, 4);
        bool[ACTORS] memory lapsedBefore;
        for (uint256 k; k < ACTORS; ++k) {
            lapsedBefore[k] = views(coord).lapsed(actors[k]);
        }
        vm.prank(a);
        try coord.leaseFrom(lane, n) returns (uint64[] memory got, uint40[] memory jobs) {
            for (uint256 i; i < jobs.length; ++i) {
                if (_laneOf(jobs[i]) != lane) leasedFromAnotherLane = true;
            }
            _checkSpares(idx, got, lapsedBefore);
            _noteLeased(got, jobs);
            calls[keccak256("lease")]++;
        } catch (bytes memory reason) {
            calls[keccak256("lease (refused)")]++;
            if (bytes4(reason) == ICoordinator.NoJobAvailable.selector) {
                calls[keccak256("lease (no job)")]++;
            }
        }
    }

    /// @notice A prover with a lease in hand submits it (the hoarder never does).
    function submit(uint256 actorSeed, uint256 pick) external {
        for (uint256 k; k < ACTORS; ++k) {
            uint256 idx = (actorSeed % ACTORS + k) % ACTORS;
            if (idx == HOARDER) continue;
            address a = actors[idx];
            uint64 rid = _pickLease(a, ICoordinator.LeaseState.Leased, pick);
            if (rid == 0) continue;
            (,,,, bool pending) = _jobOf(rid);
            if (pending) {
                _trySubmit(a, rid);
            } else {
                vm.prank(a);
                try coord.submitProof(rid, _hashOf(rid, a)) {
                    hostileCallSucceeded = true; // a finished job must refuse submissions
                } catch {
                    calls[keccak256("submit (job finished)")]++;
                }
            }
            return;
        }
    }

    /// @notice A prover gives back a lease it holds and will not finish (it stops, or its
    ///         breaker trips): the bond it locked is free at once, the prover does not lapse,
    ///         no funds move, and the job heads the pending list (or is cleared if its batch was
    ///         cancelled), to the head of its lane's pending list. The hoarder never releases.
    function release(uint256 actorSeed, uint256 pick) external {
        uint256 idx = actorSeed % ACTORS;
        if (idx == HOARDER) return;
        address a = actors[idx];
        uint64 rid = _pickLease(a, ICoordinator.LeaseState.Leased, pick);
        if (rid == 0) return;
        (uint40 jobId,, ICoordinator.JobStatus status, bool cancelled,) = _jobOf(rid);
        (,, uint64 latest,,) = views(coord).job(jobId);
        // Only the latest lease of a pending job may go back, and it always may (short of its
        // last possible attempt, which no run reaches).
        bool releasable = latest == rid && status == ICoordinator.JobStatus.Pending;
        Books memory before = _books(a);
        vm.prank(a);
        try coord.releaseLease(rid) {
            Books memory now_ = _books(a);
            if (!releasable || now_.bond != before.bond || now_.earned != before.earned) {
                badRelease = true;
            }
            if (now_.active + 1 != before.active || now_.lapsed != before.lapsed) {
                badRelease = true;
            }
            if (now_.balance != before.balance) badRelease = true;
            (ICoordinator.JobStatus after_,,,,) = views(coord).job(jobId);
            (,, uint40 head,) = views(coord).laneQueue(_laneOf(jobId));
            if (cancelled ? after_ != ICoordinator.JobStatus.Cleared : head != jobId) {
                badRelease = true;
            }
            if (cancelled) finished[jobId] = true;
            calls[keccak256("release")]++;
        } catch (bytes memory reason) {
            bytes4 sel = bytes4(reason);
            if (
                releasable
                    || (sel != ICoordinator.NotLeaseHolder.selector
                        && sel != ICoordinator.JobNotPending.selector)
            ) badRelease = true;
        }
    }

    /// @notice What a release must not change but the active count.
    struct Books {
        uint256 bond;
        uint256 active;
        uint256 earned;
        bool lapsed;
        uint256 balance;
    }

    function _books(address a) internal view returns (Books memory b) {
        (b.bond,,, b.active, b.earned,,) = views(coord).prover(a);
        b.lapsed = views(coord).lapsed(a);
        b.balance = token.balanceOf(address(coord));
    }

    /// @notice Hostile calls that must all be refused: a lease someone else holds, a request
    ///         id that does not exist, a second submission, verdicts from a non-relayer.
    function hostile(uint256 actorSeed, uint256 pick, uint256 kind) external {
        address a = _actor(actorSeed);
        if (rids.length == 0) return;
        uint64 rid = rids[pick % rids.length];
        (address holder,, ICoordinator.LeaseState state,,) = views(coord).leaseInfo(rid);
        kind %= 6;
        if (kind == 4) {
            _unstakeThenSubmit(rid, holder, state);
            return;
        }
        if (kind == 5) {
            // Someone else's lease, or a lease already submitted, judged or released.
            if (holder == a && state == ICoordinator.LeaseState.Leased) return;
            vm.prank(a);
            try coord.releaseLease(rid) {
                hostileCallSucceeded = true;
            } catch {}
            calls[keccak256("hostile release")]++;
            return;
        }
        if (kind == 0) {
            if (holder == a) return;
            vm.prank(a);
            try coord.submitProof(rid, keccak256("stolen")) {
                hostileCallSucceeded = true;
            } catch {}
        } else if (kind == 1) {
            uint64 foreign = rid + (uint64(bound(pick >> 32, 1, 1 << 20)) << 24);
            (,, ICoordinator.LeaseState fs,,) = views(coord).leaseInfo(foreign);
            if (fs != ICoordinator.LeaseState.None) return;
            vm.prank(a);
            try coord.submitProof(foreign, keccak256("foreign")) {
                hostileCallSucceeded = true;
            } catch {}
        } else if (kind == 2) {
            if (state == ICoordinator.LeaseState.Leased || state == ICoordinator.LeaseState.None) {
                return;
            }
            vm.prank(holder);
            try coord.submitProof(rid, keccak256("again")) {
                hostileCallSucceeded = true;
            } catch {}
        } else {
            ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
            vs[0] = ICoordinator.Verdict(
                rid, holder, uint8(ICoordinator.VerdictResult.Valid), _hashOf(rid, holder)
            );
            vm.prank(a);
            try coord.recordVerdicts(vs) {
                hostileCallSucceeded = true;
            } catch {}
        }
        calls[keccak256("hostile")]++;
    }

    // Slash evasion: the holder of a lease that LRP handed on frees all its bond, then submits
    // the lease; that must go through only if the bond still backs every counted lease.
    function _unstakeThenSubmit(uint64 rid, address holder, ICoordinator.LeaseState state)
        internal
    {
        (uint40 jobId,,,, bool pending) = _jobOf(rid);
        (,, uint64 latest,,) = views(coord).job(jobId);
        if (state != ICoordinator.LeaseState.Leased || !pending || latest == rid) return;
        (uint256 bond,,, uint256 active,,,) = views(coord).prover(holder);
        (ICoordinator.StakeParams memory sp,,,,) = views(coord).params();
        uint256 locked = active * sp.bondPerLease;
        uint256 free = bond > locked ? bond - locked : 0;
        // Half the time it keeps room for one more lease, so the submission may go through.
        if (rid % 2 == 0 && free >= sp.bondPerLease) {
            free -= sp.bondPerLease;
        }
        if (free != 0) {
            vm.prank(holder);
            coord.requestUnstake(free);
        }
        vm.prank(holder);
        try coord.submitProof(rid, _hashOf(rid, holder)) {
            awaiting.push(rid);
            (bond,,, active,,,) = views(coord).prover(holder);
            if (bond < active * sp.bondPerLease) hostileCallSucceeded = true;
            calls[keccak256("unstake then submit (backed)")]++;
        } catch (bytes memory reason) {
            if (bytes4(reason) != ICoordinator.LeaseCapReached.selector) {
                hostileCallSucceeded = true;
            }
        }
        calls[keccak256("unstake then submit")]++;
    }

    /// @notice The relayer judges up to `count` awaiting submissions in submission order, with
    ///         junk entries (replays, wrong provers, another proof) mixed in; they must be
    ///         skipped.
    function judge(uint256 count, uint256 junkSeed) external {
        uint256 n = bound(count, 1, 8);
        if (n > awaiting.length) n = awaiting.length;
        if (n == 0) return;
        uint256 junk = junkSeed % 4;
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](n + junk);
        for (uint256 i; i < n; ++i) {
            uint64 rid = awaiting[i];
            (address holder,,,,) = views(coord).leaseInfo(rid);
            vs[i] =
                ICoordinator.Verdict(rid, holder, uint8(_resultFor(holder)), _hashOf(rid, holder));
        }
        for (uint256 k; k < junk; ++k) {
            ICoordinator.Verdict memory v = vs[(junkSeed >> 8) % n];
            if (k == 0) {
                vs[n + k] = v; // replay
            } else if (k == 1) {
                vs[n + k] =
                    ICoordinator.Verdict(v.requestId, actors[junkSeed % ACTORS], 1, v.proofHash);
            } else {
                // A verdict about another submission (as after a reorg) judges nothing.
                vs[n + k] = ICoordinator.Verdict(v.requestId, v.prover, 1, keccak256("other"));
            }
        }
        vm.recordLogs();
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        _countPayments(vm.getRecordedLogs());
        _dropJudged();
        calls[keccak256("judge")]++;
    }

    /// @notice The relayer or owner cancels a batch now and then.
    function cancel(uint256 pick) external {
        if (batchCount == 0 || pick % 5 != 0) return;
        uint32 id = uint32(bound(pick >> 8, 1, batchCount));
        ICoordinator.BatchInfo memory b = views(coord).batch(id);
        if (b.cancelled || b.finalProofHash != 0) return;
        uint256 notComplete;
        for (uint40 j = b.firstJobId; j < b.firstJobId + b.jobCount; ++j) {
            (ICoordinator.JobStatus s,,,,) = views(coord).job(j);
            if (s != ICoordinator.JobStatus.Complete) ++notComplete;
        }
        address by = pick % 2 == 0 ? relayer : owner;
        uint256 before = token.balanceOf(relayer);
        uint256 ownerBefore = token.balanceOf(owner);
        vm.prank(by);
        coord.cancelBatch(id);
        // The refund goes to the poster (the relayer), whoever cancels.
        if (token.balanceOf(relayer) - before != notComplete * b.rewardPerJob) badRefund = true;
        if (token.balanceOf(owner) != ownerBefore) badRefund = true;
        calls[keccak256("cancel")]++;
    }

    /// @notice Anyone clears pending jobs of cancelled batches.
    function clear(uint256 from, uint256 count) external {
        (, uint40 nextJob) = views(coord).nextIds();
        if (nextJob <= 1) return;
        uint256 n = bound(count, 1, 8);
        uint256 first = bound(from, 1, nextJob - 1);
        uint40[] memory ids = new uint40[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = uint40((first + i - 1) % (nextJob - 1) + 1);
        }
        coord.clearCancelled(ids);
        _noteFinished();
        calls[keccak256("clear")]++;
    }

    /// @notice The honest provers and the relayer work for up to `rounds` rounds: each honest
    ///         prover submits what it holds and leases one more job, then the relayer judges
    ///         everything submitted. Trees get finished; the hoarder's, the cheat's and the
    ///         silent prover's jobs are taken over by LRP on the way.
    function drive(uint256 rounds) external {
        rounds = bound(rounds, 1, 8);
        for (uint256 r; r < rounds; ++r) {
            bool progress;
            for (uint256 idx; idx < HONEST; ++idx) {
                progress = _submitAll(actors[idx]) || progress;
                // Each lane in turn, the other if it has nothing.
                for (uint256 k; k < LANES; ++k) {
                    vm.prank(actors[idx]);
                    try coord.leaseFrom(uint8((idx + r + k) % LANES), 1) returns (
                        uint64[] memory got, uint40[] memory jobs
                    ) {
                        _noteLeased(got, jobs);
                        progress = true;
                        _submitAll(actors[idx]);
                        break;
                    } catch {}
                }
            }
            progress = _judgeAll() || progress;
            if (!progress) break;
            vm.warp(block.timestamp + UPLOAD_DEADLINE_PASSED);
        }
        calls[keccak256("drive")]++;
    }

    // The lane of a job's batch's circuit.
    function _laneOf(uint40 jobId) internal view returns (uint8 lane) {
        (, uint32 batchId,,,) = views(coord).job(jobId);
        (, lane) = views(coord).laneOf(views(coord).batch(batchId).circuitId);
    }

    /// @notice Time passes.
    function warp(uint256 dt) external {
        // Mostly seconds to minutes (leases young and old, spares), now and then days (unbonding).
        vm.warp(block.timestamp + (dt % 8 == 0 ? bound(dt, 1, 2 days) : bound(dt, 1, 600)));
        calls[keccak256("warp")]++;
    }

    /// @notice The owner sets the spare attempts (at once) and announces a minimum reassign age
    ///         (0 = pure LRP half the time) and deadlines, which apply after the delay.
    function setMinAgeAndSpares(uint256 seed) external {
        ICoordinator.Settings memory s = _settings();
        s.minReassignAge = seed % 2 == 0 ? 0 : uint24(bound(seed >> 8, 1, 2 hours));
        s.uploadDeadline = uint24(bound(seed >> 40, 10, UPLOAD_DEADLINE_PASSED - 1));
        s.verdictDeadline = uint32(bound(seed >> 64, 1 hours, 3 days));
        vm.startPrank(owner);
        coord.proposeSettings(s);
        coord.setSpareAttempts(uint8((seed >> 1) % (coord.MAX_SPARE_ATTEMPTS() + 1)));
        vm.stopPrank();
        proposed = s;
        calls[keccak256("setMinAgeAndSpares")]++;
    }

    /// @notice Anyone applies the announced settings once they are due (half the time, time
    ///         passes until they are).
    function applySettings(uint256 seed) external {
        (, uint256 at) = views(coord).proposedSettings();
        if (at == 0) return;
        if (block.timestamp < at && seed % 2 == 0) vm.warp(at);
        if (block.timestamp < at) {
            vm.expectRevert(ICoordinator.NoSettingsDue.selector);
            coord.applySettings(proposed);
            return;
        }
        coord.applySettings(proposed);
        calls[keccak256("settings applied")]++;
    }

    /// @notice Anyone expires a submission left unjudged past its verdict deadline: its bond is
    ///         free again, with neither pay nor slash. Half the time the relayer is down until
    ///         then.
    function expire(uint256 pick) external {
        if (awaiting.length == 0) return;
        uint64 rid = awaiting[pick % awaiting.length];
        (address holder,, ICoordinator.LeaseState state, uint32 at,) = views(coord).leaseInfo(rid);
        if (state != ICoordinator.LeaseState.Submitted) return;
        (uint256 upload, uint256 verdict) = views(coord).deadlinesAt(at);
        if ((pick >> 8) % 2 == 0 && block.timestamp < at + upload + verdict) {
            vm.warp(at + upload + verdict);
        }
        (uint256 bond,,, uint256 active, uint256 earned,,) = views(coord).prover(holder);
        try coord.expireSubmission(rid) {
            if (block.timestamp < at + upload + verdict) hostileCallSucceeded = true;
            (uint256 bondAfter,,, uint256 activeAfter, uint256 earnedAfter,,) =
                views(coord).prover(holder);
            if (bondAfter != bond || earnedAfter != earned || activeAfter + 1 != active) {
                badExpiry = true;
            }
            _dropJudged();
            calls[keccak256("expired")]++;
        } catch (bytes memory reason) {
            if (bytes4(reason) != ICoordinator.NotExpired.selector) hostileCallSucceeded = true;
            if (block.timestamp >= at + upload + verdict) badExpiry = true;
        }
    }

    /// @notice Two provers pass one job back and forth: each leases as soon as it is idle, so
    ///         LRP hands the other's lease on (as a spare, or once old enough) over and over.
    function passBack(uint256 rounds) external {
        rounds = bound(rounds, 1, 6);
        for (uint256 r; r < rounds; ++r) {
            address a = actors[HOARDER + r % 2];
            bool[ACTORS] memory lapsedBefore;
            for (uint256 k; k < ACTORS; ++k) {
                lapsedBefore[k] = views(coord).lapsed(actors[k]);
            }
            vm.prank(a);
            try coord.leaseMany(1) returns (uint64[] memory got, uint40[] memory jobs) {
                _checkSpares(HOARDER + r % 2, got, lapsedBefore);
                _noteLeased(got, jobs);
                for (uint256 i; i < got.length; ++i) {
                    (, address previous) = _previousHolder(got[i]);
                    if (previous != address(0)) calls[keccak256("passed back")]++;
                }
            } catch {}
            vm.warp(block.timestamp + 1);
        }
    }

    /// @notice The owner sets the stale age (0 = off), which reorders leasing but moves no funds.
    function setStaleAge(uint256 age) external {
        // Off a quarter of the time, else anything from a second to the bound.
        uint24 a = age % 4 == 0 ? 0 : uint24(bound(age, 1, 1 days));
        vm.prank(owner);
        coord.setStaleAge(a);
        calls[keccak256("setStaleAge")]++;
    }

    /// @notice Anyone sweeps slashed funds to the treasury.
    function sweep() external {
        if (coord.slashedOwed() == 0) return;
        coord.sweepSlashed();
        calls[keccak256("sweep")]++;
    }

    // ------------------------------------------------------------------ views for invariants

    /// @notice The actors.
    function actorList() external view returns (address[] memory) {
        return actors;
    }

    /// @notice How many leases the handler obtained.
    function ridCount() external view returns (uint256) {
        return rids.length;
    }

    // ------------------------------------------------------------------ helpers

    function _settings() internal view returns (ICoordinator.Settings memory s) {
        (ICoordinator.StakeParams memory sp, uint24 age, uint24 upload, uint32 unbonding,) =
            views(coord).params();
        (, uint256 verdict) = views(coord).deadlinesAt(block.timestamp);
        s = ICoordinator.Settings(
            sp, age, upload, unbonding, uint32(verdict), coord.relayer(), coord.treasury()
        );
    }

    // The lease before `rid` of the same job, and its holder (0 for a first lease).
    function _previousHolder(uint64 rid) internal view returns (uint64 prev, address holder) {
        if (uint24(rid) <= 1) return (0, address(0));
        prev = rid - 1;
        (holder,,,,) = views(coord).leaseInfo(prev);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % ACTORS];
    }

    function _resultFor(address holder) internal view returns (ICoordinator.VerdictResult) {
        if (holder == actors[CHEAT]) return ICoordinator.VerdictResult.Invalid;
        if (holder == actors[SILENT]) return ICoordinator.VerdictResult.Missing;
        return ICoordinator.VerdictResult.Valid;
    }

    function _jobOf(uint64 rid)
        internal
        view
        returns (
            uint40 jobId,
            uint32 batchId,
            ICoordinator.JobStatus status,
            bool cancelled,
            bool pending
        )
    {
        (, jobId,,,) = views(coord).leaseInfo(rid);
        (status, batchId,,,) = views(coord).job(jobId);
        cancelled = views(coord).batch(batchId).cancelled;
        pending = status == ICoordinator.JobStatus.Pending && !cancelled;
    }

    // A lease of `a` in `state`, chosen by `pick` among them (0 if none).
    function _pickLease(address a, ICoordinator.LeaseState state, uint256 pick)
        internal
        view
        returns (uint64)
    {
        uint256 n = rids.length;
        if (n == 0) return 0;
        for (uint256 k; k < n; ++k) {
            uint64 rid = rids[(pick % n + k) % n];
            (address holder,, ICoordinator.LeaseState s,,) = views(coord).leaseInfo(rid);
            if (holder == a && s == state) return rid;
        }
        return 0;
    }

    // Records leases the handler obtained; a job seen finished, or of a cancelled batch, or
    // not ready (Waiting is never leasable), must never be among them.
    // A job taken over younger than the minimum age is a spare: the taker had not lapsed, and
    // the job had been leased at most `spareAttempts` times or its holder had lapsed; or it was
    // released.
    function _checkSpares(uint256 taker, uint64[] memory got, bool[ACTORS] memory lapsedBefore)
        internal
    {
        (, uint24 minAge,,,) = views(coord).params();
        for (uint256 i; i < got.length; ++i) {
            uint24 attempt = uint24(got[i]);
            if (attempt < 2) continue;
            uint64 prev = got[i] - 1;
            if (block.timestamp >= leasedAt[prev] + minAge) continue;
            (address holder,, ICoordinator.LeaseState ps,,) = views(coord).leaseInfo(prev);
            // Given back by its holder: any age goes.
            if (ps == ICoordinator.LeaseState.Released) {
                calls[keccak256("released job taken")]++;
                continue;
            }
            calls[keccak256("spare")]++;
            bool holderLapsed;
            for (uint256 k; k < ACTORS; ++k) {
                if (actors[k] == holder) holderLapsed = lapsedBefore[k];
            }
            if (holderLapsed) calls[keccak256("spare (lapsed holder)")]++;
            if (
                lapsedBefore[taker] || (attempt - 1 > views(coord).spareAttempts() && !holderLapsed)
            ) {
                badSpare = true;
            }
        }
    }

    function _noteLeased(uint64[] memory got, uint40[] memory jobs) internal {
        for (uint256 i; i < got.length; ++i) {
            leasedAt[got[i]] = block.timestamp;
            rids.push(got[i]);
            if (uint24(got[i]) > 1) calls[keccak256("reassigned")]++;
            (, uint32 b,,,) = views(coord).job(jobs[i]);
            ICoordinator.BatchInfo memory info = views(coord).batch(b);
            if (finished[jobs[i]] || info.cancelled) leasedFinishedJob = true;
            // A node is ready only after a verdict, and every verdict is observed.
            bool node = jobs[i] >= info.firstJobId + info.leafCount;
            if (node && !sawReady[jobs[i]]) leasedFinishedJob = true;
            unsubmitted.push(got[i]);
        }
    }

    // Submits every lease `a` holds whose job is still pending; true if it submitted any.
    // Leases that can no longer be submitted leave `unsubmitted`.
    function _submitAll(address a) internal returns (bool any) {
        uint256 w;
        for (uint256 k; k < unsubmitted.length; ++k) {
            uint64 rid = unsubmitted[k];
            (address holder,, ICoordinator.LeaseState s,,) = views(coord).leaseInfo(rid);
            (,,,, bool pending) = _jobOf(rid);
            if (s != ICoordinator.LeaseState.Leased || !pending) continue;
            if (holder != a) {
                unsubmitted[w++] = rid;
                continue;
            }
            if (!_trySubmit(a, rid)) {
                unsubmitted[w++] = rid; // its bond may back it after a verdict
                continue;
            }
            any = true;
        }
        while (unsubmitted.length > w) unsubmitted.pop();
    }

    // Submits `a`'s lease `rid` of a pending job. A lease LRP handed on counts against the bond
    // again once submitted: with no room for it the submission must revert LeaseCapReached.
    function _trySubmit(address a, uint64 rid) internal returns (bool ok) {
        (uint40 jobId,,,,) = _jobOf(rid);
        (,, uint64 latest,,) = views(coord).job(jobId);
        (,,, uint256 active,,,) = views(coord).prover(a);
        bool backed = latest == rid || active < views(coord).leaseCap(a);
        // A third of the submissions lease the next job in the same call.
        if (rid % 3 == 0) return _trySubmitAndLease(a, rid, backed);
        vm.prank(a);
        try coord.submitProof(rid, _hashOf(rid, a)) {
            return _submitted(rid, backed);
        } catch (bytes memory reason) {
            return _refused(reason, backed);
        }
    }

    function _trySubmitAndLease(address a, uint64 rid, bool backed) internal returns (bool ok) {
        vm.prank(a);
        try coord.submitAndLease(rid, _hashOf(rid, a)) returns (uint64 next, uint40 job) {
            if (next != 0) {
                uint64[] memory got = new uint64[](1);
                uint40[] memory jobs = new uint40[](1);
                (got[0], jobs[0]) = (next, job);
                _noteLeased(got, jobs);
                calls[keccak256("submit and lease")]++;
            }
            return _submitted(rid, backed);
        } catch (bytes memory reason) {
            return _refused(reason, backed);
        }
    }

    // A submission went through: it must have been backed by the bond.
    function _submitted(uint64 rid, bool backed) internal returns (bool) {
        if (!backed) hostileCallSucceeded = true;
        awaiting.push(rid);
        calls[keccak256("submit")]++;
        return true;
    }

    // A submission was refused: only for want of room in the bond.
    function _refused(bytes memory reason, bool backed) internal returns (bool) {
        if (backed || bytes4(reason) != ICoordinator.LeaseCapReached.selector) {
            hostileCallSucceeded = true;
        }
        calls[keccak256("submit (not backed)")]++;
        return false;
    }

    // The relayer judges every awaiting submission (Missing ones before their deadline are
    // skipped and stay); true if any verdict was applied.
    function _judgeAll() internal returns (bool any) {
        uint256 n = awaiting.length;
        if (n == 0) return false;
        if (n > 256) n = 256;
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](n);
        for (uint256 i; i < n; ++i) {
            uint64 rid = awaiting[i];
            (address holder,,,,) = views(coord).leaseInfo(rid);
            vs[i] =
                ICoordinator.Verdict(rid, holder, uint8(_resultFor(holder)), _hashOf(rid, holder));
        }
        vm.recordLogs();
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        _countPayments(vm.getRecordedLogs());
        uint256 before = awaiting.length;
        _dropJudged();
        calls[keccak256("judge")]++;
        return awaiting.length < before;
    }

    // The proof hash every honest submission here commits to: the contract keeps 4 bytes of it,
    // the verdict names all of it.
    function _hashOf(uint64 rid, address holder) internal pure returns (bytes32) {
        return keccak256(abi.encode(rid, holder));
    }

    function _treeSize(uint256 leaves) internal pure returns (uint256 size) {
        for (uint256 c = leaves; c != 0; c = (c + 1) / 2) {
            size += c;
            if (c == 1) break;
        }
    }

    function _countPayments(Vm.Log[] memory logs) internal {
        // Nodes handed with a verdict to the prover that waited for them: leases like any other,
        // noted once readiness is (the node is ready in the same transaction).
        uint64[] memory handed = new uint64[](logs.length);
        uint40[] memory handedJobs = new uint40[](logs.length);
        uint256 h;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(coord) && logs[i].topics[0] == JOB_LEASED) {
                handed[h] = uint64(uint256(logs[i].topics[1]));
                handedJobs[h++] = uint40(uint256(logs[i].topics[1]) >> 24);
                calls[keccak256("handed")]++;
                continue;
            }
            if (logs[i].emitter == address(coord) && logs[i].topics[0] == BATCH_FINALIZED) {
                uint32 b = uint32(uint256(logs[i].topics[1]));
                announcedFinal[b] = abi.decode(logs[i].data, (bytes32));
                timesFinalized[b] += 1;
                calls[keccak256("finalized")]++;
                continue;
            }
            if (logs[i].emitter != address(coord) || logs[i].topics[0] != VERDICT_RECORDED) {
                continue;
            }
            (, bool completed, uint256 amount) =
                abi.decode(logs[i].data, (ICoordinator.VerdictResult, bool, uint256));
            if (!completed) continue;
            uint40 jobId = uint40(uint256(logs[i].topics[1]) >> 24);
            timesPaid[jobId] += 1;
            ghostCredited += amount;
            calls[keccak256("completed")]++;
        }
        _noteFinished();
        assembly ("memory-safe") {
            mstore(handed, h)
            mstore(handedJobs, h)
        }
        _noteLeased(handed, handedJobs);
    }

    // Keeps only the submissions still awaiting a verdict (Missing ones before the deadline stay).
    function _dropJudged() internal {
        uint256 w;
        for (uint256 i; i < awaiting.length; ++i) {
            (,, ICoordinator.LeaseState s,,) = views(coord).leaseInfo(awaiting[i]);
            if (s == ICoordinator.LeaseState.Submitted) awaiting[w++] = awaiting[i];
        }
        while (awaiting.length > w) awaiting.pop();
    }

    // Runs after every verdict (the only calls that ready nodes) and every clear: notes the
    // jobs that finished, and the jobs that left Waiting; one seen Waiting after that would
    // become ready twice.
    function _noteFinished() internal {
        (, uint40 nextJob) = views(coord).nextIds();
        for (uint40 j = 1; j < nextJob; ++j) {
            (ICoordinator.JobStatus s,,,,) = views(coord).job(j);
            if (s == ICoordinator.JobStatus.Complete || s == ICoordinator.JobStatus.Cleared) {
                finished[j] = true;
            }
            if (s != ICoordinator.JobStatus.Waiting) sawReady[j] = true;
            else if (sawReady[j]) readiedTwice = true;
        }
    }
}
