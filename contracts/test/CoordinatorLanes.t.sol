// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {views} from "./utils/Views.sol";
import {ICoordinator} from "../ICoordinator.sol";

/// @notice Lanes: each circuit's batches in a queue of their own, so that a prover leases only
///         jobs of circuits it proves, never locks its bond on another's, and never holds one
///         up (unit and fuzz tests; the invariant campaign posts in two lanes too).
contract CoordinatorLanesTest is CoordinatorFixture {
    bytes32 internal constant OTHER = keccak256("another proof system");
    ICoordinator.VerdictResult internal constant VALID = ICoordinator.VerdictResult.Valid;

    function _postOf(bytes32 circuit, uint24 leaves) internal returns (uint32 batchId) {
        vm.prank(relayer);
        batchId = coord.postBatch(_nextRoot(), leaves, REWARD, circuit);
    }

    function _leaseFrom(address who, uint8 lane, uint256 n)
        internal
        returns (uint64[] memory rids, uint40[] memory jobs)
    {
        vm.prank(who);
        return coord.leaseFrom(lane, n);
    }

    function _laneOfJob(uint40 jobId) internal view returns (uint8 lane) {
        (, uint32 batchId,,,) = views(coord).job(jobId);
        (, lane) = views(coord).laneOf(views(coord).batch(batchId).circuitId);
    }

    function _freshIn(uint8 lane) internal view returns (uint256 fresh) {
        (fresh,,,) = views(coord).laneQueue(lane);
    }

    function test_Lanes_ACircuitGetsALaneWhenFirstPosted() public {
        (bool known,) = views(coord).laneOf(CIRCUIT);
        vm.assertFalse(known, "no batch yet");
        _postOf(OTHER, 2);
        _postOf(CIRCUIT, 4);
        _postOf(OTHER, 1);
        (bool k0, uint8 l0) = views(coord).laneOf(OTHER);
        (bool k1, uint8 l1) = views(coord).laneOf(CIRCUIT);
        vm.assertTrue(k0 && k1, "both known");
        vm.assertEq(l0, 0, "the first circuit posted is lane 0");
        vm.assertEq(l1, 1, "the next, lane 1");
        vm.assertEq(_freshIn(0), 2 + 1, "lane 0: the two batches' leaves");
        vm.assertEq(_freshIn(1), 4, "lane 1: its own");
        (uint256 fresh,,,) = views(coord).queue();
        vm.assertEq(fresh, _freshIn(0), "queue() is lane 0's");
    }

    function test_Lanes_AProverLeasesOnlyFromTheLaneItNames() public {
        uint32 a = _postOf(CIRCUIT, 4); // lane 0
        uint32 b = _postOf(OTHER, 2); // lane 1
        _bond(alice, 8);
        _bond(bob, 2);
        (, uint40[] memory jobs) = _leaseFrom(alice, 1, 8);
        vm.assertEq(jobs.length, 2, "lane 1's two leaves, nothing of lane 0");
        for (uint256 i; i < jobs.length; ++i) {
            (, uint32 batchId,,,) = views(coord).job(jobs[i]);
            vm.assertEq(batchId, b, "of the other circuit's batch");
        }
        vm.assertEq(_active(alice), 2, "its bond backs only what it can prove");
        vm.prank(alice);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        coord.leaseFrom(1, 1);
        vm.assertEq(_freshIn(0), 4, "lane 0 untouched");
        (, uint40 first) = _lease(bob);
        (, uint32 batchOfFirst,,,) = views(coord).job(first);
        vm.assertEq(batchOfFirst, a, "lease() is lane 0");
        vm.prank(bob);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        coord.leaseFrom(7, 1);
    }

    function test_Lanes_SubmitAndLeaseTakesTheNextJobOfTheSameCircuit() public {
        _postOf(CIRCUIT, 4); // lane 0, fresh leaves waiting
        _postOf(OTHER, 2); // lane 1
        _bond(alice, 4);
        (uint64[] memory rids,) = _leaseFrom(alice, 1, 1);
        vm.prank(alice);
        (, uint40 next) = coord.submitAndLease(rids[0], _proofHash(rids[0]));
        vm.assertTrue(next != 0, "a lease rode on the submission");
        vm.assertEq(_laneOfJob(next), 1, "from the submitted job's lane, not lane 0");
    }

    function test_Lanes_VerdictsOnSeveralLanesInOneCallReadyEachTreeInItsLane() public {
        uint32 a = _postOf(CIRCUIT, 2);
        uint32 b = _postOf(OTHER, 2);
        _bond(alice, 4);
        _bond(bob, 2);
        (uint64[] memory ra,) = _leaseFrom(alice, 0, 2);
        (uint64[] memory rb,) = _leaseFrom(alice, 1, 2);
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](4);
        // Interleaved: lane 0, lane 1, lane 0, lane 1.
        uint64[4] memory order = [ra[0], rb[0], ra[1], rb[1]];
        for (uint256 i; i < 4; ++i) {
            _submit(alice, order[i]);
            vs[i] = ICoordinator.Verdict(order[i], alice, uint8(VALID), _proofHash(order[i]));
        }
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        vm.assertEq(_freshIn(0), 1, "lane 0's top is fresh in lane 0");
        vm.assertEq(_freshIn(1), 1, "lane 1's top is fresh in lane 1");
        vm.assertEq(uint256(views(coord).batch(a).freshNodes), 1, "batch a: its fresh top");
        vm.assertEq(uint256(views(coord).batch(b).freshNodes), 1, "batch b: its fresh top");
        (, uint40[] memory top1) = _leaseFrom(bob, 1, 1);
        vm.assertEq(top1[0], _top(b), "lane 1's top from lane 1");
        // (Bob now holds an unsubmitted lease: busy, he gets no node of any lane. Carol does.)
        _bond(carol, 1);
        (, uint40 top0) = _lease(carol);
        vm.assertEq(top0, _top(a), "lane 0's top from lane 0");
        // Both finish: verdicts on both tops in one call.
        vs = new ICoordinator.Verdict[](2);
        uint64[2] memory tops = [_rid(top0, 1), _rid(top1[0], 1)];
        address[2] memory by = [carol, bob];
        for (uint256 i; i < 2; ++i) {
            _submit(by[i], tops[i]);
            vs[i] = ICoordinator.Verdict(tops[i], by[i], uint8(VALID), _proofHash(tops[i]));
        }
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        vm.assertTrue(views(coord).batch(a).finalProofHash != 0, "lane 0's batch final");
        vm.assertTrue(views(coord).batch(b).finalProofHash != 0, "lane 1's batch final");
        vm.assertEq(coord.totalEscrow(), 0, "every reward paid");
        vm.assertEq(
            _earnings(alice) + _earnings(bob) + _earnings(carol),
            6 * uint256(REWARD),
            "six jobs paid once each"
        );
    }

    function test_Lanes_LrpHandsOnAHoardedJobWithinItsLaneOnly() public {
        _postOf(CIRCUIT, 1); // lane 0: a single job
        _postOf(OTHER, 1); // lane 1: a single job
        _bond(alice, 2);
        _bond(bob, 2);
        (, uint40[] memory hoarded) = _leaseFrom(alice, 1, 1);
        vm.warp(block.timestamp + 1 hours);
        // Nothing fresh anywhere in lane 1 but the hoarded job: bob gets it from lane 1...
        (, uint40[] memory taken) = _leaseFrom(bob, 1, 1);
        vm.assertEq(taken[0], hoarded[0], "LRP hands it on in its lane");
        // ...and lane 0's job stays fresh for lane 0's provers.
        vm.assertEq(_freshIn(0), 1, "lane 0's job still fresh");
        (,, uint40 head,) = views(coord).laneQueue(1);
        vm.assertEq(head, hoarded[0], "lane 1's pending list");
        (, uint256 pending0,,) = views(coord).queue();
        vm.assertEq(pending0, 0, "lane 0's pending list never saw it");
    }

    function test_Lanes_CancellingABatchLeavesTheOtherLanesAlone() public {
        _postOf(CIRCUIT, 2);
        uint32 b = _postOf(OTHER, 2);
        _bond(alice, 2);
        (uint64[] memory rids,) = _leaseFrom(alice, 1, 1);
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.assertEq(_freshIn(1), 0, "its fresh leaves gone");
        vm.assertEq(_freshIn(0), 2, "lane 0 untouched");
        uint40[] memory ids = new uint40[](1);
        ids[0] = uint40(rids[0] >> 24);
        coord.clearCancelled(ids);
        vm.assertEq(_active(alice), 0, "the cancelled job's lease freed in its lane");
        (, uint256 pending1,,) = views(coord).laneQueue(1);
        vm.assertEq(pending1, 0, "lane 1's pending list empty");
    }

    function test_Lanes_ReleasingPutsTheJobAtItsLanesHead() public {
        _postOf(CIRCUIT, 2);
        _postOf(OTHER, 2);
        _bond(alice, 2);
        (uint64[] memory rids,) = _leaseFrom(alice, 1, 1);
        vm.prank(alice);
        coord.releaseLease(rids[0]);
        (,, uint40 head1,) = views(coord).laneQueue(1);
        vm.assertEq(head1, uint40(rids[0] >> 24), "released to lane 1's head");
        (,, uint40 head0,) = views(coord).queue();
        vm.assertEq(head0, 0, "not lane 0's");
    }

    function test_Lanes_AtMost255Circuits() public {
        for (uint256 i; i < 255; ++i) {
            _postOf(keccak256(abi.encode("circuit", i)), 1);
        }
        vm.prank(relayer);
        vm.expectRevert(ICoordinator.TooManyCircuits.selector);
        coord.postBatch(_nextRoot(), 1, REWARD, OTHER);
        // A circuit already known still posts.
        _postOf(keccak256(abi.encode("circuit", uint256(3))), 1);
    }

    /// @notice Random batches over three circuits, provers leasing from random lanes: every
    ///         lease is of the lane named; driving each lane to the end finishes every batch
    ///         and pays every reward once.
    function testFuzz_Lanes_LeasesStayInTheirLaneAndEveryLaneFinishes(uint256 seed) public {
        bytes32[3] memory circuits = [CIRCUIT, OTHER, keccak256("third")];
        uint256 batches = 2 + seed % 5;
        for (uint256 i; i < batches; ++i) {
            _postOf(circuits[(seed >> (8 * i)) % 3], uint24(1 + (seed >> (4 * i)) % 5));
        }
        _bond(alice, 64);
        uint256 rounds;
        while (coord.totalEscrow() != 0) {
            vm.assertLt(++rounds, 400, "every lane finishes");
            uint8 lane = uint8((rounds + seed % 3) % 3);
            vm.prank(alice);
            try coord.leaseFrom(lane, 3) returns (uint64[] memory rids, uint40[] memory jobs) {
                for (uint256 i; i < rids.length; ++i) {
                    vm.assertEq(_laneOfJob(jobs[i]), lane, "leased from the lane named");
                    _submit(alice, rids[i]);
                    _verdict(rids[i], VALID);
                }
            } catch {}
        }
        (uint32 next,) = views(coord).nextIds();
        for (uint32 b = 1; b < next; ++b) {
            vm.assertTrue(views(coord).batch(b).finalProofHash != 0, "finalized");
        }
    }
}
