// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./utils/TestBase.sol";
import {Coordinator} from "../Coordinator.sol";
import {views} from "./utils/Views.sol";
import {ICoordinator} from "../ICoordinator.sol";
import {TestToken} from "../devnet/TestToken.sol";

/// @notice Differential test of the simulator's queue model (sim/src/model.rs) against the
///         contract: replays traces that `crowdprove-sim traces` recorded (several source
///         batches' whole trees, nodes made fresh by their last child's verdict, single-child
///         nodes, hostile provers, LRP, minimum and stale age, caps, slashing, missing proofs,
///         leases given back by provers that leave,
///         cancellation mid-tree with dropped fresh nodes and clearCancelled) and compares
///         every lease, every revert and every state check (queue, provers, job status
///         including Waiting, batch counters and final proof hash) with what the model
///         produced. A cargo test keeps the committed traces equal to what the current model
///         records.
contract CoordinatorDifferentialTest is TestBase {
    uint256 internal constant T0 = 1_700_000_000;
    bytes32 internal constant CIRCUIT = keccak256("circuit");

    TestToken internal token;
    Coordinator internal coord;
    address internal relayer = address(0xBEEF);
    uint256 internal roots;
    uint256 internal leases;
    uint256 internal checks;
    uint256 internal waitingChecks;
    uint256 internal finalChecks;
    uint256 internal lapsedChecks;
    uint256 internal capChecks;
    uint256 internal clearedOnly;
    uint256 internal releases;
    uint256 internal chainedSubmissions;

    function test_Replay_Lrp() public {
        _replay("lrp");
    }

    function test_Replay_MinReassignAge() public {
        _replay("min-age");
    }

    function test_Replay_CancelledBatch() public {
        _replay("cancel");
        vm.assertGt(clearedOnly, 0, "a lease that only cleared, and kept it");
    }

    function test_Replay_Spares() public {
        _replay("spares");
        vm.assertGt(lapsedChecks, 0, "lapsed provers checked");
        vm.assertGt(capChecks, 0, "an unbacked late submission refused");
    }

    /// @notice Lapsed provers take a crashed prover's job once it is held for twice the
    ///         stale age (the model's `lapsed_overdue`, which the trace's test requires).
    function test_Replay_Overdue() public {
        _replay("overdue");
        vm.assertGt(lapsedChecks, 0, "lapsed provers checked");
    }

    function _account(uint256 id) internal pure returns (address) {
        return address(uint160(0x10000 + id));
    }

    function _replay(string memory name) internal {
        string memory path =
            string.concat(vm.projectRoot(), "/contracts/test/traces/", name, ".hex");
        uint256[] memory w = abi.decode(vm.parseBytes(vm.readFile(path)), (uint256[]));
        vm.assertGt(w.length, 100, "trace too short");
        uint256 i;
        uint256 ops;
        while (i < w.length) {
            uint256 op = w[i];
            if (op == 0) i = _config(w, i);
            else if (op == 1) i = _warp(w, i);
            else if (op == 2) i = _stake(w, i);
            else if (op == 3) i = _post(w, i);
            else if (op == 4) i = _lease(w, i);
            else if (op == 5) i = _submit(w, i);
            else if (op == 6) i = _verdict(w, i);
            else if (op == 7) i = _cancel(w, i);
            else if (op == 8) i = _checkProver(w, i);
            else if (op == 9) i = _checkQueue(w, i);
            else if (op == 10) i = _checkJob(w, i);
            else if (op == 11) i = _checkBatch(w, i);
            else if (op == 12) i = _clearCancelled(w, i);
            else if (op == 13) i = _release(w, i);
            else if (op == 14) i = _submitAndLease(w, i);
            else revert("unknown op");
            ++ops;
        }
        // A replay that checks nothing would pass vacuously.
        vm.assertGt(leases, 20, "leases replayed");
        vm.assertGt(checks, 50, "state checks replayed");
        vm.assertGt(waitingChecks, 0, "Waiting nodes checked");
        vm.assertGt(finalChecks, 0, "final proof hashes checked");
        emit log_named_uint(string.concat(name, ": operations replayed"), ops);
        // Every scenario has a prover that leaves and gives its leases back (`Churn`).
        vm.assertGt(releases, 0, "a lease given back");
        // Provers ask for their next job with their submission, as the client does.
        vm.assertGt(chainedSubmissions, 0, "submitAndLease replayed");
    }

    function _config(uint256[] memory w, uint256 i) internal returns (uint256) {
        token = new TestToken();
        coord = new Coordinator(
            token,
            address(this),
            relayer,
            address(0xFEE),
            1 days,
            ICoordinator.StakeParams(uint96(w[i + 1]), uint96(w[i + 2]), uint96(w[i + 3])),
            uint24(w[i + 4]),
            uint24(w[i + 5]),
            1 days
        );
        coord.setStaleAge(uint24(w[i + 6]));
        coord.setSpareAttempts(uint8(w[i + 7]));
        token.mint(relayer, type(uint96).max);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.warp(T0);
        return i + 8;
    }

    function _warp(uint256[] memory w, uint256 i) internal returns (uint256) {
        vm.warp(T0 + w[i + 1]);
        return i + 2;
    }

    function _stake(uint256[] memory w, uint256 i) internal returns (uint256) {
        address a = _account(w[i + 1]);
        uint256 amount = w[i + 2];
        token.mint(a, amount);
        vm.startPrank(a);
        token.approve(address(coord), amount);
        coord.stake(amount);
        vm.stopPrank();
        vm.assertEq(proverIdOf(address(coord), a), w[i + 1], "prover ids follow stake order");
        return i + 3;
    }

    function _post(uint256[] memory w, uint256 i) internal returns (uint256) {
        vm.prank(relayer);
        uint32 id = coord.postBatch(
            keccak256(abi.encode("root", ++roots)), uint24(w[i + 1]), uint96(w[i + 2]), CIRCUIT
        );
        vm.assertEq(id, w[i + 3], "batch id");
        return i + 4;
    }

    function _lease(uint256[] memory w, uint256 i) internal returns (uint256) {
        address a = _account(w[i + 1]);
        uint256 k = w[i + 3];
        vm.prank(a);
        (bool ok, bytes memory ret) =
            address(coord).call(abi.encodeCall(ICoordinator.leaseMany, (w[i + 2])));
        ++leases;
        if (k == 0 && w[i + 4] == 4) {
            // The model leased nothing but kept the cancelled jobs it cleared.
            vm.assertTrue(ok, "the model kept its clearing, the contract reverted");
            (uint64[] memory none,) = abi.decode(ret, (uint64[], uint40[]));
            vm.assertEq(none.length, 0, "nothing leased");
            ++clearedOnly;
            return i + 7;
        }
        if (k == 0) {
            vm.assertFalse(ok, "the model's lease reverted, the contract's did not");
            uint256 code = w[i + 4];
            bytes memory expected = code == 1
                ? abi.encodeWithSelector(ICoordinator.NoJobAvailable.selector)
                : abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, w[i + 5], w[i + 6]);
            vm.assertEq(keccak256(ret), keccak256(expected), "lease revert");
            return i + 7;
        }
        vm.assertTrue(ok, "the model leased, the contract reverted");
        (uint64[] memory rids, uint40[] memory jobs) = abi.decode(ret, (uint64[], uint40[]));
        vm.assertEq(rids.length, k, "jobs leased");
        for (uint256 j; j < k; ++j) {
            vm.assertEq(rids[j], w[i + 4 + 2 * j], "request id");
            vm.assertEq(jobs[j], w[i + 5 + 2 * j], "job id");
        }
        return i + 4 + 2 * k;
    }

    function _submit(uint256[] memory w, uint256 i) internal returns (uint256) {
        uint64 rid = uint64(w[i + 2]);
        vm.prank(_account(w[i + 1]));
        (bool ok, bytes memory ret) = address(coord)
            .call(abi.encodeCall(ICoordinator.submitProof, (rid, keccak256(abi.encode(rid)))));
        _compare(ok, ret, w[i + 3], rid, "submission");
        return i + 4;
    }

    function _submitAndLease(uint256[] memory w, uint256 i) internal returns (uint256) {
        uint64 rid = uint64(w[i + 2]);
        vm.prank(_account(w[i + 1]));
        (bool ok, bytes memory ret) = address(coord)
            .call(abi.encodeCall(ICoordinator.submitAndLease, (rid, keccak256(abi.encode(rid)))));
        _compare(ok, ret, w[i + 3], rid, "submitAndLease");
        ++chainedSubmissions;
        if (w[i + 4] == 0) {
            if (ok) {
                (uint64 none,) = abi.decode(ret, (uint64, uint40));
                vm.assertEq(none, 0, "the model leased nothing with the submission");
            }
            return i + 5;
        }
        (uint64 next, uint40 job) = abi.decode(ret, (uint64, uint40));
        vm.assertEq(next, w[i + 5], "request id leased with the submission");
        vm.assertEq(job, w[i + 6], "job leased with the submission");
        ++leases;
        return i + 7;
    }

    function _release(uint256[] memory w, uint256 i) internal returns (uint256) {
        uint64 rid = uint64(w[i + 2]);
        vm.prank(_account(w[i + 1]));
        (bool ok, bytes memory ret) =
            address(coord).call(abi.encodeCall(ICoordinator.releaseLease, (rid)));
        _compare(ok, ret, w[i + 3], rid, "release");
        if (ok) ++releases;
        return i + 4;
    }

    // A submission's or release's outcome against the model's code (`Op::Submit`).
    function _compare(bool ok, bytes memory ret, uint256 code, uint64 rid, string memory what)
        internal
    {
        if (code == 0) {
            vm.assertTrue(ok, string.concat("the model's ", what, " passed, the contract's not"));
            return;
        }
        vm.assertFalse(ok, string.concat("the model's ", what, " reverted, the contract's not"));
        bytes memory expected;
        if (code == 1) {
            expected = abi.encodeWithSelector(ICoordinator.UnknownRequest.selector, rid);
        } else if (code == 2) {
            expected = abi.encodeWithSelector(ICoordinator.NotLeaseHolder.selector, rid);
        } else if (code == 3) {
            expected = abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, rid);
        } else if (code == 5) {
            // The model does not record the counts; the selector says enough.
            vm.assertEq(bytes4(ret), ICoordinator.LeaseCapReached.selector, what);
            ++capChecks;
            return;
        } else if (code == 6) {
            expected = abi.encodeWithSelector(ICoordinator.LeaseIsReleased.selector, rid);
        } else if (code == 7) {
            expected = abi.encodeWithSelector(ICoordinator.LastAttempt.selector, rid);
        } else {
            expected =
                abi.encodeWithSelector(ICoordinator.JobNotPending.selector, uint40(rid >> 24));
        }
        vm.assertEq(keccak256(ret), keccak256(expected), what);
    }

    function _verdict(uint256[] memory w, uint256 i) internal returns (uint256) {
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        // The model does not record proof hashes: the verdict names the one every submission
        // here makes (the trace's job word is the request's own job).
        uint64 rid = uint64(w[i + 1]);
        vs[0] = ICoordinator.Verdict(
            rid, _account(w[i + 3]), uint8(w[i + 4]), keccak256(abi.encode(rid))
        );
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        return i + 5;
    }

    function _cancel(uint256[] memory w, uint256 i) internal returns (uint256) {
        vm.prank(relayer);
        coord.cancelBatch(uint32(w[i + 1]));
        return i + 2;
    }

    function _clearCancelled(uint256[] memory w, uint256 i) internal returns (uint256) {
        uint256 n = w[i + 1];
        uint40[] memory ids = new uint40[](n);
        for (uint256 k; k < n; ++k) {
            ids[k] = uint40(w[i + 2 + k]);
        }
        vm.prank(relayer);
        coord.clearCancelled(ids);
        return i + 2 + n;
    }

    function _checkProver(uint256[] memory w, uint256 i) internal returns (uint256) {
        address a = _account(w[i + 1]);
        (uint256 bond,,, uint256 active, uint256 earnings, uint256 unsubmitted, uint256 slashes) =
            views(coord).prover(a);
        vm.assertEq(bond, w[i + 2], "bond");
        vm.assertEq(active, w[i + 3], "active leases");
        vm.assertEq(earnings, w[i + 4], "earnings");
        vm.assertEq(unsubmitted, w[i + 5], "leases not yet submitted");
        vm.assertEq(slashes, w[i + 6], "slashes");
        vm.assertEq(views(coord).lapsed(a), w[i + 7] == 1, "lapsed");
        if (w[i + 7] == 1) ++lapsedChecks;
        ++checks;
        return i + 8;
    }

    function _checkQueue(uint256[] memory w, uint256 i) internal returns (uint256) {
        (uint256 fresh, uint256 pending, uint40 head, uint40 tail) = views(coord).queue();
        vm.assertEq(fresh, w[i + 1], "fresh jobs");
        vm.assertEq(pending, w[i + 2], "pending jobs");
        vm.assertEq(head, w[i + 3], "pending head");
        vm.assertEq(tail, w[i + 4], "pending tail");
        ++checks;
        return i + 5;
    }

    function _checkJob(uint256[] memory w, uint256 i) internal returns (uint256) {
        (ICoordinator.JobStatus status,,,,) = views(coord).job(uint40(w[i + 1]));
        vm.assertEq(uint256(status), w[i + 2], "job status");
        ++checks;
        if (status == ICoordinator.JobStatus.Waiting) ++waitingChecks;
        return i + 3;
    }

    function _checkBatch(uint256[] memory w, uint256 i) internal returns (uint256) {
        ICoordinator.BatchInfo memory b = views(coord).batch(uint32(w[i + 1]));
        vm.assertEq(b.firstJobId, w[i + 2], "first job id");
        vm.assertEq(b.jobCount, w[i + 3], "job count");
        vm.assertEq(b.leafCount, w[i + 4], "leaf count");
        vm.assertEq(b.jobsLeft, w[i + 5], "jobs left");
        vm.assertEq(b.leasedFresh, w[i + 6], "leased fresh leaves");
        vm.assertEq(b.freshNodes, w[i + 7], "fresh nodes");
        vm.assertEq(b.cancelled, w[i + 8] == 1, "cancelled");
        uint64 top = uint64(w[i + 9]);
        bytes32 expected = top == 0 ? bytes32(0) : keccak256(abi.encode(top));
        vm.assertEq(b.finalProofHash, expected, "final proof hash");
        if (top != 0) ++finalChecks;
        ++checks;
        return i + 10;
    }
}
