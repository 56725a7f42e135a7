// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {CoordinatorHandler} from "./handlers/CoordinatorHandler.sol";
import {TreeModel} from "./utils/TreeModel.sol";
import {ICoordinator} from "../ICoordinator.sol";
import {Console} from "./utils/Console.sol";
import {views} from "./utils/Views.sol";

/// @notice Invariants of the Coordinator under random sequences of every call by honest and
///         hostile provers (see CoordinatorHandler), checked after every 4th step and
///         each run's last (foundry.toml's `check_interval`; the deep profile checks every step).
contract CoordinatorInvariantTest is CoordinatorFixture {
    /// @notice Forge's shape for `targetSelectors`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    CoordinatorHandler internal handler;

    function setUp() public override {
        super.setUp();
        // A minimum age, so that spares apply from the start (the handler changes it).
        (,, uint24 deadline, uint32 unbonding,) = views(coord).params();
        _setTimings(300, deadline, unbonding);
        handler = new CoordinatorHandler(coord, token, relayer, owner);
        vm.label(address(handler), "handler");
        handler.bootstrap();
    }

    /// @notice Forge fuzzes calls to these contracts only.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Forge fuzzes these calls only (not the handler's views or its bootstrap).
    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](22);
        s[0] = CoordinatorHandler.stake.selector;
        s[1] = CoordinatorHandler.requestUnstake.selector;
        s[2] = CoordinatorHandler.withdrawUnstaked.selector;
        s[3] = CoordinatorHandler.withdrawEarnings.selector;
        s[4] = CoordinatorHandler.postBatch.selector;
        s[5] = CoordinatorHandler.lease.selector;
        s[6] = CoordinatorHandler.lease.selector; // leasing and submitting are the common calls
        s[7] = CoordinatorHandler.submit.selector;
        s[8] = CoordinatorHandler.submit.selector;
        s[9] = CoordinatorHandler.hostile.selector;
        s[10] = CoordinatorHandler.judge.selector;
        s[11] = CoordinatorHandler.cancel.selector;
        s[12] = CoordinatorHandler.clear.selector;
        s[13] = CoordinatorHandler.drive.selector;
        s[14] = CoordinatorHandler.warp.selector;
        s[15] = CoordinatorHandler.sweep.selector;
        s[16] = CoordinatorHandler.setStaleAge.selector;
        s[17] = CoordinatorHandler.setMinAgeAndSpares.selector;
        s[18] = CoordinatorHandler.applySettings.selector;
        s[19] = CoordinatorHandler.expire.selector;
        s[20] = CoordinatorHandler.passBack.selector;
        s[21] = CoordinatorHandler.release.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector(address(handler), s);
    }

    /// @notice The money properties. Forge runs one campaign per invariant function, each
    ///         checking its properties as foundry.toml says: two campaigns of three
    ///         checks (run in parallel) take a third of the time six of one check would.
    function invariant_MoneyAndHostileCalls() public view {
        _checkFundsConserved();
        _checkNoJobPaidTwice();
        _checkFinishedJobsNeverLeasedAndHostileCallsRefused();
    }

    /// @notice The queue properties (see `invariant_MoneyAndHostileCalls`).
    function invariant_QueueAndLeases() public view {
        _checkTreesReadyInOrderAndTheTopIsFinal();
        _checkPendingListExactAndInLrpOrder();
        _checkActiveLeasesMatchDefinition();
    }

    /// @notice token balance = bonds + unbonding + earnings + unspent escrow + slashes owed, and
    ///         unspent escrow is exactly what uncancelled batches still owe.
    function _checkFundsConserved() internal view {
        address[] memory actors = handler.actorList();
        uint256 held;
        for (uint256 i; i < actors.length; ++i) {
            (uint256 bond, uint256 unbonding,,, uint256 earnings,,) = views(coord).prover(actors[i]);
            held += bond + unbonding + earnings;
        }
        uint256 escrow = coord.totalEscrow();
        vm.assertEq(
            token.balanceOf(address(coord)),
            held + escrow + coord.slashedOwed(),
            "token balance = bonds + unbonding + earnings + escrow + slashes owed"
        );
        uint256 owed;
        (uint32 nextBatch,) = views(coord).nextIds();
        for (uint32 b = 1; b < nextBatch; ++b) {
            ICoordinator.BatchInfo memory info = views(coord).batch(b);
            if (!info.cancelled) owed += uint256(info.jobsLeft) * info.rewardPerJob;
        }
        vm.assertEq(escrow, owed, "escrow = what uncancelled batches still owe");
    }

    /// @notice No job is paid twice; the payments are exactly the completed jobs' rewards.
    function _checkNoJobPaidTwice() internal view {
        (uint32 nextBatch,) = views(coord).nextIds();
        uint256 rewards;
        for (uint32 b = 1; b < nextBatch; ++b) {
            ICoordinator.BatchInfo memory info = views(coord).batch(b);
            for (uint40 j = info.firstJobId; j < info.firstJobId + info.jobCount; ++j) {
                uint256 paid = handler.timesPaid(j);
                vm.assertLe(paid, 1, "a job was paid twice");
                (ICoordinator.JobStatus s,,,,) = views(coord).job(j);
                if (s == ICoordinator.JobStatus.Complete) {
                    rewards += info.rewardPerJob;
                    vm.assertEq(paid, 1, "a complete job was paid once");
                }
            }
        }
        address[] memory actors = handler.actorList();
        uint256 earned;
        for (uint256 i; i < actors.length; ++i) {
            (,,,, uint256 earnings,,) = views(coord).prover(actors[i]);
            earned += earnings;
        }
        vm.assertEq(handler.ghostCredited(), rewards, "credited = rewards of complete jobs");
        vm.assertEq(earned + handler.ghostWithdrawnEarnings(), rewards, "earnings add up");
    }

    /// @notice A complete, cancelled or waiting job is never leased; hostile calls never pass;
    ///         a cancel refunds exactly the jobs not completed; a job younger than the minimum
    ///         age goes only as a spare.
    function _checkFinishedJobsNeverLeasedAndHostileCallsRefused() internal view {
        vm.assertFalse(
            handler.leasedFinishedJob(), "a complete, cancelled or waiting job was leased"
        );
        vm.assertFalse(handler.hostileCallSucceeded(), "a hostile call went through");
        vm.assertFalse(handler.leasedFromAnotherLane(), "a lease took another circuit's job");
        vm.assertFalse(handler.badRefund(), "a cancel refunded other than the jobs left");
        vm.assertFalse(handler.badExpiry(), "an expiry moved funds or was refused when due");
        vm.assertFalse(handler.badSpare(), "a young job went other than as a spare");
        vm.assertFalse(handler.badRelease(), "a release kept the bond, lapsed or moved funds");
    }

    /// @notice Every batch's tree follows its shape (TreeModel): a node is Waiting exactly while
    ///         one of its children is not Complete (so never fresh before them) and none was
    ///         ever seen Waiting again after leaving it (so fresh once); an uncancelled batch's
    ///         freshNodes and leasedFresh count its Fresh nodes and leased leaves. And (Complete
    ///         jobs) + jobsLeft = jobCount; the batch has a final proof iff its top is Complete,
    ///         which happens only after every other job of it, and that proof is the top's
    ///         winning proof, announced once by BatchFinalized. (One function, so that the
    ///         statuses are read once per call.)
    function _checkTreesReadyInOrderAndTheTopIsFinal() internal view {
        vm.assertFalse(handler.readiedTwice(), "a node was ready, then waiting again");
        (uint32 nextBatch,) = views(coord).nextIds();
        for (uint32 b = 1; b < nextBatch; ++b) {
            ICoordinator.BatchInfo memory info = views(coord).batch(b);
            TreeModel.Tree memory t = TreeModel.build(info.leafCount);
            vm.assertEq(info.jobCount, t.size, "jobCount = the model's size");
            ICoordinator.JobStatus[] memory s = new ICoordinator.JobStatus[](t.size);
            uint256 complete;
            for (uint256 i; i < t.size; ++i) {
                s[i] = _status(info.firstJobId + uint40(i));
                if (s[i] == ICoordinator.JobStatus.Complete) ++complete;
            }
            _checkReadiness(info, t, s);
            vm.assertEq(complete + info.jobsLeft, info.jobCount, "complete + left = jobs");
            bool topDone = s[t.size - 1] == ICoordinator.JobStatus.Complete;
            vm.assertEq(info.finalProofHash != 0, topDone, "final proof iff the top is complete");
            vm.assertLe(handler.timesFinalized(b), 1, "finalized once");
            if (!topDone) continue;
            vm.assertEq(complete, info.jobCount, "the top completes last");
            (,,,, uint64 winner) = views(coord).job(info.firstJobId + info.jobCount - 1);
            // The winner's holder: a job won by its only lease keeps no record of it (the
            // contract deletes its word), so the submission is found among the actors' hashes.
            bytes32 topProof;
            address[] memory actors = handler.actorList();
            for (uint256 k; k < actors.length; ++k) {
                bytes32 h = keccak256(abi.encode(winner, actors[k]));
                if (h == info.finalProofHash) topProof = h;
            }
            vm.assertEq(info.finalProofHash, topProof, "final proof = the top's winning proof");
            vm.assertEq(handler.announcedFinal(b), topProof, "as BatchFinalized announced");
            vm.assertFalse(info.cancelled, "a finished batch cannot be cancelled");
        }
    }

    function _checkReadiness(
        ICoordinator.BatchInfo memory info,
        TreeModel.Tree memory t,
        ICoordinator.JobStatus[] memory s
    ) internal pure {
        uint256 freshNodes;
        uint256 leasedLeaves;
        for (uint256 i; i < t.size; ++i) {
            if (i < t.leaves) {
                vm.assertTrue(s[i] != ICoordinator.JobStatus.Waiting, "a leaf never waits");
                if (s[i] != ICoordinator.JobStatus.Fresh) ++leasedLeaves;
                continue;
            }
            bool done = s[t.firstChild[i]] == ICoordinator.JobStatus.Complete;
            if (t.children[i] == 2) {
                done = done && s[t.firstChild[i] + 1] == ICoordinator.JobStatus.Complete;
            }
            vm.assertEq(s[i] != ICoordinator.JobStatus.Waiting, done, "waiting iff children left");
            if (s[i] == ICoordinator.JobStatus.Fresh) ++freshNodes;
        }
        // Once cancelled, none of its leaves is fresh any more.
        uint256 notFresh = info.cancelled ? info.leafCount : leasedLeaves;
        vm.assertEq(info.leasedFresh, notFresh, "leasedFresh = leaves no longer fresh");
        if (!info.cancelled) vm.assertEq(info.freshNodes, freshNodes, "freshNodes");
    }

    /// @notice Each lane's pending list holds exactly the Pending jobs of its circuit's batches,
    ///         linked both ways: released jobs first, then the others in LRP order (latest
    ///         lease time never decreasing from head to tail); the lanes' fresh counts add up.
    function _checkPendingListExactAndInLrpOrder() internal view {
        (, uint40 nextJob) = views(coord).nextIds();
        uint256 walked;
        uint256 fresh;
        for (uint8 lane; lane < handler.LANES(); ++lane) {
            (uint256 w, uint256 f) = _checkLane(lane, nextJob);
            walked += w;
            fresh += f;
        }
        uint256 pendingJobs;
        uint256 freshJobs;
        for (uint40 j = 1; j < nextJob; ++j) {
            (ICoordinator.JobStatus s, uint32 b,,,) = views(coord).job(j);
            if (s == ICoordinator.JobStatus.Pending) pendingJobs += 1;
            if (s == ICoordinator.JobStatus.Fresh && !views(coord).batch(b).cancelled) {
                freshJobs += 1;
            }
        }
        vm.assertEq(pendingJobs, walked, "every pending job is listed");
        vm.assertEq(freshJobs, fresh, "fresh count");
    }

    // The lane of a job's batch's circuit.
    function _laneOfJob(uint40 jobId) internal view returns (uint8 lane) {
        (, uint32 b,,,) = views(coord).job(jobId);
        (, lane) = views(coord).laneOf(views(coord).batch(b).circuitId);
    }

    // Walks lane `lane`'s pending list; returns its length and the lane's fresh count.
    function _checkLane(uint8 lane, uint40 nextJob)
        internal
        view
        returns (uint256 walked, uint256 fresh)
    {
        uint256 pendingCount;
        uint40 head;
        uint40 tail;
        (fresh, pendingCount, head, tail) = views(coord).laneQueue(lane);
        uint40 last;
        (walked, last) = _walkPending(head, nextJob);
        vm.assertEq(last, tail, "tail");
        vm.assertEq(walked, pendingCount, "count");
        for (uint40 j = head; j != 0;) {
            vm.assertEq(_laneOfJob(j), lane, "listed in its circuit's lane");
            (, j) = views(coord).pendingLinks(j);
        }
    }

    // Walks a pending list from `head`: every job pending, linked both ways, released ones
    // first, then in LRP order. Returns its length and its last job.
    function _walkPending(uint40 head, uint40 nextJob)
        internal
        view
        returns (uint256 walked, uint40 prev)
    {
        uint32 lastLeasedAt;
        bool pastReleased;
        for (uint40 j = head; j != 0;) {
            (ICoordinator.JobStatus s,, uint64 latest, uint32 leasedAt,) = views(coord).job(j);
            vm.assertEq(uint8(s), uint8(ICoordinator.JobStatus.Pending), "listed job is pending");
            (uint40 p, uint40 n) = views(coord).pendingLinks(j);
            vm.assertEq(p, prev, "prev link");
            (,, ICoordinator.LeaseState ls,,) = views(coord).leaseInfo(latest);
            if (ls == ICoordinator.LeaseState.Released) {
                vm.assertFalse(pastReleased, "released jobs head the list");
            } else {
                pastReleased = true;
                vm.assertGe(leasedAt, lastLeasedAt, "LRP order");
                lastLeasedAt = leasedAt;
            }
            prev = j;
            j = n;
            vm.assertLe(++walked, nextJob, "list has no cycle");
        }
    }

    /// @notice Each prover's active-lease count equals its definition, recomputed from scratch:
    ///         pending jobs whose latest lease is theirs and unsubmitted, plus their submitted,
    ///         unjudged leases.
    function _checkActiveLeasesMatchDefinition() internal view {
        address[] memory actors = handler.actorList();
        uint256[] memory expected = new uint256[](actors.length);
        // Leases held and not yet submitted: the latest leases of pending jobs in state Leased
        // (a handed-on one no longer counts), what makes a prover busy.
        uint256[] memory unsubmitted = new uint256[](actors.length);
        (, uint40 nextJob) = views(coord).nextIds();
        for (uint40 j = 1; j < nextJob; ++j) {
            (ICoordinator.JobStatus s,, uint64 latest,,) = views(coord).job(j);
            if (s != ICoordinator.JobStatus.Pending) continue;
            (address holder,, ICoordinator.LeaseState ls,,) = views(coord).leaseInfo(latest);
            if (ls == ICoordinator.LeaseState.Leased) {
                expected[_index(actors, holder)] += 1;
                unsubmitted[_index(actors, holder)] += 1;
            }
        }
        uint256 n = handler.ridCount();
        for (uint256 i; i < n; ++i) {
            (address holder,, ICoordinator.LeaseState ls,,) =
                views(coord).leaseInfo(handler.rids(i));
            if (ls == ICoordinator.LeaseState.Submitted) expected[_index(actors, holder)] += 1;
        }
        for (uint256 i; i < actors.length; ++i) {
            (,,, uint256 active,, uint256 toSubmit,) = views(coord).prover(actors[i]);
            vm.assertEq(active, expected[i], "active leases = definition");
            vm.assertEq(toSubmit, unsubmitted[i], "unsubmitted leases = definition");
        }
    }

    /// @notice After each run: how much of the protocol the run exercised (shown with -vv).
    function afterInvariant() public view {
        string[26] memory keys = [
            "stake",
            "postBatch",
            "lease",
            "lease (refused)",
            "lease (no job)",
            "reassigned",
            "spare",
            "spare (lapsed holder)",
            "submit",
            "completed",
            "judge",
            "drive",
            "finalized",
            "cancel",
            "clear",
            "hostile",
            "unstake then submit",
            "submit (not backed)",
            "settings applied",
            "expired",
            "passed back",
            "submit and lease",
            "handed",
            "release",
            "released job taken",
            "hostile release"
        ];
        for (uint256 i; i < keys.length; ++i) {
            Console.log(keys[i], handler.calls(keccak256(bytes(keys[i]))));
        }
    }

    function _index(address[] memory actors, address a) internal pure returns (uint256) {
        for (uint256 i; i < actors.length; ++i) {
            if (actors[i] == a) return i;
        }
        revert("holder is not an actor");
    }
}
