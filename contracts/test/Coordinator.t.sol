// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TreeChecks} from "./utils/TreeChecks.sol";
import {Coordinator} from "../Coordinator.sol";
import {views} from "./utils/Views.sol";
import {ICoordinator, ICoordinatorViews} from "../ICoordinator.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice Unit tests: every external function and every revert path of the Coordinator.
contract CoordinatorTest is TreeChecks {
    ICoordinator.VerdictResult internal constant VALID = ICoordinator.VerdictResult.Valid;
    ICoordinator.VerdictResult internal constant INVALID = ICoordinator.VerdictResult.Invalid;
    ICoordinator.VerdictResult internal constant MISSING = ICoordinator.VerdictResult.Missing;

    // ------------------------------------------------------------------ constructor

    function test_Constructor_SetsState() public view {
        vm.assertEq(address(coord.token()), address(token), "token");
        vm.assertEq(coord.owner(), owner, "owner");
        vm.assertEq(coord.relayer(), relayer, "relayer");
        vm.assertEq(coord.treasury(), treasury, "treasury");
        vm.assertEq(coord.paramDelay(), PARAM_DELAY, "paramDelay");
        (
            ICoordinator.StakeParams memory sp,
            uint24 age,
            uint24 deadline,
            uint32 unbonding,
            bool paused
        ) = views(coord).params();
        vm.assertEq(sp.bondPerLease, BOND_PER_LEASE, "bondPerLease");
        vm.assertEq(sp.minBond, MIN_BOND, "minBond");
        vm.assertEq(sp.slashAmount, SLASH, "slash");
        vm.assertEq(age, 0, "age");
        vm.assertEq(deadline, UPLOAD_DEADLINE, "deadline");
        vm.assertEq(unbonding, UNBONDING_DELAY, "unbonding");
        vm.assertFalse(paused, "paused");
        (uint32 nextBatch, uint40 nextJob) = views(coord).nextIds();
        vm.assertEq(nextBatch, 1, "first batch id");
        vm.assertEq(nextJob, 1, "first job id");
    }

    /// @notice The views come through the fallback, from the code of the CoordinatorViews the
    ///         constructor deployed, over the coordinator's storage; the fallback serves nothing
    ///         else: a call the views do not know reverts, and so does any value.
    function test_Fallback_ServesTheViewsAndNothingElse() public {
        _post(2);
        (uint32 nextBatch, uint40 nextJob) = views(coord).nextIds();
        vm.assertEq(nextBatch, 2, "the coordinator's storage is read, not the views contract's");
        vm.assertEq(nextJob, 4, "two leaves and their node");
        (bool ok,) = address(coord).call(abi.encodeWithSignature("nothing()"));
        vm.assertFalse(ok, "an unknown call reverts");
        vm.deal(address(this), 1 ether);
        (ok,) = address(coord).call{value: 1}(abi.encodeCall(ICoordinatorViews.nextIds, ()));
        vm.assertFalse(ok, "a view with value reverts");
        (ok,) = address(coord).call{value: 1}("");
        vm.assertFalse(ok, "a plain transfer reverts");
        vm.assertEq(address(coord).balance, 0, "no ether stays");
    }

    function test_Constructor_RevertsWhen_ZeroAddress() public {
        ICoordinator.StakeParams memory sp = ICoordinator.StakeParams(1, 1, 1);
        vm.expectRevert(ICoordinator.ZeroAddress.selector);
        new Coordinator(IERC20(address(0)), owner, relayer, treasury, 1 days, sp, 0, 60, 0);
        vm.expectRevert(ICoordinator.ZeroAddress.selector);
        new Coordinator(token, owner, address(0), treasury, 1 days, sp, 0, 60, 0);
        vm.expectRevert(ICoordinator.ZeroAddress.selector);
        new Coordinator(token, owner, relayer, address(0), 1 days, sp, 0, 60, 0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new Coordinator(token, address(0), relayer, treasury, 1 days, sp, 0, 60, 0);
    }

    function test_Constructor_RevertsWhen_ParamsOutOfBounds() public {
        ICoordinator.StakeParams memory ok = ICoordinator.StakeParams(10, 10, 5);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(token, owner, relayer, treasury, 31 days, ok, 0, 60, 0);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(
            token, owner, relayer, treasury, 1 days, ICoordinator.StakeParams(0, 10, 0), 0, 60, 0
        );
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(
            token, owner, relayer, treasury, 1 days, ICoordinator.StakeParams(10, 9, 5), 0, 60, 0
        );
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(
            token, owner, relayer, treasury, 1 days, ICoordinator.StakeParams(10, 10, 11), 0, 60, 0
        );
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(token, owner, relayer, treasury, 1 days, ok, 1 days + 1, 60, 0);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(token, owner, relayer, treasury, 1 days, ok, 0, 9, 0);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(token, owner, relayer, treasury, 1 days, ok, 0, 1 days + 1, 0);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        new Coordinator(token, owner, relayer, treasury, 1 days, ok, 0, 60, 1 days + 1);
    }

    // ------------------------------------------------------------------ postBatch

    function test_PostBatch_EscrowsTheWholeTreeAndQueuesItsLeaves() public {
        uint256 before = token.balanceOf(relayer);
        bytes32 root = keccak256("r");
        // 7 leaves: levels of 7, 4, 2 and 1 jobs.
        vm.expectEmit(address(coord));
        emit ICoordinator.BatchPosted(1, root, 1, 7, 14, REWARD, CIRCUIT);
        vm.prank(relayer);
        uint32 id = coord.postBatch(root, 7, REWARD, CIRCUIT);
        vm.assertEq(id, 1, "batch id");
        vm.assertEq(token.balanceOf(relayer), before - 14 * REWARD, "relayer paid every job");
        vm.assertEq(token.balanceOf(address(coord)), 14 * REWARD, "escrow held");
        vm.assertEq(coord.totalEscrow(), 14 * REWARD, "escrow counted");
        vm.assertEq(_fresh(), 7, "only the leaves are fresh");
        vm.assertTrue(coord.rootUsed(root), "root used");
        ICoordinator.BatchInfo memory b = views(coord).batch(id);
        vm.assertEq(b.witnessRoot, root, "root");
        vm.assertEq(b.circuitId, CIRCUIT, "circuit");
        vm.assertEq(b.firstJobId, 1, "first job");
        vm.assertEq(b.leafCount, 7, "leaves");
        vm.assertEq(b.jobCount, 14, "count");
        vm.assertEq(b.jobsLeft, 14, "left");
        vm.assertEq(b.leasedFresh, 0, "none leased");
        vm.assertEq(b.freshNodes, 0, "no node ready");
        vm.assertEq(b.rewardPerJob, REWARD, "reward");
        vm.assertFalse(b.cancelled, "live");
        vm.assertEq(b.finalProofHash, 0, "no final proof yet");
        (uint32 nextBatch, uint40 nextJob) = views(coord).nextIds();
        vm.assertEq(nextBatch, 2, "next batch");
        vm.assertEq(nextJob, 15, "the tree took ids 1..14");
    }

    function test_PostBatch_LeavesAreFreshAndNodesWaiting() public {
        uint32 id = _post(5); // leaves 1-5; nodes 6-8, then 9-10, then the top 11
        for (uint40 j = 1; j <= 11; ++j) {
            (ICoordinator.JobStatus s, uint32 b, uint64 latest,,) = views(coord).job(j);
            ICoordinator.JobStatus want =
                j <= 5 ? ICoordinator.JobStatus.Fresh : ICoordinator.JobStatus.Waiting;
            vm.assertEq(uint8(s), uint8(want), "leaves fresh, nodes waiting");
            vm.assertEq(b, id, "every job of the tree maps to its batch");
            vm.assertEq(latest, 0, "never leased");
        }
        vm.assertEq(_top(id), 11, "the last job is the top");
    }

    function test_PostBatch_OneLeafIsItsOwnTop() public {
        uint32 id = _post(1);
        ICoordinator.BatchInfo memory b = views(coord).batch(id);
        vm.assertEq(b.jobCount, 1, "a single job");
        vm.assertEq(coord.totalEscrow(), REWARD, "one reward");
        vm.assertEq(uint8(_status(1)), uint8(ICoordinator.JobStatus.Fresh), "leaf and top, fresh");
    }

    function test_PostBatch_GivesConsecutiveJobIds() public {
        _post(3); // jobs 1-6 (3 + 2 + 1)
        uint32 second = _post(5); // jobs 7-17 (5 + 3 + 2 + 1)
        vm.assertEq(views(coord).batch(second).firstJobId, 7, "second tree starts after the first");
        (, uint32 batchOfJob,,,) = views(coord).job(9);
        vm.assertEq(batchOfJob, second, "fresh leaf maps to its batch");
        (, uint32 batchOfNode,,,) = views(coord).job(17);
        vm.assertEq(batchOfNode, second, "waiting top maps to its batch");
        (, uint32 none,,,) = views(coord).job(18);
        vm.assertEq(none, 0, "job beyond the last batch has none");
    }

    function test_PostBatch_AllowsZeroReward() public {
        vm.prank(relayer);
        coord.postBatch(_nextRoot(), 3, 0, CIRCUIT);
        vm.assertEq(coord.totalEscrow(), 0, "nothing escrowed");
        _bond(alice, 1);
        (uint64 r,) = _prove(alice);
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Valid), "judged");
        vm.assertEq(_earnings(alice), 0, "volunteer labour");
    }

    function test_PostBatch_RevertsWhen_NotRelayer() public {
        vm.expectRevert(ICoordinator.NotRelayer.selector);
        vm.prank(alice);
        coord.postBatch(_nextRoot(), 1, REWARD, CIRCUIT);
    }

    function test_PostBatch_RevertsWhen_RootZeroOrReused() public {
        vm.startPrank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.RootAlreadyUsed.selector, bytes32(0)));
        coord.postBatch(0, 1, REWARD, CIRCUIT);
        bytes32 root = keccak256("once");
        coord.postBatch(root, 1, REWARD, CIRCUIT);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.RootAlreadyUsed.selector, root));
        coord.postBatch(root, 1, REWARD, CIRCUIT);
        vm.stopPrank();
    }

    /// @notice The cap is on the tree's jobs: 2^19 leaves make 2^20 - 1 jobs, one more leaf
    ///         makes a tree past MAX_JOBS_PER_BATCH.
    function test_PostBatch_RevertsWhen_BadCountOrCircuit() public {
        vm.startPrank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadJobCount.selector, 0));
        coord.postBatch(_nextRoot(), 0, REWARD, CIRCUIT);
        uint24 most = uint24(coord.MAX_JOBS_PER_BATCH() / 2);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadJobCount.selector, most + 1));
        coord.postBatch(_nextRoot(), most + 1, 0, CIRCUIT);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadJobCount.selector, type(uint24).max));
        coord.postBatch(_nextRoot(), type(uint24).max, 0, CIRCUIT);
        vm.expectRevert(ICoordinator.ZeroCircuitId.selector);
        coord.postBatch(_nextRoot(), 1, REWARD, 0);
        uint32 id = coord.postBatch(_nextRoot(), most, 0, CIRCUIT);
        vm.stopPrank();
        vm.assertEq(views(coord).batch(id).jobCount, coord.MAX_JOBS_PER_BATCH() - 1, "largest tree");
    }

    function test_PostBatch_RevertsWhen_EscrowNotApproved() public {
        vm.prank(relayer);
        token.approve(address(coord), 0);
        vm.expectRevert();
        vm.prank(relayer);
        coord.postBatch(_nextRoot(), 1, REWARD, CIRCUIT);
    }

    // ------------------------------------------------------------------ lease: order

    function test_Lease_TakesFreshJobsInPostingOrder() public {
        _post(2); // leaves 1-2, top 3 (waiting)
        _post(1); // job 4
        _bond(alice, 3);
        (uint64 r1, uint40 j1) = _lease(alice);
        (uint64 r2, uint40 j2) = _lease(alice);
        (uint64 r3, uint40 j3) = _lease(alice);
        vm.assertEq(j1, 1, "job 1 first");
        vm.assertEq(j2, 2, "job 2 second");
        vm.assertEq(j3, 4, "then the next batch: the waiting top is not leasable");
        vm.assertEq(r1, _rid(1, 1), "request id = job << 24 | attempt");
        vm.assertEq(r2, _rid(2, 1), "first attempt of job 2");
        vm.assertEq(r3, _rid(4, 1), "first attempt of job 4");
        vm.assertEq(_fresh(), 0, "no fresh jobs left");
        vm.assertEq(_pending(), 3, "all pending");
        vm.assertEq(_active(alice), 3, "three active leases");
    }

    function test_Lease_LeavesFirstWithinATreeAndAnOlderTreesNodesBeforeLaterLeaves() public {
        uint32 older = _post(4); // leaves 1-4, nodes 5 (1, 2) and 6 (3, 4), top 7
        _bond(alice, 8);
        (, uint40 a) = _prove(alice);
        (, uint40 b) = _prove(alice);
        vm.assertEq(uint8(_status(5)), uint8(ICoordinator.JobStatus.Fresh), "node 5 ready");
        vm.assertEq(views(coord).batch(older).freshNodes, 1, "one ready node");
        (, uint40 c) = _lease(alice);
        vm.assertEq(c, 3, "the tree's own leaves before its ready node");
        _post(2); // leaves 8, 9, top 10: a later tree
        (, uint40 d) = _lease(alice);
        vm.assertEq(d, 4, "the last leaf of the older tree");
        (, uint40 busy) = _lease(alice);
        vm.assertEq(busy, 8, "a prover holding leases gets leaves, never the ready node");
        _bond(bob, 1);
        (, uint40 e) = _lease(bob);
        vm.assertEq(e, 5, "the older tree's node before later leaves, to an idle prover");
        vm.assertEq(views(coord).batch(older).freshNodes, 0, "leased: no longer ready");
        (, uint40 f) = _lease(alice);
        vm.assertEq(f, 9, "then the later tree");
        vm.assertTrue(a == 1 && b == 2, "round 0 in order before");
    }

    /// @notice Ready nodes are leased in the order they became ready, whatever their position.
    function test_Lease_ReadyNodesInTheOrderTheyBecameReady() public {
        _post(4); // leaves 1-4, nodes 5 (1, 2) and 6 (3, 4), top 7
        _bond(alice, 4);
        vm.prank(alice);
        (uint64[] memory rs,) = coord.leaseMany(4);
        for (uint256 i; i < 4; ++i) {
            _submit(alice, rs[i]);
        }
        _verdict(rs[3], VALID);
        _verdict(rs[2], VALID); // node 6 ready first
        _verdict(rs[0], VALID);
        _verdict(rs[1], VALID); // then node 5
        vm.assertEq(_fresh(), 2, "two ready nodes");
        (, uint40 first) = _lease(alice);
        vm.assertEq(first, 6, "the first node to become ready");
        // Alice now holds a lease: a node would wait behind it, so it goes to an idle prover.
        vm.prank(alice);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        coord.lease();
        _bond(bob, 1);
        (, uint40 second) = _lease(bob);
        vm.assertEq(second, 5, "then the next");
        vm.assertEq(_fresh(), 0, "none left ready");
        vm.assertEq(uint8(_status(7)), uint8(ICoordinator.JobStatus.Waiting), "top waits");
    }

    function test_Lease_EmitsJobLeased() public {
        _post(1);
        _bond(alice, 1);
        vm.expectEmit(address(coord));
        emit ICoordinator.JobLeased(_rid(1, 1), alice, address(0));
        _lease(alice);
    }

    function test_Lease_ReassignsTheLeastRecentlyLeasedJob() public {
        _post(3);
        _bond(alice, 3);
        _bond(bob, 3);
        _lease(alice); // job 1
        vm.warp(block.timestamp + 1);
        _lease(alice); // job 2
        vm.warp(block.timestamp + 1);
        _lease(alice); // job 3
        vm.assertEq(_head(), 1, "job 1 heads the pending list");
        vm.expectEmit(address(coord));
        emit ICoordinator.JobLeased(_rid(1, 2), bob, alice);
        (, uint40 j) = _lease(bob);
        vm.assertEq(j, 1, "bob gets the head");
        vm.assertEq(_head(), 2, "job 2 is the new head");
        (,,, uint40 tail) = views(coord).queue();
        vm.assertEq(tail, 1, "job 1 moved to the tail");
        vm.assertEq(_active(alice), 2, "alice's unsubmitted lease on job 1 stopped counting");
        vm.assertEq(_active(bob), 1, "bob counts it");
        vm.assertEq(_pending(), 3, "still three pending");
    }

    function test_Lease_SkipsTheProverHoldingTheHead() public {
        _post(2);
        _bond(alice, 2);
        _bond(bob, 2);
        (uint64 r1,) = _lease(alice); // job 1
        _submit(alice, r1); // job 1 pending, its verdict awaited: alice its latest holder, idle
        _lease(bob); // job 2
        (, uint40 j) = _lease(alice);
        vm.assertEq(j, 2, "alice holds the head, so she gets the job after it");
        _bond(carol, 2);
        (, uint40 k) = _lease(carol);
        vm.assertEq(k, 1, "carol gets job 1, now the head");
    }

    function test_Lease_ABusyProverGetsFreshJobsOnly() public {
        _post(2); // leaves 1, 2, top 3
        _bond(alice, 2);
        _bond(bob, 2);
        _lease(alice); // job 1
        _lease(bob); // job 2
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(bob); // holds job 2: may not take job 1 over
        _post(1); // job 4
        (, uint40 j) = _lease(bob);
        vm.assertEq(j, 4, "fresh jobs still come");
        // In one call, the first lease makes the caller busy for the rest.
        _bond(carol, 4);
        vm.prank(carol);
        (, uint40[] memory got) = coord.leaseMany(4);
        vm.assertEq(got.length, 1, "one takeover, then busy");
    }

    /// @notice A hoarder on a tree's top job is reassigned after staleAge, before fresh leaves.
    function test_Lease_AStaleJobGoesBeforeFreshLeaves() public {
        vm.prank(owner);
        coord.setStaleAge(300);
        uint32 tree = _post(2); // leaves 1, 2, top 3
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        _proveTwo(bob);
        vm.assertEq(uint8(_status(3)), uint8(ICoordinator.JobStatus.Fresh), "the top is ready");
        uint256 t0 = block.timestamp;
        (, uint40 top) = _lease(alice); // the hoarder takes the top and sits on it
        vm.assertEq(top, 3, "hoarded top");
        _post(3); // jobs 4-6 are leaves: fresh work of a later tree
        vm.warp(t0 + 299);
        (, uint40 j) = _lease(bob);
        vm.assertEq(j, 4, "not stale yet: fresh work first");
        vm.warp(t0 + 300);
        (uint64 r, uint40 k) = _lease(carol);
        vm.assertEq(k, 3, "stale: ahead of fresh leaves");
        _submit(carol, r);
        _verdict(r, VALID);
        vm.assertEq(views(coord).batch(tree).finalProofHash, _proofHash(r), "the tree is finished");
    }

    /// @notice A stale pending job goes before a fresh aggregation node too (a hoarded leaf holds
    ///         up its parent and all above it), and a `submitAndLease` takes it as a `lease`
    ///         does; a busy prover does not.
    function test_Lease_AStaleJobGoesBeforeFreshNodesAndWithASubmission() public {
        vm.prank(owner);
        coord.setStaleAge(300);
        _post(4); // leaves 1-4, nodes 5 = (1, 2), 6 = (3, 4), top 7
        _bond(alice, 2);
        _bond(bob, 2);
        _bond(carol, 2);
        uint256 t0 = block.timestamp;
        (, uint40 hoarded) = _lease(alice); // leaf 1, never proven
        vm.assertEq(hoarded, 1, "the hoarded leaf");
        (uint64 r2,) = _lease(bob);
        (uint64 r3,) = _lease(carol);
        (uint64 r4,) = _lease(carol);
        _submit(carol, r3);
        _verdict(r3, VALID);
        _submit(carol, r4);
        _verdict(r4, VALID); // node 6 is fresh
        vm.assertEq(uint8(_status(6)), uint8(ICoordinator.JobStatus.Fresh), "a fresh node");
        vm.warp(t0 + 300);
        // bob submits leaf 2 asking for more: the stale leaf goes before the fresh node.
        vm.prank(bob);
        (uint64 rb, uint40 jb) = coord.submitAndLease(r2, _proofHash(r2));
        vm.assertEq(jb, 1, "stale: ahead of the fresh node, with the submission");
        vm.assertTrue(views(coord).lapsed(alice), "the hoarder lapsed");
        _verdict(r2, VALID);
        (, uint40 jc) = _lease(carol);
        vm.assertEq(jc, 6, "then the fresh node (bob's leaf 1 is young)");
        _submit(bob, rb);
        _verdict(rb, VALID); // node 5 = (1, 2) is ready; bob leased, so he waits for nothing
        vm.assertEq(uint8(_status(5)), uint8(ICoordinator.JobStatus.Fresh), "node 5 fresh");
    }

    /// @dev `who` proves the two next jobs.
    function _proveTwo(address who) internal {
        _prove(who);
        _prove(who);
    }

    function test_Lease_WithoutAStaleAgeFreshLeavesAlwaysGoFirst() public {
        _post(1); // job 1, its own top
        _bond(alice, 1);
        _bond(bob, 3);
        uint256 t0 = block.timestamp;
        _lease(alice);
        _post(3); // leaves 2-4
        vm.warp(t0 + 10 days);
        vm.prank(bob);
        (, uint40[] memory got) = coord.leaseMany(3);
        vm.assertEq(got[0], 2, "fresh first");
        vm.assertEq(got.length, 3, "all fresh");
    }

    function test_SetStaleAge_OwnerOnlyAndBounded() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        coord.setStaleAge(1);
        uint24 tooLong = uint24(coord.MAX_MIN_REASSIGN_AGE() + 1);
        vm.prank(owner);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        coord.setStaleAge(tooLong);
        vm.expectEmit(address(coord));
        emit ICoordinator.StaleAgeChanged(600);
        vm.prank(owner);
        coord.setStaleAge(600);
        vm.assertEq(views(coord).staleAge(), 600, "set");
    }

    function test_Lease_RevertsWhen_ProverHoldsHeadAndNext() public {
        _post(3);
        _bond(alice, 2);
        _bond(bob, 1);
        _lease(alice); // job 1
        _lease(alice); // job 2
        _lease(bob); // job 3
        _bond(alice, 1);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice); // head and the one after are hers: no further
    }

    function test_Lease_RevertsWhen_SoleProverHoldsTheOnlyJob() public {
        _post(1);
        _bond(alice, 2);
        _lease(alice);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice);
    }

    function test_Lease_RevertsWhen_NothingPosted() public {
        _bond(alice, 1);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice);
    }

    function test_Lease_RespectsMinReassignAge() public {
        coord = _deploy(120);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.prank(owner);
        coord.setSpareAttempts(0);
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        _lease(alice);
        vm.warp(block.timestamp + 119);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(bob);
        vm.warp(block.timestamp + 1);
        (, uint40 j) = _lease(bob);
        vm.assertEq(j, 1, "old enough to reassign");
    }

    /// @notice Hostile review, finding 2: two addresses passing one job back and forth until its
    ///         attempt reached MAX_ATTEMPTS froze the pending list (the job stayed at the head,
    ///         every job behind it unreachable). Its last possible lease now leaves it out of the
    ///         list; its holder still completes it.
    function test_Lease_AnExhaustedJobBlocksNoOtherJob() public {
        address dave = makeAddr("dave");
        _post(2);
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        _bond(dave, 1);
        _lease(alice); // job 1
        _lease(bob); // job 2
        // 2^24 - 3 leases back and forth later, one lease short of the limit.
        uint24 max = uint24(coord.MAX_ATTEMPTS());
        _setAttempt(1, max - 1);
        (uint64 r, uint40 j) = _lease(carol);
        vm.assertEq(j, 1, "the head");
        vm.assertEq(r, _rid(1, max), "its last lease");
        (, uint256 pendingJobs, uint40 head,) = views(coord).queue();
        vm.assertEq(pendingJobs, 1, "only job 2 listed");
        vm.assertEq(head, 2, "job 2 at the head");
        (, j) = _lease(dave);
        vm.assertEq(j, 2, "job 2 is not frozen behind job 1");
        _submit(carol, r);
        _verdict(r, VALID);
        vm.assertEq(uint8(_status(1)), uint8(ICoordinator.JobStatus.Complete), "completed");
        (, pendingJobs, head,) = views(coord).queue();
        vm.assertEq(pendingJobs, 1, "the list kept job 2");
        vm.assertEq(head, 2, "still the head");
    }

    // Sets job `jobId`'s attempt in storage (`_jobWords` is slot 14; `attempt` sits at bit 136 of
    // the packed Job, per `forge inspect Coordinator storageLayout` and the struct's order).
    /// @notice Leasing the job right after the pending list's tail by id writes nothing into
    ///         the tail's word (the link is implicit); unlinking a job between two others writes
    ///         its predecessor's link whole, and the list reads the same either way.
    function test_Lease_TheNextJobByIdNeedsNoLinkInTheTail() public {
        _post(4); // leaves 1..4
        _bond(alice, 4);
        _lease(alice); // job 1
        bytes32 slot1 = keccak256(abi.encode(uint256(1), uint256(14)));
        bytes32 word1 = vm.load(address(coord), slot1);
        (uint64 r2,) = _lease(alice); // job 2
        vm.assertEq(vm.load(address(coord), slot1), word1, "the tail's word is not written");
        (, uint40 next) = views(coord).pendingLinks(1);
        vm.assertEq(next, 2, "yet job 2 follows job 1");
        (uint64 r3,) = _lease(alice); // job 3
        _submit(alice, r2);
        _verdict(r2, VALID);
        (, next) = views(coord).pendingLinks(1);
        vm.assertEq(next, 3, "job 3 follows job 1 once job 2 left");
        (uint40 prev,) = views(coord).pendingLinks(3);
        vm.assertEq(prev, 1, "and the other way");
        (next,) = views(coord).pendingLinks(2);
        vm.assertEq(next, 0, "job 2 is out of the list");
        _submit(alice, r3);
        _verdict(r3, VALID); // the tail leaves: job 1 is the tail again
        (,,, uint40 tail) = views(coord).queue();
        vm.assertEq(tail, 1, "job 1 is the tail");
        (, next) = views(coord).pendingLinks(1);
        vm.assertEq(next, 0, "with nothing after it");
        (, uint40 j4) = _lease(alice); // job 4, not right after job 1: linked in its word
        (, next) = views(coord).pendingLinks(1);
        vm.assertEq(next, j4, "job 4 follows job 1");
    }

    function _setAttempt(uint40 jobId, uint24 attempt) internal {
        bytes32 slot = keccak256(abi.encode(uint256(jobId), uint256(14)));
        uint256 w = uint256(vm.load(address(coord), slot));
        w = (w & ~(uint256(type(uint24).max) << 136)) | (uint256(attempt) << 136);
        vm.store(address(coord), slot, bytes32(w));
        (,, uint64 latest,,) = views(coord).job(jobId);
        vm.assertEq(uint24(latest), attempt, "the slot layout moved: update _setAttempt");
    }

    /// @notice A job leased at most `spareAttempts` times goes at once to an idle prover; the
    ///         next lease waits for the minimum age. Each holder handed on unsubmitted lapses.
    function test_Lease_SparesGoAtOnceUpToSpareAttempts() public {
        coord = _deploy(120);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.assertEq(views(coord).spareAttempts(), coord.DEFAULT_SPARE_ATTEMPTS(), "the default");
        vm.assertEq(views(coord).spareAttempts(), 2, "two spares");
        address dave = makeAddr("dave");
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        _bond(dave, 1);
        _lease(alice);
        (uint64 rb, uint40 jb) = _lease(bob);
        vm.assertEq(jb, 1, "a spare at once");
        vm.assertEq(rb, _rid(1, 2), "second lease");
        vm.assertTrue(views(coord).lapsed(alice), "alice handed on unsubmitted");
        (uint64 rc,) = _lease(carol);
        vm.assertEq(rc, _rid(1, 3), "second spare");
        vm.assertTrue(views(coord).lapsed(bob), "bob too");
        vm.warp(block.timestamp + 119);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(dave);
        vm.warp(block.timestamp + 1);
        vm.assertFalse(views(coord).lapsed(carol), "carol still holds it");
        (uint64 rd,) = _lease(dave);
        vm.assertEq(rd, _rid(1, 4), "old enough");
        vm.assertTrue(views(coord).lapsed(carol), "handed on unsubmitted once old enough too");
    }

    /// @notice A withholder (submits a hash, never uploads) and an invalid prover lapse on their
    ///         verdicts, as a prover whose lease is handed on does; a completed job clears it.
    function test_Verdict_MissingAndInvalidLapse() public {
        _post(3);
        _bond(alice, 2);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        (uint64 ra2,) = _lease(alice);
        (uint64 rb,) = _lease(bob);
        _submit(alice, ra);
        _submit(bob, rb);
        vm.warp(block.timestamp + UPLOAD_DEADLINE);
        _verdict(ra, MISSING);
        vm.assertTrue(views(coord).lapsed(alice), "Missing: lapsed");
        _verdict(rb, INVALID);
        vm.assertTrue(views(coord).lapsed(bob), "Invalid: lapsed");
        _submit(alice, ra2);
        _verdict(ra2, VALID);
        vm.assertFalse(views(coord).lapsed(alice), "completed a job since");
    }

    /// @notice A submitted lease handed on is not a lapse; a Valid verdict that completes a job
    ///         clears one.
    function test_Lease_LapseIsForUnsubmittedLeasesAndCompletionClearsIt() public {
        coord = _deploy(120);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        _post(2);
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        (uint64 ra,) = _lease(alice); // job 1
        (uint64 rb,) = _lease(bob); // job 2
        _submit(bob, rb);
        (, uint40 j) = _lease(carol); // job 1 as a spare (the head); alice lapses
        vm.assertEq(j, 1, "the head");
        vm.assertTrue(views(coord).lapsed(alice), "unsubmitted: lapsed");
        _submit(alice, ra);
        _verdict(ra, VALID);
        vm.assertFalse(views(coord).lapsed(alice), "completed a job since");
        vm.prank(owner);
        coord.setSpareAttempts(1);
        (, j) = _lease(alice); // job 2, submitted by bob: a spare
        vm.assertEq(j, 2, "bob's submitted job");
        vm.assertFalse(views(coord).lapsed(bob), "submitted: not a lapse");
    }

    /// @notice A prover that has lapsed takes no spare, no job someone holds however old, no
    ///         fresh node, only fresh round-0 jobs; its own young leases go as spares whatever
    ///         their attempt, even with spares off.
    function test_Lease_LapsedProverTakesNoSpareAndLosesItsProtection() public {
        coord = _deploy(120);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.prank(owner);
        coord.setSpareAttempts(1);
        _post(2);
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        _lease(alice); // job 1
        _lease(bob); // job 2
        _lease(carol); // job 1 as a spare: alice lapses, holds nothing
        vm.assertEq(_active(alice), 0, "idle");
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice); // job 2 is young and bob has not lapsed; alice may not spare anyway
        vm.prank(owner);
        coord.setSpareAttempts(0);
        vm.warp(block.timestamp + 120);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice); // job 2 is old enough, but bob holds it: not for a lapsed prover
        _submit(bob, _rid(2, 1));
        _verdict(_rid(2, 1), VALID);
        _submit(carol, _rid(1, 2));
        _verdict(_rid(1, 2), VALID); // the top, job 3, is fresh
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice); // nor a fresh node
        _post(1); // job 4
        (uint64 r, uint40 j) = _lease(alice);
        vm.assertEq(j, 4, "a fresh round-0 job she may take");
        vm.assertTrue(views(coord).lapsed(alice), "still lapsed");
        (, uint40 k) = _lease(carol);
        vm.assertEq(k, 3, "the node goes to a prover in good standing");
        (uint64 r2, uint40 j2) = _lease(bob);
        vm.assertEq(j2, 4, "alice has lapsed: her young lease goes at once, spares off or not");
        vm.assertEq(r2, r + 1, "the next attempt");
    }

    /// @notice A lapsed prover takes a pending job that nobody holds (judged Invalid here), so
    ///         a network of lapsed provers still finishes its jobs; a held one it leaves, and a
    ///         stale one goes to a prover in good standing while it takes a fresh round-0 job.
    function test_Lease_ALapsedProverTakesAJobNobodyHolds() public {
        coord = _deploy(30);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        _post(2); // jobs 1, 2, top 3
        _bond(alice, 1);
        _bond(bob, 2); // one lease's bond left after the slash
        _bond(carol, 1);
        _lease(alice); // job 1
        (uint64 b,) = _lease(bob); // job 2
        _lease(carol); // job 1 as a spare: alice lapses
        _submit(bob, b);
        _verdict(b, INVALID); // bob lapses; job 2 pending, nobody holds it
        vm.warp(block.timestamp + 30);
        (, uint40 j) = _lease(alice);
        vm.assertEq(j, 2, "the job nobody holds goes to a lapsed prover");
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(bob); // job 1 at the head is carol's
        vm.prank(owner);
        coord.setStaleAge(30);
        _post(1); // job 4
        (, j) = _lease(bob);
        vm.assertEq(j, 4, "a lapsed prover takes no stale job: a fresh round-0 job instead");
        address dave = makeAddr("dave");
        _bond(dave, 1);
        (, j) = _lease(dave);
        vm.assertEq(j, 1, "the stale job goes to a prover in good standing");
    }

    /// @notice A held job that no prover in good standing took for twice the stale age goes to
    ///         a lapsed prover too (twice the minimum age while no stale age is set): else
    ///         provers that have all lapsed would wait forever for a crashed holder's job.
    function test_Lease_ALapsedProverTakesAJobHeldTwiceTheStaleAge() public {
        _lapsedTakesAnOverdueJob(0, 60); // the minimum age, 30 s, twice
        _lapsedTakesAnOverdueJob(45, 90);
    }

    function _lapsedTakesAnOverdueJob(uint24 staleAge, uint256 overdue) internal {
        coord = _deploy(30);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.prank(owner);
        coord.setStaleAge(staleAge);
        _post(3); // leaves 1-3
        _bond(alice, 1);
        _bond(bob, 2);
        _bond(carol, 1);
        uint256 t0 = block.timestamp;
        _lease(alice); // job 1
        _lease(bob); // job 2
        _lease(bob); // job 3
        _lease(carol); // job 1 as a spare: alice lapses
        vm.assertTrue(views(coord).lapsed(alice), "lapsed");
        vm.warp(t0 + overdue - 1);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice); // bob holds job 2, not yet for twice the age
        vm.warp(t0 + overdue);
        (, uint40 j) = _lease(alice);
        vm.assertEq(j, 2, "held for twice the age: it goes to a lapsed prover");
        vm.assertTrue(views(coord).lapsed(bob), "and its holder lapses");
    }

    /// @notice Without a minimum age (the paper's LRP) every lease handed on lapses its holder,
    ///         honest ones included, so a lapsed prover takes any job as before.
    function test_Lease_WithoutAMinimumAgeALapsedProverTakesAnyJob() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        _lease(alice);
        _lease(bob); // job 1 handed on: alice lapses
        vm.assertTrue(views(coord).lapsed(alice), "lapsed");
        (, uint40 j) = _lease(alice);
        vm.assertEq(j, 1, "bob's job, now the head, as plain LRP");
    }

    /// @notice The owner bounds spares; anyone else is refused.
    function test_SetSpareAttempts_Bounds() public {
        uint256 max = coord.MAX_SPARE_ATTEMPTS();
        vm.prank(owner);
        vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        coord.setSpareAttempts(uint8(max + 1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        coord.setSpareAttempts(1);
        vm.prank(owner);
        vm.expectEmit(address(coord));
        emit ICoordinator.SpareAttemptsChanged(uint8(max));
        coord.setSpareAttempts(uint8(max));
        vm.assertEq(views(coord).spareAttempts(), max, "set");
    }

    function test_Lease_KeepsSubmittedLeaseCounted() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        _lease(bob); // LRP: alice's submission is not judged yet
        vm.assertEq(_active(alice), 1, "submitted unjudged lease still counts");
        _verdict(r, VALID);
        vm.assertEq(_active(alice), 0, "verdict releases it");
        vm.assertEq(_active(bob), 0, "completion releases bob's unsubmitted lease");
    }

    // ------------------------------------------------------------------ lease: limits

    function test_Lease_RevertsWhen_CapReached() public {
        _post(5);
        _bond(alice, 2);
        _lease(alice);
        _lease(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, 2, 2));
        _lease(alice);
    }

    function test_Lease_RevertsWhen_BelowMinBond() public {
        _post(1);
        _stake(alice, MIN_BOND - 1);
        vm.assertEq(views(coord).leaseCap(alice), 0, "no cap below the minimum bond");
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, 0, 0));
        _lease(alice);
    }

    function test_Lease_RevertsWhen_Paused() public {
        _post(1);
        _bond(alice, 1);
        vm.prank(owner);
        coord.setLeasingPaused(true);
        vm.expectRevert(ICoordinator.LeasingIsPaused.selector);
        _lease(alice);
        vm.prank(alice);
        vm.expectRevert(ICoordinator.LeasingIsPaused.selector);
        coord.leaseMany(1);
        vm.prank(owner);
        coord.setLeasingPaused(false);
        _lease(alice);
    }

    function test_LeaseMany_LeasesUpToTheCap() public {
        _post(10);
        _bond(alice, 3);
        vm.prank(alice);
        (uint64[] memory rs, uint40[] memory js) = coord.leaseMany(5);
        vm.assertEq(rs.length, 3, "trimmed to the cap");
        vm.assertEq(js.length, 3, "same length");
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(js[i], i + 1, "fresh jobs in order");
            vm.assertEq(rs[i], _rid(uint40(i + 1), 1), "first attempts of jobs in order");
        }
        vm.assertEq(_active(alice), 3, "counted");
    }

    function test_LeaseMany_StopsWhenNoJobIsLeft() public {
        _post(2);
        _bond(alice, 8);
        vm.prank(alice);
        (uint64[] memory rs,) = coord.leaseMany(8);
        vm.assertEq(rs.length, 2, "only two jobs exist, and LRP never hands her her own");
        vm.assertEq(_active(alice), 2, "counted");
    }

    function test_LeaseMany_RevertsWhen_BadCount() public {
        _bond(alice, 1);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadLeaseCount.selector, 0));
        coord.leaseMany(0);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadLeaseCount.selector, 17));
        coord.leaseMany(17);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        coord.leaseMany(1);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ submitProof

    function test_SubmitProof_RecordsHash() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r, uint40 j) = _lease(alice);
        bytes32 h = _proofHash(r);
        vm.warp(block.timestamp + 7);
        vm.expectEmit(address(coord));
        emit ICoordinator.ProofSubmitted(r, alice, h);
        vm.prank(alice);
        coord.submitProof(r, h);
        (address holder, uint40 jobId, ICoordinator.LeaseState s, uint40 at, bytes4 stored) =
            views(coord).leaseInfo(r);
        vm.assertEq(holder, alice, "holder");
        vm.assertEq(jobId, j, "job");
        vm.assertEq(uint8(s), uint8(ICoordinator.LeaseState.Submitted), "state");
        vm.assertEq(at, block.timestamp, "time");
        vm.assertEq(stored, bytes4(h), "the hash's first 4 bytes (the event has it all)");
        vm.assertEq(_active(alice), 1, "still counted until judged");
    }

    function test_SubmitProof_RevertsWhen_UnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownRequest.selector, 42));
        vm.prank(alice);
        coord.submitProof(42, keccak256("p"));
    }

    function test_SubmitProof_RevertsWhen_NotHolder() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotLeaseHolder.selector, r));
        vm.prank(bob);
        coord.submitProof(r, keccak256("p"));
    }

    function test_SubmitProof_RevertsWhen_SubmittedTwice() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, r));
        _submit(alice, r);
    }

    function test_SubmitProof_RevertsWhen_ZeroHash() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        vm.expectRevert(ICoordinator.ZeroProofHash.selector);
        vm.prank(alice);
        coord.submitProof(r, 0);
    }

    function test_SubmitProof_RevertsWhen_JobComplete() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        (uint64 rb, uint40 j) = _lease(bob);
        _submit(bob, rb);
        _verdict(rb, VALID);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.JobNotPending.selector, j));
        _submit(alice, ra);
    }

    /// @notice One transaction per job for a busy prover: submit, and lease a fresh leaf if the
    ///         bond backs one; with none to lease (or no room, or leasing paused) the submission
    ///         still goes through.
    function test_SubmitAndLease_SubmitsThenLeasesWhatThereIs() public {
        _post(2); // leaves 1, 2, top 3
        _bond(alice, 3);
        (uint64 r1, uint40 j1) = _lease(alice);
        vm.prank(alice);
        (uint64 r2, uint40 j2) = coord.submitAndLease(r1, _proofHash(r1));
        vm.assertEq(uint8(_leaseState(r1)), uint8(ICoordinator.LeaseState.Submitted), "submitted");
        vm.assertEq(j2, j1 + 1, "the next fresh leaf");
        vm.assertEq(r2, _rid(j2, 1), "its first lease");
        vm.assertEq(_active(alice), 2, "both count");
        vm.prank(alice);
        (uint64 none, uint40 noJob) = coord.submitAndLease(r2, _proofHash(r2));
        vm.assertEq(none, 0, "nothing fresh left (the top waits for its children)");
        vm.assertEq(noJob, 0, "no job");
        vm.assertEq(
            uint8(_leaseState(r2)), uint8(ICoordinator.LeaseState.Submitted), "still submitted"
        );
        // No room: the submission goes through, nothing is leased.
        _post(1);
        _bond(bob, 1);
        (uint64 b1,) = _lease(bob);
        _post(1);
        vm.prank(bob);
        (none,) = coord.submitAndLease(b1, _proofHash(b1));
        vm.assertEq(none, 0, "the bond backs no second lease");
        vm.assertEq(_active(bob), 1, "only the submitted one");
        // The submission's own checks still revert the whole call.
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, b1));
        vm.prank(bob);
        coord.submitAndLease(b1, _proofHash(b1));
    }

    function test_SubmitAndLease_LeasesNothingWhilePaused() public {
        _post(2);
        _bond(alice, 2);
        (uint64 r,) = _lease(alice);
        vm.prank(owner);
        coord.setLeasingPaused(true);
        vm.prank(alice);
        (uint64 none,) = coord.submitAndLease(r, _proofHash(r));
        vm.assertEq(none, 0, "paused: nothing leased");
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Submitted), "submitted");
    }

    /// @notice A prover whose leases all await verdicts is idle: it gets an older tree's fresh
    ///         node before later leaves, with `lease` as with `submitAndLease`. One holding a
    ///         lease not yet submitted is busy and gets the leaf.
    function test_Lease_AProverWhoseLeasesAwaitVerdictsIsIdle() public {
        _post(2); // leaves 1, 2, top 3
        _post(2); // leaves 4, 5, top 6
        _bond(alice, 4);
        _bond(bob, 4);
        (uint64 r1,) = _lease(alice);
        (uint64 r2,) = _lease(bob);
        _submit(alice, r1);
        _submit(bob, r2);
        _verdict(r1, VALID);
        _verdict(r2, VALID); // top 3 is fresh now
        (uint64 r4, uint40 j4) = _lease(alice);
        vm.assertEq(j4, 3, "alice holds no lease: the older tree's node first");
        (uint64 r5, uint40 j5) = _lease(bob);
        vm.assertEq(j5, 4, "then the next tree's leaves");
        _submit(bob, r5);
        (,,, uint256 bobActive,, uint256 bobUnsubmitted,) = views(coord).prover(bob);
        vm.assertEq(bobActive, 1, "its submission still counts against the bond");
        vm.assertEq(bobUnsubmitted, 0, "but it holds nothing to prove");
        // Alice holds node 3 unsubmitted: busy, she gets a leaf.
        (, uint40 j6) = _lease(alice);
        vm.assertEq(j6, 5, "busy: a fresh leaf");
        _submit(alice, r4);
        (,,,,, uint256 aliceUnsubmitted,) = views(coord).prover(alice);
        vm.assertEq(aliceUnsubmitted, 1, "leaf 5 is still to prove");
    }

    /// @notice `submitAndLease` gives an idle prover the fresh node `lease` would, never a
    ///         pending job: reassignment and spares are `lease`'s, asked for on purpose.
    function test_SubmitAndLease_TakesAFreshNodeButNoPendingJob() public {
        _post(2); // leaves 1, 2, top 3
        _bond(alice, 4);
        _bond(bob, 4);
        (uint64 r1,) = _lease(alice);
        (uint64 r2,) = _lease(bob);
        _submit(bob, r2);
        _verdict(r2, VALID);
        vm.warp(block.timestamp + 1 days); // alice's lease is old: LRP would hand it on
        _post(2); // leaves 4, 5, top 6
        (uint64 b4,) = _lease(bob);
        vm.prank(bob);
        (uint64 b5, uint40 j5) = coord.submitAndLease(b4, _proofHash(b4));
        vm.assertEq(j5, 5, "the next fresh leaf");
        vm.prank(alice);
        (uint64 a2, uint40 ja) = coord.submitAndLease(r1, _proofHash(r1));
        vm.assertEq(a2, 0, "nothing fresh: no node yet, and no pending job");
        vm.assertEq(ja, 0, "no job");
        uint256 snap = vm.snapshotState();
        (, uint40 jl) = _lease(alice);
        vm.assertEq(jl, 4, "where lease hands bob's old job on");
        vm.revertToState(snap);
        _verdict(r1, VALID); // top 3 is ready: handed to alice, whose submitAndLease found none
        (address h,, ICoordinator.LeaseState st,,) = views(coord).leaseInfo(_rid(3, 1));
        vm.assertTrue(h == alice && st == ICoordinator.LeaseState.Leased, "handed to alice");
        _verdict(b4, VALID);
        vm.prank(bob);
        (, uint40 jn) = coord.submitAndLease(b5, _proofHash(b5));
        vm.assertEq(jn, 0, "idle after its submission, but the node went to its completer");
        _verdict(b5, VALID); // node 6 = (4, 5) is ready: bob was waiting for it
        (h,, st,,) = views(coord).leaseInfo(_rid(6, 1));
        vm.assertTrue(h == bob && st == ICoordinator.LeaseState.Leased, "handed to bob");
    }

    /// @notice A node is handed, in the verdict that readies it, to the prover whose proof
    ///         completed its last child when that prover's `submitAndLease` found nothing: no
    ///         lease transaction, nothing fresh in between; it counts against the bond.
    function test_Handoff_ANodeGoesToItsWaitingCompleter() public {
        uint32 b = _post(2); // leaves 1, 2, top 3
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 r1,) = _lease(alice);
        (uint64 r2,) = _lease(bob);
        _submit(bob, r2);
        _verdict(r2, VALID);
        vm.prank(alice);
        (uint64 none,) = coord.submitAndLease(r1, _proofHash(r1));
        vm.assertEq(none, 0, "nothing to lease: alice waits");
        vm.expectEmit(address(coord));
        emit ICoordinator.JobLeased(_rid(3, 1), alice, address(0));
        _verdict(r1, VALID);
        vm.assertEq(uint8(_status(3)), uint8(ICoordinator.JobStatus.Pending), "leased at once");
        vm.assertEq(_fresh(), 0, "never fresh");
        (,,, uint256 active,, uint256 unsubmitted,) = views(coord).prover(alice);
        vm.assertTrue(active == 1 && unsubmitted == 1, "counted against alice's bond");
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, 1, 1));
        _lease(alice);
        _submit(alice, _rid(3, 1));
        _verdict(_rid(3, 1), VALID);
        vm.assertEq(views(coord).batch(b).finalProofHash, _proofHash(_rid(3, 1)), "final");
    }

    /// @notice A plain submission or a release ends a wait: a prover that stops asking (the
    ///         client submits plainly when it stops) is not handed the node its proof readies.
    function test_Handoff_NotAfterAPlainSubmissionOrARelease() public {
        _post(4); // leaves 1-4, nodes 5 = (1, 2), 6 = (3, 4), top 7
        _bond(alice, 4);
        _bond(bob, 4);
        vm.prank(alice);
        (uint64[] memory ra,) = coord.leaseMany(2); // 1, 2
        vm.prank(bob);
        (uint64[] memory rb,) = coord.leaseMany(2); // 3, 4
        vm.prank(alice);
        (uint64 none,) = coord.submitAndLease(ra[0], _proofHash(ra[0]));
        vm.assertEq(none, 0, "nothing to lease: alice waits");
        _submit(alice, ra[1]); // her last submission is a plain one
        _verdict(ra[0], VALID);
        _verdict(ra[1], VALID); // node 5 is ready
        vm.assertEq(uint8(_status(5)), uint8(ICoordinator.JobStatus.Fresh), "plain: not handed");
        (, uint40 j5) = _lease(alice);
        vm.assertEq(j5, 5, "alice takes node 5");
        vm.prank(bob);
        (none,) = coord.submitAndLease(rb[0], _proofHash(rb[0]));
        vm.assertEq(none, 0, "busy, nothing fresh: bob waits");
        vm.prank(bob);
        coord.releaseLease(rb[1]); // bob gives leaf 4 back and holds nothing: no longer waits
        _bond(carol, 1);
        (uint64 r4, uint40 j4) = _lease(carol);
        vm.assertEq(j4, 4, "the released leaf");
        _submit(carol, r4);
        _verdict(r4, VALID);
        _verdict(rb[0], VALID); // node 6 is ready with bob's proof
        vm.assertEq(uint8(_status(6)), uint8(ICoordinator.JobStatus.Fresh), "released: not handed");
    }

    /// @notice A `submitAndLease` of a lease handed on since chains no lease: the stale job it
    ///         would take is the very job it submits (the other holder would lapse for nothing).
    function test_SubmitAndLease_OfAHandedOnLeaseLeasesNothing() public {
        vm.prank(owner);
        coord.setStaleAge(300);
        _post(2); // leaves 1, 2, top 3
        _bond(alice, 3);
        _bond(bob, 3);
        _bond(carol, 3);
        (uint64 a1,) = _lease(alice); // leaf 1: alice is slow
        (uint64 c2,) = _lease(carol);
        _submit(carol, c2);
        _verdict(c2, VALID);
        vm.warp(block.timestamp + 300);
        (, uint40 jb) = _lease(bob); // stale: bob takes leaf 1 over
        vm.assertEq(jb, 1, "bob took leaf 1");
        vm.warp(block.timestamp + 300); // bob's lease is stale in turn
        _post(2); // fresh leaves, so a chained lease would be tried
        vm.prank(alice);
        (uint64 next, uint40 jn) = coord.submitAndLease(a1, _proofHash(a1));
        vm.assertTrue(next == 0 && jn == 0, "no lease chained to a handed-on lease");
        vm.assertFalse(views(coord).lapsed(bob), "bob keeps his standing");
    }

    /// @notice No handoff to a completer still holding a lease to prove, to one that did not ask
    ///         (plain submission), or while leasing is paused: the node becomes fresh.
    function test_Handoff_NotWhenBusyNotAskedOrPaused() public {
        _post(4); // leaves 1-4, nodes 5 = (1, 2), 6 = (3, 4), top 7
        _bond(alice, 4);
        _bond(bob, 4);
        vm.prank(bob);
        (uint64[] memory rb,) = coord.leaseMany(3); // 1, 2, 3
        (uint64 r4,) = _lease(alice);
        vm.prank(bob);
        (uint64 none,) = coord.submitAndLease(rb[0], _proofHash(rb[0]));
        vm.assertEq(none, 0, "busy: leaves only, and none is left");
        _submit(bob, rb[1]);
        _verdict(rb[1], VALID);
        _verdict(rb[0], VALID); // readies 5; bob waits but still holds 3 unsubmitted
        vm.assertEq(uint8(_status(5)), uint8(ICoordinator.JobStatus.Fresh), "busy completer");
        _submit(alice, r4);
        _submit(bob, rb[2]);
        _verdict(rb[2], VALID);
        _verdict(r4, VALID); // readies 6; alice submitted plainly
        vm.assertEq(uint8(_status(6)), uint8(ICoordinator.JobStatus.Fresh), "not asked");
        (uint64 r5, uint40 j5) = _lease(alice);
        (uint64 r6, uint40 j6) = _lease(bob);
        vm.assertTrue(j5 == 5 && j6 == 6, "the fresh nodes");
        vm.prank(alice);
        (none,) = coord.submitAndLease(r5, _proofHash(r5));
        vm.assertEq(none, 0, "nothing fresh: alice waits");
        _submit(bob, r6);
        vm.prank(owner);
        coord.setLeasingPaused(true);
        _verdict(r6, VALID);
        _verdict(r5, VALID); // readies the top; alice waits, idle, but leasing is paused
        vm.assertEq(uint8(_status(7)), uint8(ICoordinator.JobStatus.Fresh), "leasing paused");
    }

    /// @notice The escrow over all batches is a uint96 (in the relayer's slot): a post that
    ///         would pass it is refused whole, before any token moves, and one that reaches it
    ///         exactly is not.
    function test_PostBatch_RevertsWhen_EscrowWouldPassUint96() public {
        uint96 max = type(uint96).max;
        vm.prank(relayer);
        vm.expectRevert(); // SafeCast's overflow
        coord.postBatch(_nextRoot(), 2, max, CIRCUIT); // 3 jobs
        vm.assertEq(coord.totalEscrow(), 0, "nothing escrowed");
        (uint32 nextBatch,) = views(coord).nextIds();
        vm.assertEq(nextBatch, 1, "no batch");
        token.mint(relayer, max);
        vm.startPrank(relayer);
        token.approve(address(coord), type(uint256).max);
        coord.postBatch(_nextRoot(), 1, max, CIRCUIT); // 1 job: exactly the most
        vm.stopPrank();
        vm.assertEq(coord.totalEscrow(), max, "the most there can be");
        vm.prank(relayer);
        vm.expectRevert();
        coord.postBatch(_nextRoot(), 1, 1, CIRCUIT);
    }

    /// @notice Job ids stay below 2^32 (the pending list's links are 32-bit): a tree whose ids
    ///         would pass it is refused, one that ends just below it is not.
    function test_PostBatch_RevertsWhen_JobIdsWouldPass2To32() public {
        // Registry: round0Tail (32 bits), nextBatchId (32), nextJobId (40), proverCount (32).
        bytes32 slot = bytes32(uint256(7));
        uint256 w = uint256(vm.load(address(coord), slot));
        vm.assertEq(uint40(w >> 64), 1, "the slot layout moved: update this test");
        uint40 last = uint40((uint256(1) << 32) - 1);
        uint256 first = last - 1; // room for 2 jobs
        w = (w & ~(uint256(type(uint40).max) << 64)) | (first << 64);
        vm.store(address(coord), slot, bytes32(w));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadJobCount.selector, 2));
        coord.postBatch(_nextRoot(), 2, REWARD, CIRCUIT); // 3 jobs
        uint32 b = _post(1);
        vm.assertEq(views(coord).batch(b).firstJobId, first, "the last ids");
        _post(1);
        _bond(alice, 2);
        _lease(alice);
        (, uint40 j) = _lease(alice);
        vm.assertEq(j, last, "the last id, leased");
        (,, uint40 head, uint40 tail) = views(coord).queue();
        vm.assertEq(head, first, "listed");
        vm.assertEq(tail, last, "at the tail");
        // LRP moves the head behind the last id: the tail's id + 1 must not wrap.
        _bond(bob, 1);
        (, uint40 taken) = _lease(bob);
        vm.assertEq(taken, first, "the head taken over");
        (,, head, tail) = views(coord).queue();
        vm.assertEq(head, last, "the last id heads the list");
        vm.assertEq(tail, first, "the reassigned job is the tail");
        (, uint40 next) = views(coord).pendingLinks(last);
        vm.assertEq(next, first, "linked");
    }

    /// @notice Prover ids stay below 2^24 (a job's holder is 24-bit): the stake that would
    ///         register one more prover is refused.
    function test_Stake_RevertsWhen_ProverIdsRunOut() public {
        bytes32 slot = bytes32(uint256(7));
        uint256 w = uint256(vm.load(address(coord), slot));
        vm.assertEq(uint32(w >> 104), 0, "the slot layout moved: update this test");
        w |= uint256((1 << 24) - 2) << 104;
        vm.store(address(coord), slot, bytes32(w));
        _stake(alice, MIN_BOND);
        vm.assertEq(proverIdOf(address(coord), alice), (1 << 24) - 1, "the last id");
        token.mint(bob, MIN_BOND);
        vm.startPrank(bob);
        token.approve(address(coord), MIN_BOND);
        vm.expectRevert(ICoordinator.BadAmount.selector);
        coord.stake(MIN_BOND);
        vm.stopPrank();
        _stake(alice, MIN_BOND); // a registered prover stakes more as before
    }

    function test_SubmitProof_RevertsWhen_BatchCancelled() public {
        uint32 b = _post(1);
        _bond(alice, 1);
        (uint64 r, uint40 j) = _lease(alice);
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.JobNotPending.selector, j));
        _submit(alice, r);
    }

    function test_SubmitProof_StaleLeaseCountsAgainWhenSubmitted() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        _lease(bob); // reassigned: alice's lease no longer counts
        vm.assertEq(_active(alice), 0, "moved on");
        _submit(alice, ra); // a valid proof from any outstanding lease still counts
        vm.assertEq(_active(alice), 1, "a submitted, unjudged lease counts");
        _verdict(ra, VALID);
        vm.assertEq(_active(alice), 0, "judged");
        vm.assertEq(_active(bob), 0, "bob's lease released by completion");
        vm.assertEq(_earnings(alice), REWARD, "the stale lease's valid proof won");
    }

    // ------------------------------------------------------------------ releaseLease

    /// @notice A released lease stops counting against the bond at once, and its job goes to
    ///         the head of the pending list, where the next idle prover takes it whatever its
    ///         age; its holder does not lapse.
    function test_ReleaseLease_FreesTheBondAndHandsTheJobOnAtOnce() public {
        coord = _deploy(120);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.prank(owner);
        coord.setSpareAttempts(0); // not as a spare: as released
        _post(3);
        _bond(alice, 2);
        _bond(bob, 1);
        _bond(carol, 1);
        _lease(alice); // job 1
        (uint64 r2,) = _lease(alice); // job 2
        _lease(bob); // job 3
        vm.expectEmit(address(coord));
        emit ICoordinator.LeaseReleased(r2, alice);
        vm.prank(alice);
        coord.releaseLease(r2);
        vm.assertEq(_active(alice), 1, "the released lease stopped counting");
        vm.assertEq(uint8(_leaseState(r2)), uint8(ICoordinator.LeaseState.Released), "released");
        vm.assertEq(_head(), 2, "job 2 moved to the head");
        (uint40 prev, uint40 next) = views(coord).pendingLinks(2);
        vm.assertEq(prev, 0, "nothing before it");
        vm.assertEq(next, 1, "job 1 after it");
        (prev, next) = views(coord).pendingLinks(1);
        vm.assertEq(prev, 2, "job 1 after job 2");
        vm.assertEq(next, 3, "then job 3 (a link written whole)");
        vm.assertEq(_pending(), 3, "still three pending");
        // The freed bond may leave.
        vm.prank(alice);
        coord.requestUnstake(BOND_PER_LEASE);
        // Leased a second ago, yet carol takes it at once: its holder gave it back.
        vm.expectEmit(address(coord));
        emit ICoordinator.JobLeased(_rid(2, 2), carol, alice);
        (, uint40 j) = _lease(carol);
        vm.assertEq(j, 2, "the released job first");
        vm.assertFalse(views(coord).lapsed(alice), "giving work back is no lapse");
        vm.assertEq(_active(alice), 1, "the takeover counts nothing twice");
        address dave = makeAddr("dave");
        _bond(dave, 1);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(dave); // the others are young
    }

    /// @notice A prover alone on the network takes back what it released (after a cool-down,
    ///         say): its own released job is not passed over as its held jobs are.
    function test_ReleaseLease_TheReleaserMayTakeItBack() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        vm.prank(alice);
        coord.releaseLease(r);
        (uint64 again, uint40 j) = _lease(alice);
        vm.assertEq(j, 1, "taken back");
        vm.assertEq(again, _rid(1, 2), "as a new lease");
        _submit(alice, again);
        _verdict(again, VALID);
        vm.assertEq(uint8(_status(1)), uint8(ICoordinator.JobStatus.Complete), "completed");
        vm.assertEq(_active(alice), 0, "nothing held");
    }

    /// @notice With a stale age set, a released job goes before fresh leaves; without one, when
    ///         nothing is fresh (as every pending job).
    function test_ReleaseLease_BeforeFreshLeavesWhereStaleAgeIsSet() public {
        _post(3); // leaves 1..3
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        (uint64 r,) = _lease(alice);
        vm.prank(alice);
        coord.releaseLease(r);
        (, uint40 j) = _lease(bob);
        vm.assertEq(j, 2, "no stale age: fresh leaves first");
        vm.prank(owner);
        coord.setStaleAge(3600);
        (, j) = _lease(carol);
        vm.assertEq(j, 1, "stale age set: the released job first, whatever its age");
    }

    function test_ReleaseLease_RevertsWhen_NotAnUnsubmittedLatestLeaseOfAPendingJob() public {
        _post(2);
        _bond(alice, 2);
        _bond(bob, 1);
        (uint64 r1,) = _lease(alice); // job 1
        (uint64 r2,) = _lease(alice); // job 2
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownRequest.selector, _rid(1, 0)));
        coord.releaseLease(_rid(1, 0));
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownRequest.selector, _rid(1, 2)));
        coord.releaseLease(_rid(1, 2));
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownRequest.selector, _rid(9, 1)));
        coord.releaseLease(_rid(9, 1));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotLeaseHolder.selector, r1));
        vm.prank(bob);
        coord.releaseLease(r1);
        _submit(alice, r1);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, r1));
        vm.prank(alice);
        coord.releaseLease(r1);
        vm.prank(alice);
        coord.releaseLease(r2);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseIsReleased.selector, r2));
        vm.prank(alice);
        coord.releaseLease(r2);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseIsReleased.selector, r2));
        vm.prank(alice);
        coord.submitProof(r2, _proofHash(r2));
        // A verdict on it does not apply: nothing was submitted.
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r2, ICoordinator.SkipReason.NotSubmitted);
        _verdict(r2, VALID);
        // Given back, then taken over: it stays given back.
        _lease(bob); // job 2, attempt 2
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseIsReleased.selector, r2));
        vm.prank(alice);
        coord.releaseLease(r2);
    }

    /// @notice A lease that LRP handed on no longer counts: it is not its holder's to give back
    ///         (the job is someone else's now).
    function test_ReleaseLease_RevertsWhen_HandedOn() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        (uint64 rb,) = _lease(bob); // no minimum age here: LRP hands it on at once
        vm.assertEq(rb, _rid(1, 2), "taken over");
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotLeaseHolder.selector, ra));
        vm.prank(alice);
        coord.releaseLease(ra);
        vm.assertEq(_active(bob), 1, "bob's lease untouched");
    }

    /// @notice A job completed through an earlier lease: its latest lease no longer counts
    ///         (the verdict released it), so it cannot be given back twice over.
    function test_ReleaseLease_RevertsWhen_JobComplete() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        _submit(alice, ra);
        (uint64 rb,) = _lease(bob); // LRP hands the job to bob
        _verdict(ra, VALID);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.JobNotPending.selector, uint40(1)));
        vm.prank(bob);
        coord.releaseLease(rb);
        vm.assertEq(_active(bob), 0, "counted once, released by the completion");
    }

    /// @notice A lease on a cancelled batch's job is cleared instead: its count goes at once.
    function test_ReleaseLease_OfACancelledBatchClearsTheJob() public {
        uint32 b = _post(2);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.expectEmit(address(coord));
        emit ICoordinator.JobCleared(1);
        vm.prank(alice);
        coord.releaseLease(r);
        vm.assertEq(_active(alice), 0, "its bond is free");
        vm.assertEq(uint8(_status(1)), uint8(ICoordinator.JobStatus.Cleared), "cleared");
        vm.assertEq(_pending(), 0, "off the list");
    }

    /// @notice A job's last possible lease stays with its holder: nobody could take it over.
    function test_ReleaseLease_RevertsWhen_LastAttempt() public {
        _post(1);
        _bond(alice, 1);
        _lease(alice);
        uint24 max = uint24(coord.MAX_ATTEMPTS());
        _setAttempt(1, max);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LastAttempt.selector, _rid(1, max)));
        vm.prank(alice);
        coord.releaseLease(_rid(1, max));
    }

    // ------------------------------------------------------------------ verdicts

    function test_Verdict_ValidCompletesAndPays() public {
        uint32 b = _post(2); // leaves 1, 2, top 3
        _bond(alice, 1);
        (uint64 r, uint40 j) = _lease(alice);
        _submit(alice, r);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictRecorded(r, alice, VALID, true, REWARD);
        _verdict(r, VALID);
        vm.assertEq(uint8(_status(j)), uint8(ICoordinator.JobStatus.Complete), "complete");
        (,,,, uint64 winner) = views(coord).job(j);
        vm.assertEq(winner, r, "winning lease recorded");
        vm.assertEq(_earnings(alice), REWARD, "paid");
        vm.assertEq(coord.totalEscrow(), 2 * REWARD, "escrow drops by one reward");
        vm.assertEq(views(coord).batch(b).jobsLeft, 2, "the other leaf and the top left");
        vm.assertEq(uint8(_status(3)), uint8(ICoordinator.JobStatus.Waiting), "top waits");
        vm.assertEq(_pending(), 0, "left the pending list");
        vm.assertEq(_active(alice), 0, "released");
    }

    /// @notice A job won by its only lease keeps no word (deleted for a refund); its completion
    ///         bit answers for it: the views, a second submission or verdict, release and expiry
    ///         read it as before, and its sibling still readies the parent.
    function test_Verdict_AJobWonByItsOnlyLeaseKeepsNoWord() public {
        uint32 b = _post(2); // leaves 1, 2, top 3
        _bond(alice, 2);
        (uint64 r, uint40 j) = _lease(alice);
        _submit(alice, r);
        _verdict(r, VALID);
        bytes32 slot = keccak256(abi.encode(uint256(j), uint256(14)));
        vm.assertEq(vm.load(address(coord), slot), bytes32(0), "the word is gone");
        (ICoordinator.JobStatus st, uint32 batchId, uint64 latest,, uint64 winner) =
            views(coord).job(j);
        vm.assertEq(uint8(st), uint8(ICoordinator.JobStatus.Complete), "complete");
        vm.assertEq(batchId, b, "its batch");
        vm.assertEq(latest, r, "its only lease");
        vm.assertEq(winner, r, "the winner");
        (address holder, uint40 jobId, ICoordinator.LeaseState ls,,) = views(coord).leaseInfo(r);
        vm.assertEq(uint8(ls), uint8(ICoordinator.LeaseState.Valid), "judged Valid");
        vm.assertEq(jobId, j, "of its job");
        vm.assertEq(holder, address(0), "its holder is in the events");
        (,, ls,,) = views(coord).leaseInfo(_rid(j, 2));
        vm.assertEq(uint8(ls), uint8(ICoordinator.LeaseState.None), "no second lease");

        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, r));
        coord.submitProof(r, _proofHash(r));
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, r));
        coord.releaseLease(r);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownRequest.selector, _rid(j, 2)));
        coord.submitProof(_rid(j, 2), _proofHash(r));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, 0));
        coord.expireSubmission(r);
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vs[0] = ICoordinator.Verdict(r, alice, uint8(VALID), _proofHash(r));
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r, ICoordinator.SkipReason.AlreadyJudged);
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        vm.assertEq(_earnings(alice), REWARD, "paid once");

        (uint64 r2,) = _lease(alice);
        _submit(alice, r2);
        _verdict(r2, VALID);
        vm.assertEq(uint8(_status(3)), uint8(ICoordinator.JobStatus.Fresh), "the top is ready");
    }

    /// @notice A job completed while another lease of it is out keeps its word: that lease can
    ///         still be submitted and judged.
    function test_Verdict_AJobWithAnotherLeaseOutKeepsItsWord() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra, uint40 j) = _lease(alice);
        (uint64 rb,) = _lease(bob);
        _submit(alice, ra);
        _verdict(ra, VALID);
        bytes32 slot = keccak256(abi.encode(uint256(j), uint256(14)));
        vm.assertTrue(vm.load(address(coord), slot) != 0, "kept");
        (address holder,, ICoordinator.LeaseState ls,,) = views(coord).leaseInfo(ra);
        vm.assertEq(holder, alice, "the winner's holder, from its lease");
        vm.assertEq(uint8(ls), uint8(ICoordinator.LeaseState.Valid), "Valid");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.JobNotPending.selector, j));
        coord.submitProof(rb, _proofHash(rb));
        vm.assertEq(_active(bob), 0, "the other lease stopped counting with the job");
    }

    function test_Verdict_SecondValidProofIsRecordedNotPaid() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        (uint64 rb, uint40 j) = _lease(bob);
        _submit(alice, ra);
        _submit(bob, rb);
        _verdict(ra, VALID);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictRecorded(rb, bob, VALID, false, 0);
        _verdict(rb, VALID);
        vm.assertEq(_earnings(alice), REWARD, "first paid");
        vm.assertEq(_earnings(bob), 0, "second not paid");
        vm.assertEq(uint8(_leaseState(rb)), uint8(ICoordinator.LeaseState.Valid), "recorded");
        vm.assertEq(_active(bob), 0, "released");
        (,,,, uint64 winner) = views(coord).job(j);
        vm.assertEq(winner, ra, "the first proof stays the winner");
    }

    function test_Verdict_InvalidSlashesAndKeepsJobPending() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 r, uint40 j) = _lease(alice);
        _submit(alice, r);
        vm.expectEmit(address(coord));
        emit ICoordinator.Slashed(alice, r, SLASH);
        _verdict(r, INVALID);
        vm.assertEq(_bondOf(alice), BOND_PER_LEASE - SLASH, "slashed");
        vm.assertEq(coord.slashedOwed(), SLASH, "owed to the treasury");
        vm.assertEq(uint8(_status(j)), uint8(ICoordinator.JobStatus.Pending), "still pending");
        vm.assertEq(_pending(), 1, "still listed");
        vm.assertEq(_active(alice), 0, "released");
        (, uint40 again) = _lease(bob);
        vm.assertEq(again, j, "others can take it");
        (,,,,,, uint256 slashes) = views(coord).prover(alice);
        vm.assertEq(slashes, 1, "slash counted");
    }

    /// @notice A bond backs each counted lease by bondPerLease >= slash, so a slash reaches
    ///         unbonding funds only when the slash rose after the lease: bond first, then those,
    ///         and no more than what remains.
    function test_Verdict_SlashReachesUnbondingFunds() public {
        _slashAfterRaise(15 ether);
        (uint256 bond, uint256 unbonding,,,,,) = views(coord).prover(alice);
        vm.assertEq(bond, 0, "bond taken first");
        vm.assertEq(unbonding, 2 ether, "the rest from unbonding");
        vm.assertEq(coord.slashedOwed(), 15 ether, "full slash owed");
    }

    function test_Verdict_SlashIsCappedByWhatRemains() public {
        _slashAfterRaise(20 ether);
        (uint256 bond, uint256 unbonding,,,,,) = views(coord).prover(alice);
        vm.assertEq(bond + unbonding, 0, "all taken");
        vm.assertEq(coord.slashedOwed(), 17 ether, "no more than the 17 that remained");
    }

    // Alice stakes 17 for one lease, unbonds 7, submits; the slash rises to `slash` (bond per
    // lease 20) before her Invalid verdict.
    function _slashAfterRaise(uint96 slash) internal {
        _post(1);
        _stake(alice, 17 ether);
        (uint64 r,) = _lease(alice);
        vm.prank(alice);
        coord.requestUnstake(7 ether); // bond 10 (locked), unbonding 7
        _submit(alice, r);
        ICoordinator.Settings memory s = _settings();
        s.stake = ICoordinator.StakeParams(20 ether, 20 ether, slash);
        _changeSettings(s);
        _verdict(r, INVALID);
    }

    /// @notice Slash evasion (hostile review, finding 3): a lease handed on no longer locks the
    ///         bond, but submitting it must; else a prover unstakes and withdraws, then submits
    ///         junk with nothing left to slash.
    function test_Submit_HandedOnLeaseMustBeBackedByTheBond() public {
        _post(1);
        _stake(alice, 10 ether);
        _bond(bob, 1);
        (uint64 r,) = _lease(alice);
        _lease(bob); // alice's lease handed on: her bond is free
        vm.prank(alice);
        coord.requestUnstake(10 ether);
        vm.warp(block.timestamp + UNBONDING_DELAY);
        vm.prank(alice);
        coord.withdrawUnstaked();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, 0, 0));
        coord.submitProof(r, _proofHash(r));
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Leased), "not taken");
    }

    /// @notice A handed-on lease that the bond backs is submitted and counted again, so its
    ///         Invalid verdict finds a full slash.
    function test_Submit_HandedOnLeaseCountsAgainAndIsSlashedInFull() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 r,) = _lease(alice);
        _lease(bob);
        vm.assertEq(_active(alice), 0, "handed on");
        _submit(alice, r);
        vm.assertEq(_active(alice), 1, "counted again");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BondLocked.selector, 1, 0));
        coord.requestUnstake(1); // the bond is locked again
        vm.expectEmit(address(coord));
        emit ICoordinator.Slashed(alice, r, SLASH);
        _verdict(r, INVALID);
    }

    function test_Verdict_MissingOnlyAfterDeadlineAndWithoutSlash() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r, uint40 j) = _lease(alice);
        _submit(alice, r);
        vm.warp(block.timestamp + UPLOAD_DEADLINE - 1);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r, ICoordinator.SkipReason.UploadDeadlineNotPassed);
        _verdict(r, MISSING);
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Submitted), "early");
        vm.warp(block.timestamp + 1);
        _verdict(r, MISSING);
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Missing), "accepted");
        vm.assertEq(_bondOf(alice), BOND_PER_LEASE, "no slash");
        vm.assertEq(_active(alice), 0, "released");
        vm.assertEq(uint8(_status(j)), uint8(ICoordinator.JobStatus.Pending), "still pending");
    }

    /// @notice Finding 5: a verdict names the submission it judges. After a reorg replaced a
    ///         submission (here: another proof hash for the same lease), a verdict about the old
    ///         one is skipped and the new one stays unjudged, unpaid and unslashed.
    function test_Verdict_AboutAReplacedSubmissionIsSkipped() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        bytes32 seen = keccak256("the proof the relayer checked");
        uint256 snap = vm.snapshotState();
        vm.prank(alice);
        coord.submitProof(r, seen);
        vm.revertToState(snap); // the reorg: that submission is gone
        vm.prank(alice);
        coord.submitProof(r, keccak256("junk"));
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vs[0] = ICoordinator.Verdict(r, alice, uint8(VALID), seen);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r, ICoordinator.SkipReason.WrongProof);
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Submitted), "unjudged");
        vm.assertEq(_earnings(alice), 0, "not paid for the junk");
        _verdict(r, INVALID, keccak256("junk")); // judged on what it now names
        vm.assertEq(_bondOf(alice), MIN_BOND - SLASH, "slashed for the junk");
    }

    function test_Verdict_SkipsWhatDoesNotApplyAndAppliesTheRest() public {
        _post(3);
        _bond(alice, 3);
        (uint64 r1, uint40 j1) = _lease(alice);
        (uint64 r2,) = _lease(alice);
        (uint64 r3, uint40 j3) = _lease(alice);
        _submit(alice, r1);
        _submit(alice, r3);
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](8);
        bytes32 h1 = _proofHash(r1);
        vs[0] = ICoordinator.Verdict(999, alice, uint8(VALID), h1); // unknown request
        vs[1] = ICoordinator.Verdict(r1, alice, uint8(VALID), _proofHash(r2)); // another proof
        vs[2] = ICoordinator.Verdict(r1, bob, uint8(VALID), h1); // wrong prover
        vs[3] = ICoordinator.Verdict(r2, alice, uint8(VALID), h1); // not submitted
        vs[4] = ICoordinator.Verdict(r1, alice, 0, h1); // no result
        vs[5] = ICoordinator.Verdict(r1, alice, 9, h1); // out of range
        vs[6] = ICoordinator.Verdict(r1, alice, uint8(VALID), h1); // applies
        vs[7] = ICoordinator.Verdict(r1, alice, uint8(INVALID), h1); // already judged
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(999, ICoordinator.SkipReason.UnknownRequest);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r1, ICoordinator.SkipReason.WrongProof);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r1, ICoordinator.SkipReason.WrongJobOrProver);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r2, ICoordinator.SkipReason.NotSubmitted);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r1, ICoordinator.SkipReason.NoResult);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r1, ICoordinator.SkipReason.NoResult);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictRecorded(r1, alice, VALID, true, REWARD);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r1, ICoordinator.SkipReason.AlreadyJudged);
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        vm.assertEq(_earnings(alice), REWARD, "paid once");
        vm.assertEq(_bondOf(alice), 3 * BOND_PER_LEASE, "never slashed");
        vm.assertEq(uint8(_leaseState(r3)), uint8(ICoordinator.LeaseState.Submitted), "untouched");
        vm.assertTrue(j3 != j1, "distinct jobs");
    }

    function test_Verdict_ValidOnCancelledBatchIsNotPaid() public {
        uint32 b = _post(1);
        _bond(alice, 1);
        (uint64 r, uint40 j) = _lease(alice);
        _submit(alice, r);
        vm.prank(relayer);
        coord.cancelBatch(b);
        _verdict(r, VALID);
        vm.assertEq(_earnings(alice), 0, "escrow was refunded, nothing to pay");
        vm.assertEq(_active(alice), 0, "released");
        vm.assertEq(uint8(_status(j)), uint8(ICoordinator.JobStatus.Pending), "until cleared");
    }

    function test_Verdict_CompletionReleasesLatestUnsubmittedHolder() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        _submit(alice, ra);
        _lease(bob); // LRP hands the job to bob
        vm.assertEq(_active(bob), 1, "bob holds it");
        _verdict(ra, VALID);
        vm.assertEq(_active(bob), 0, "completion ends bob's lease");
        vm.assertEq(_active(alice), 0, "alice judged");
    }

    function test_RecordVerdicts_RevertsWhen_NotRelayerOrBadLength() public {
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vm.expectRevert(ICoordinator.NotRelayer.selector);
        vm.prank(alice);
        coord.recordVerdicts(vs);
        vm.startPrank(relayer);
        vm.expectRevert(ICoordinator.BadArrayLength.selector);
        coord.recordVerdicts(new ICoordinator.Verdict[](0));
        vm.expectRevert(ICoordinator.BadArrayLength.selector);
        coord.recordVerdicts(new ICoordinator.Verdict[](257));
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ cancel and clear

    function test_CancelBatch_RefundsUnspentEscrow() public {
        uint32 b = _post(4); // 7 jobs
        _bond(alice, 1);
        _prove(alice); // one job paid
        uint256 before = token.balanceOf(relayer);
        vm.expectEmit(address(coord));
        emit ICoordinator.BatchCancelled(b, relayer, 6 * REWARD);
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.assertEq(token.balanceOf(relayer), before + 6 * REWARD, "refunded the unpaid six");
        vm.assertEq(coord.totalEscrow(), 0, "no escrow left");
        vm.assertEq(_fresh(), 0, "fresh jobs withdrawn");
        vm.assertTrue(views(coord).batch(b).cancelled, "flagged");
    }

    /// @notice Finding 4: the owner may cancel, but the escrow goes back to whoever posted the
    ///         batch, also once the relayer role has moved on.
    function test_CancelBatch_RefundGoesToThePoster() public {
        uint32 b = _post(2); // 3 jobs, posted by the relayer
        uint256 before = token.balanceOf(relayer);
        vm.expectEmit(address(coord));
        emit ICoordinator.BatchCancelled(b, relayer, 3 * REWARD);
        vm.prank(owner);
        coord.cancelBatch(b);
        vm.assertEq(token.balanceOf(owner), 0, "the owner takes nothing");
        vm.assertEq(token.balanceOf(relayer), before + 3 * REWARD, "refund to the poster");
        vm.assertEq(views(coord).batch(b).poster, relayer, "poster recorded");

        uint32 c = _post(2);
        ICoordinator.Settings memory s = _settings();
        s.relayer = carol;
        _changeSettings(s);
        vm.prank(carol);
        coord.cancelBatch(c);
        vm.assertEq(token.balanceOf(carol), 0, "the new relayer takes nothing");
        // It paid 3 rewards into escrow for the second batch and got them back.
        vm.assertEq(token.balanceOf(relayer), before + 3 * REWARD, "the old relayer escrowed");
    }

    function test_CancelBatch_RemovesBatchFromMiddleOfFreshQueue() public {
        _post(1); // job 1
        uint32 mid = _post(2); // leaves 2, 3, top 4
        _post(1); // job 5
        vm.prank(relayer);
        coord.cancelBatch(mid);
        _bond(alice, 3);
        (, uint40 a) = _lease(alice);
        (, uint40 b) = _lease(alice);
        vm.assertEq(a, 1, "first batch");
        vm.assertEq(b, 5, "cancelled leaves 2 and 3 are never leased");
        vm.assertEq(_fresh(), 0, "fresh count excludes cancelled jobs");
    }

    function test_CancelBatch_ClearsPendingJobsAtTheHeadOnLease() public {
        uint32 b = _post(2); // leaves 1, 2, top 3
        _bond(alice, 2);
        _bond(bob, 1);
        _lease(alice); // job 1
        _lease(alice); // job 2
        _post(1); // job 4
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.assertEq(_active(alice), 2, "cleared lazily");
        (, uint40 j) = _lease(bob); // fresh job 4 first
        vm.assertEq(j, 4, "fresh job");
        _bond(carol, 1);
        vm.expectEmit(address(coord));
        emit ICoordinator.JobCleared(1);
        vm.expectEmit(address(coord));
        emit ICoordinator.JobCleared(2);
        (, uint40 k) = _lease(carol); // clears 1 and 2 at the head, then takes 4
        vm.assertEq(k, 4, "LRP after clearing");
        vm.assertEq(_active(alice), 0, "alice's cancelled leases stopped counting");
        vm.assertEq(uint8(_status(1)), uint8(ICoordinator.JobStatus.Cleared), "cleared");
        vm.assertEq(uint8(_status(3)), uint8(ICoordinator.JobStatus.Waiting), "top never ready");
        vm.assertEq(_pending(), 1, "only job 4 left");
    }

    function test_ClearCancelled_ReleasesHoldersAndIgnoresOthers() public {
        uint32 b = _post(2); // leaves 1, 2, top 3
        _post(1); // job 4
        _bond(alice, 3);
        _lease(alice); // 1
        _lease(alice); // 2
        _lease(alice); // 4
        vm.prank(relayer);
        coord.cancelBatch(b);
        uint40[] memory ids = new uint40[](5);
        (ids[0], ids[1], ids[2], ids[3], ids[4]) = (2, 4, 77, 2, 3);
        vm.prank(bob); // anyone
        coord.clearCancelled(ids);
        vm.assertEq(_active(alice), 2, "only job 2 was cancelled and cleared");
        vm.assertEq(uint8(_status(2)), uint8(ICoordinator.JobStatus.Cleared), "cleared");
        vm.assertEq(uint8(_status(3)), uint8(ICoordinator.JobStatus.Waiting), "not pending");
        vm.assertEq(uint8(_status(4)), uint8(ICoordinator.JobStatus.Pending), "untouched");
        (uint40 prev, uint40 next) = views(coord).pendingLinks(1);
        vm.assertEq(prev, 0, "job 1 is the head");
        vm.assertEq(next, 4, "job 2 unlinked");
        vm.expectRevert(ICoordinator.BadArrayLength.selector);
        coord.clearCancelled(new uint40[](0));
        vm.expectRevert(ICoordinator.BadArrayLength.selector);
        coord.clearCancelled(new uint40[](257));
    }

    function test_ClearCancelled_SubmittedLeaseCountsUntilJudged() public {
        uint32 b = _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        vm.prank(relayer);
        coord.cancelBatch(b);
        uint40[] memory ids = new uint40[](1);
        ids[0] = 1;
        coord.clearCancelled(ids);
        vm.assertEq(_active(alice), 1, "the submission awaits its verdict");
        _verdict(r, INVALID);
        vm.assertEq(_active(alice), 0, "judged");
        vm.assertEq(_bondOf(alice), BOND_PER_LEASE - SLASH, "an invalid proof is slashed still");
    }

    function test_CancelBatch_RevertsWhen_NotAllowedOrNotCancellable() public {
        uint32 b = _post(1);
        vm.expectRevert(ICoordinator.NotRelayerOrOwner.selector);
        vm.prank(alice);
        coord.cancelBatch(b);
        vm.startPrank(relayer);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownBatch.selector, 0));
        coord.cancelBatch(0);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.UnknownBatch.selector, 5));
        coord.cancelBatch(5);
        coord.cancelBatch(b);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BatchIsCancelled.selector, b));
        coord.cancelBatch(b);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ the tree

    /// @notice The top's Valid verdict finalizes the batch: it comes last, its proof is the
    ///         batch's final proof, every job was paid, and the batch can no longer be cancelled.
    function test_Top_ValidVerdictFinalizesTheBatch() public {
        uint32 b = _post(4); // leaves 1-4, nodes 5 and 6, top 7
        _bond(alice, 1);
        for (uint256 i; i < 6; ++i) {
            _prove(alice);
        }
        vm.assertEq(views(coord).batch(b).finalProofHash, 0, "no final proof before the top");
        vm.assertEq(views(coord).batch(b).jobsLeft, 1, "the top is left");
        (uint64 top, uint40 j) = _lease(alice);
        vm.assertEq(j, 7, "the top comes last");
        _submit(alice, top);
        bytes32 h = _proofHash(top);
        vm.expectEmit(address(coord));
        emit ICoordinator.BatchFinalized(b, h);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictRecorded(top, alice, VALID, true, REWARD);
        _verdict(top, VALID);
        ICoordinator.BatchInfo memory info = views(coord).batch(b);
        vm.assertEq(info.finalProofHash, h, "finalized with the top's proof");
        vm.assertEq(info.jobsLeft, 0, "every job done");
        vm.assertEq(coord.totalEscrow(), 0, "every job paid");
        vm.assertEq(_earnings(alice), 7 * REWARD, "seven rewards");
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BatchIsFinalized.selector, b));
        vm.prank(relayer);
        coord.cancelBatch(b);
    }

    /// @notice An invalid proof of the top finalizes nothing; the first valid one does, and a
    ///         later valid proof of the top changes nothing.
    function test_Top_OnlyTheFirstValidProofIsFinal() public {
        uint32 b = _post(1); // job 1: a leaf and the top
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(carol, 1);
        (uint64 ra,) = _lease(alice);
        _submit(alice, ra);
        _verdict(ra, INVALID);
        vm.assertEq(views(coord).batch(b).finalProofHash, 0, "an invalid proof is not final");
        (uint64 rb,) = _lease(bob); // LRP: the top again
        (uint64 rc,) = _lease(carol); // and once more
        _submit(bob, rb);
        _submit(carol, rc);
        _verdict(rc, VALID);
        _verdict(rb, VALID);
        vm.assertEq(views(coord).batch(b).finalProofHash, _proofHash(rc), "the first valid proof");
        vm.assertEq(_earnings(carol), REWARD, "paid");
        vm.assertEq(_earnings(bob), 0, "second valid proof not paid");
    }

    /// @notice A node with two children waits for both; a single-child node (the odd one out
    ///         of a level) is ready with its only child; each verdict readies at most one node.
    function test_Tree_ReadinessStepByStepOverFiveLeaves() public {
        uint32 b = _post(5); // leaves 1-5; 6 = (1, 2), 7 = (3, 4), 8 = (5); 9 = (6, 7), 10 = (8)
        _bond(alice, 5);
        vm.prank(alice);
        (uint64[] memory rs,) = coord.leaseMany(5);
        for (uint256 i; i < 5; ++i) {
            _submit(alice, rs[i]);
        }
        _verdict(rs[0], VALID);
        vm.assertEq(uint8(_status(6)), uint8(ICoordinator.JobStatus.Waiting), "one child of two");
        vm.assertEq(views(coord).batch(b).freshNodes, 0, "nothing ready");
        _verdict(rs[4], VALID);
        vm.assertEq(uint8(_status(8)), uint8(ICoordinator.JobStatus.Fresh), "its only child");
        vm.assertEq(uint8(_status(10)), uint8(ICoordinator.JobStatus.Waiting), "8 not proven");
        vm.assertEq(views(coord).batch(b).freshNodes, 1, "one ready");
        vm.assertEq(_fresh(), 1, "counted fresh");
        _verdict(rs[1], VALID);
        vm.assertEq(uint8(_status(6)), uint8(ICoordinator.JobStatus.Fresh), "both children");
        _verdict(rs[2], VALID);
        vm.assertEq(uint8(_status(7)), uint8(ICoordinator.JobStatus.Waiting), "3 of (3, 4)");
        _verdict(rs[3], VALID);
        vm.assertEq(views(coord).batch(b).freshNodes, 3, "6, 7 and 8 ready");
        vm.assertEq(_fresh(), 3, "all three fresh");
        // Ready nodes go in the order they became ready: 8, then 6, then 7.
        (uint64 r8, uint40 j8) = _prove(alice);
        vm.assertEq(j8, 8, "8 first");
        vm.assertEq(uint8(_status(10)), uint8(ICoordinator.JobStatus.Fresh), "10 = (8) ready");
        (, uint40 j6) = _prove(alice);
        (, uint40 j7) = _prove(alice);
        vm.assertTrue(j6 == 6 && j7 == 7, "then 6 and 7");
        vm.assertEq(uint8(_status(9)), uint8(ICoordinator.JobStatus.Fresh), "9 = (6, 7) ready");
        vm.assertEq(uint8(_status(11)), uint8(ICoordinator.JobStatus.Waiting), "top waits");
        _prove(alice); // 10
        (uint64 r9,) = _prove(alice); // 9
        vm.assertEq(uint8(_status(11)), uint8(ICoordinator.JobStatus.Fresh), "top ready");
        vm.assertEq(views(coord).batch(b).finalProofHash, 0, "not final yet");
        (uint64 top, uint40 j11) = _prove(alice);
        vm.assertEq(j11, 11, "the top");
        vm.assertEq(views(coord).batch(b).finalProofHash, _proofHash(top), "final");
        vm.assertTrue(r8 != r9, "distinct leases");
    }

    /// @notice Readiness against the model for the tree shapes that matter: one leaf (its own
    ///         top), odd levels (5, 13) and a full tree (8), in several verdict orders.
    function test_Tree_ReadinessFollowsTheModel() public {
        uint24[4] memory shapes = [uint24(1), 5, 8, 13];
        _bond(alice, 14);
        for (uint256 s; s < shapes.length; ++s) {
            for (uint256 seed; seed < 3; ++seed) {
                Drive memory d = _drive(alice, shapes[s], seed, type(uint256).max);
                vm.assertEq(views(coord).batch(d.batchId).jobsLeft, 0, "driven to the top");
                for (uint256 i = shapes[s]; i < d.tree.size; ++i) {
                    vm.assertEq(d.readied[i], 1, "every node became fresh exactly once");
                }
            }
        }
        vm.assertEq(coord.totalEscrow(), 0, "every job of every tree paid");
    }

    /// @notice Cancelling mid-tree refunds exactly the jobs not completed; its ready nodes stop
    ///         counting as fresh and are never leased, its waiting nodes never become ready.
    function test_CancelBatch_MidTree() public {
        _bond(alice, 13);
        Drive memory d = _drive(alice, 13, 7, 12); // 12 verdicts into a 27-job tree
        uint256 complete = 12;
        ICoordinator.BatchInfo memory info = views(coord).batch(d.batchId);
        vm.assertEq(info.jobsLeft, d.tree.size - complete, "left");
        uint256 freshLeaves = info.leafCount - info.leasedFresh;
        vm.assertEq(_fresh(), freshLeaves + info.freshNodes, "fresh before the cancel");
        vm.assertGt(info.freshNodes, 0, "the seed leaves ready nodes unleased");
        for (uint256 i; i < d.opened; ++i) {
            if (d.open[i] != 0) _submit(alice, d.open[i]); // judged after the cancel
        }
        uint256 before = token.balanceOf(relayer);
        vm.expectEmit(address(coord));
        emit ICoordinator.BatchCancelled(d.batchId, relayer, (d.tree.size - complete) * REWARD);
        vm.prank(relayer);
        coord.cancelBatch(d.batchId);
        vm.assertEq(token.balanceOf(relayer) - before, (d.tree.size - complete) * REWARD, "refund");
        vm.assertEq(coord.totalEscrow(), 0, "nothing owed");
        vm.assertEq(_fresh(), 0, "its fresh leaves and nodes stop counting");
        uint8[] memory atCancel = _snapshot(d);

        // Proofs submitted before the cancel are judged valid after it: nothing completes,
        // nothing becomes ready, nobody is paid out of refunded escrow.
        uint256 earned = _earnings(alice);
        uint256 judged;
        for (uint256 i; i < d.opened; ++i) {
            if (d.open[i] == 0) continue;
            _verdict(d.open[i], VALID);
            ++judged;
        }
        vm.assertGt(judged, 0, "the seed leaves leases open");
        vm.assertEq(_earnings(alice), earned, "no reward out of refunded escrow");
        uint8[] memory after_ = _snapshot(d);
        for (uint256 i; i < d.tree.size; ++i) {
            vm.assertEq(after_[i], atCancel[i], "no job of a cancelled tree changes");
        }

        // A later tree is leased around it; its ready nodes are dropped, never leased.
        uint32 later = _post(2);
        _bond(bob, 3);
        for (uint256 i; i < 3; ++i) {
            (, uint40 j) = _prove(bob);
            (, uint32 holderBatch,,,) = views(coord).job(j);
            vm.assertEq(holderBatch, later, "only the live tree's jobs are leased");
            vm.assertEq(_fresh(), _countFresh(), "fresh count = fresh jobs of live batches");
        }
        vm.assertEq(views(coord).batch(later).jobsLeft, 0, "the later tree is done");
        // Leases clear what they meet of the cancelled tree and keep it, leasing nothing;
        // then nothing is left.
        for (uint256 k;; ++k) {
            vm.assertLt(k, 8, "a bounded number of leases clears it all");
            vm.prank(bob);
            try coord.lease() returns (uint64 r, uint40) {
                vm.assertEq(r, 0, "nothing of a cancelled tree is leased");
            } catch (bytes memory err) {
                vm.assertEq(bytes4(err), ICoordinator.NoJobAvailable.selector, "none left");
                break;
            }
        }
        for (uint256 i; i < d.tree.size; ++i) {
            ICoordinator.JobStatus s = _status(d.first + uint40(i));
            vm.assertTrue(s != ICoordinator.JobStatus.Fresh, "ready nodes dropped from the list");
        }
    }

    /// @notice More cancelled ready nodes at the head of the fresh-node list than one lease
    ///         drops must not hide a live ready node behind them for good: clearCancelled
    ///         drops them (before the fix, nothing could, and the small tree never finished).
    function test_Lease_ReachesALiveNodeBehindManyCancelledOnes() public {
        uint32 big = _post(32); // 16 nodes on level 1
        uint32 small = _post(2); // leaves 64, 65, top 66
        _bond(alice, 34);
        vm.prank(alice);
        (uint64[] memory a,) = coord.leaseMany(16);
        vm.prank(alice);
        (uint64[] memory b,) = coord.leaseMany(16);
        vm.prank(alice);
        (uint64[] memory c,) = coord.leaseMany(2); // the small tree's leaves
        for (uint256 i; i < 16; ++i) {
            _submit(alice, a[i]);
            _verdict(a[i], VALID);
            _submit(alice, b[i]);
            _verdict(b[i], VALID);
        }
        for (uint256 i; i < 2; ++i) {
            _submit(alice, c[i]);
            _verdict(c[i], VALID);
        }
        vm.assertEq(views(coord).batch(big).freshNodes, 16, "16 ready nodes of the big tree");
        vm.assertEq(views(coord).batch(small).freshNodes, 1, "the small tree's top, behind them");
        vm.prank(relayer);
        coord.cancelBatch(big);
        vm.assertEq(_fresh(), 1, "only the small tree's top is fresh");
        _bond(bob, 1);
        // A lease drops 8 cancelled nodes and finds nothing else: it leases nothing and keeps
        // the drops (it used to revert, undoing them).
        (uint64 none, uint40 got) = _lease(bob);
        vm.assertEq(none, 0, "nothing leased");
        uint256 dropped;
        for (uint40 j = 33; j <= 48; ++j) {
            if (_status(j) == ICoordinator.JobStatus.Cleared) ++dropped;
        }
        vm.assertEq(dropped, 8, "one lease's worth dropped, and kept");
        (, got) = _lease(bob); // drops the other 8 and reaches the live top
        vm.assertEq(got, _top(small), "the live top is reached");
    }

    /// @notice Another way out: clearCancelled drops cancelled nodes at the list's head too.
    function test_ClearCancelled_DropsCancelledNodesAtTheHead() public {
        uint32 big = _post(4); // nodes 5, 6, top 7
        uint32 small = _post(1); // job 8
        _bond(alice, 5);
        vm.prank(alice);
        (uint64[] memory a,) = coord.leaseMany(5);
        for (uint256 i; i < 4; ++i) {
            _submit(alice, a[i]);
            _verdict(a[i], VALID);
        }
        vm.prank(relayer);
        coord.cancelBatch(big);
        vm.prank(carol); // anyone
        coord.clearCancelled(new uint40[](1));
        vm.assertEq(uint8(_status(5)), uint8(ICoordinator.JobStatus.Cleared), "node 5 dropped");
        vm.assertEq(uint8(_status(6)), uint8(ICoordinator.JobStatus.Cleared), "node 6 dropped");
        vm.assertEq(views(coord).batch(small).jobsLeft, 1, "the small tree untouched");
    }

    /// @notice Finding 1: more than MAX_CLEAR_PER_LEASE cancelled jobs at the head of the
    ///         pending list stopped all reassignment: the lease cleared 8, found nothing and
    ///         reverted, undoing the clearing, and their holders stayed charged. Now each lease
    ///         keeps what it cleared, so the next one gets through.
    function test_Lease_GetsPastMoreCancelledJobsAtThePendingHeadThanOneLeaseClears() public {
        uint32 a = _post(12); // leaves 1-12
        _bond(alice, 12);
        vm.prank(alice);
        coord.leaseMany(12);
        _post(1); // job 25 (the tree over 12 leaves has 24 jobs)
        _bond(bob, 1);
        _lease(bob); // job 25: pending behind alice's 12
        vm.prank(relayer);
        coord.cancelBatch(a);
        vm.assertEq(_fresh(), 0, "nothing fresh: only reassignment is left");
        _bond(carol, 1);
        (uint64 none,) = _lease(carol); // clears jobs 1-8, leases nothing
        vm.assertEq(none, 0, "nothing leased yet");
        vm.assertEq(_active(alice), 4, "the 8 cleared stopped counting, and stayed cleared");
        (, uint40 got) = _lease(carol); // clears 9-12, then LRP hands bob's job on
        vm.assertEq(got, 25, "the job behind them is reassigned");
        vm.assertEq(_active(alice), 0, "alice is charged for no cancelled lease");
        vm.assertEq(_pending(), 1, "only job 25 is pending");
    }

    // ------------------------------------------------------------------ bonds and earnings

    function test_Stake_AddsToBond() public {
        token.mint(alice, 5 ether);
        vm.startPrank(alice);
        token.approve(address(coord), 5 ether);
        vm.expectEmit(address(coord));
        emit ICoordinator.Staked(alice, 5 ether);
        coord.stake(5 ether);
        vm.stopPrank();
        vm.assertEq(_bondOf(alice), 5 ether, "bond");
        vm.assertEq(token.balanceOf(address(coord)), 5 ether, "held");
    }

    function test_Stake_RevertsWhen_ZeroOrTooLarge() public {
        vm.startPrank(alice);
        vm.expectRevert(ICoordinator.BadAmount.selector);
        coord.stake(0);
        vm.expectRevert(ICoordinator.BadAmount.selector);
        coord.stake(uint256(type(uint88).max) + 1);
        vm.expectRevert(); // no allowance
        coord.stake(1);
        vm.stopPrank();
    }

    function test_Unstake_LocksBondBackingActiveLeases() public {
        _post(2);
        _stake(alice, 25 ether);
        _lease(alice);
        _lease(alice);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.BondLocked.selector, 6 ether, 5 ether));
        vm.prank(alice);
        coord.requestUnstake(6 ether);
        vm.expectRevert(ICoordinator.BadAmount.selector);
        vm.prank(alice);
        coord.requestUnstake(0);
        vm.prank(alice);
        coord.requestUnstake(5 ether);
        (uint256 bond, uint256 unbonding, uint256 readyAt,,,,) = views(coord).prover(alice);
        vm.assertEq(bond, 20 ether, "bond");
        vm.assertEq(unbonding, 5 ether, "unbonding");
        vm.assertEq(readyAt, block.timestamp + UNBONDING_DELAY, "ready");
    }

    function test_Unstake_WithdrawAfterDelay() public {
        _stake(alice, 20 ether);
        vm.prank(alice);
        coord.requestUnstake(15 ether);
        uint256 readyAt = block.timestamp + UNBONDING_DELAY;
        vm.warp(readyAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.StillUnbonding.selector, readyAt));
        vm.prank(alice);
        coord.withdrawUnstaked();
        vm.warp(readyAt);
        vm.expectEmit(address(coord));
        emit ICoordinator.Unstaked(alice, 15 ether);
        vm.prank(alice);
        coord.withdrawUnstaked();
        vm.assertEq(token.balanceOf(alice), 15 ether, "paid out");
        vm.expectRevert(ICoordinator.NothingToWithdraw.selector);
        vm.prank(alice);
        coord.withdrawUnstaked();
    }

    function test_Unstake_NewRequestRestartsTheDelay() public {
        _stake(alice, 20 ether);
        vm.prank(alice);
        coord.requestUnstake(5 ether);
        vm.warp(block.timestamp + UNBONDING_DELAY - 10);
        vm.prank(alice);
        coord.requestUnstake(5 ether);
        vm.warp(block.timestamp + 10);
        vm.expectRevert();
        vm.prank(alice);
        coord.withdrawUnstaked();
    }

    function test_WithdrawEarnings_PaysOutOnce() public {
        _post(2);
        _bond(alice, 1);
        _prove(alice);
        _prove(alice);
        vm.expectEmit(address(coord));
        emit ICoordinator.EarningsWithdrawn(alice, 2 * REWARD);
        vm.prank(alice);
        coord.withdrawEarnings();
        vm.assertEq(token.balanceOf(alice), 2 * REWARD, "paid");
        vm.expectRevert(ICoordinator.NothingToWithdraw.selector);
        vm.prank(alice);
        coord.withdrawEarnings();
    }

    function test_Withdrawals_WorkWhileLeasingIsPaused() public {
        _post(1);
        _bond(alice, 2);
        (uint64 r,) = _lease(alice);
        vm.prank(owner);
        coord.setLeasingPaused(true);
        _submit(alice, r);
        _verdict(r, VALID);
        vm.prank(alice);
        coord.withdrawEarnings();
        vm.prank(alice);
        coord.requestUnstake(20 ether);
        vm.warp(block.timestamp + UNBONDING_DELAY);
        vm.prank(alice);
        coord.withdrawUnstaked();
        vm.assertEq(token.balanceOf(alice), 20 ether + REWARD, "all out while paused");
    }

    function test_SweepSlashed_PaysTheTreasury() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        _verdict(r, INVALID);
        vm.expectEmit(address(coord));
        emit ICoordinator.SlashesSwept(treasury, SLASH);
        vm.prank(carol);
        coord.sweepSlashed();
        vm.assertEq(token.balanceOf(treasury), SLASH, "treasury paid");
        vm.assertEq(coord.slashedOwed(), 0, "nothing owed");
        vm.expectRevert(ICoordinator.NothingToWithdraw.selector);
        coord.sweepSlashed();
    }

    // ------------------------------------------------------------------ owner

    function test_Settings_ApplyOnlyAfterTheDelayAndAsAnnounced() public {
        ICoordinator.Settings memory sp = _settings();
        sp.stake = ICoordinator.StakeParams(20 ether, 40 ether, 20 ether);
        (sp.minReassignAge, sp.uploadDeadline, sp.unbondingDelay) = (30, 120, 2 days);
        sp.verdictDeadline = 3 hours;
        (sp.relayer, sp.treasury) = (carol, bob);
        vm.expectEmit(address(coord));
        emit ICoordinator.SettingsProposed(sp, block.timestamp + PARAM_DELAY);
        vm.prank(owner);
        coord.proposeSettings(sp);
        (bytes32 h, uint256 at) = views(coord).proposedSettings();
        vm.assertEq(h, keccak256(abi.encode(sp)), "announced hash");
        vm.assertEq(at, block.timestamp + PARAM_DELAY, "effective at");
        vm.warp(block.timestamp + PARAM_DELAY - 1);
        vm.expectRevert(ICoordinator.NoSettingsDue.selector);
        coord.applySettings(sp);
        vm.warp(block.timestamp + 1);
        ICoordinator.Settings memory other = _settings();
        vm.expectRevert(ICoordinator.NoSettingsDue.selector);
        coord.applySettings(other); // not what was announced
        vm.expectEmit(address(coord));
        emit ICoordinator.SettingsApplied(sp);
        vm.prank(alice); // anyone
        coord.applySettings(sp);
        (ICoordinator.StakeParams memory now_, uint24 age, uint24 upload, uint32 unbonding,) =
            views(coord).params();
        vm.assertEq(now_.bondPerLease, 20 ether, "bond per lease");
        vm.assertEq(now_.minBond, 40 ether, "min bond");
        vm.assertEq(now_.slashAmount, 20 ether, "slash");
        vm.assertEq(age, 30, "age");
        vm.assertEq(upload, 120, "upload deadline");
        vm.assertEq(unbonding, 2 days, "unbonding");
        (uint256 u, uint256 v) = views(coord).deadlinesAt(block.timestamp);
        vm.assertEq(u, 120, "upload deadline of new submissions");
        vm.assertEq(v, 3 hours, "verdict deadline of new submissions");
        vm.assertEq(coord.relayer(), carol, "relayer");
        vm.assertEq(coord.treasury(), bob, "treasury");
        vm.expectRevert(ICoordinator.NoSettingsDue.selector);
        coord.applySettings(sp); // once
    }

    /// @notice Finding 4: the owner can no longer make itself relayer and treasury, then slash
    ///         and sweep to itself in one block; the relayer and treasury it announces act only
    ///         after the delay, which a prover can use to leave.
    function test_Settings_RelayerAndTreasuryMoveOnlyAfterTheDelay() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        ICoordinator.Settings memory s = _settings();
        (s.relayer, s.treasury) = (owner, owner);
        vm.prank(owner);
        coord.proposeSettings(s);
        (,,,, bytes32 h) = views(coord).leaseInfo(r);
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vs[0] = ICoordinator.Verdict(r, alice, uint8(INVALID), h);
        vm.expectRevert(ICoordinator.NotRelayer.selector);
        vm.prank(owner);
        coord.recordVerdicts(vs);
        vm.expectRevert(ICoordinator.NoSettingsDue.selector);
        coord.applySettings(s);
        vm.assertEq(coord.relayer(), relayer, "still the relayer");
        vm.assertEq(coord.treasury(), treasury, "still the treasury");
    }

    function test_Settings_RevertWhen_OutOfBoundsOrNotOwner() public {
        ICoordinator.Settings[12] memory bad;
        for (uint256 i; i < bad.length; ++i) {
            bad[i] = _settings();
        }
        bad[0].stake = ICoordinator.StakeParams(0, 1, 0);
        bad[1].stake = ICoordinator.StakeParams(2, 1, 0);
        bad[2].stake = ICoordinator.StakeParams(2, 2, 3);
        bad[3].minReassignAge = 1 days + 1;
        bad[4].uploadDeadline = 9;
        bad[5].uploadDeadline = 1 days + 1;
        bad[6].unbondingDelay = uint32(PARAM_DELAY + 1);
        bad[7].verdictDeadline = 1 hours - 1;
        bad[8].verdictDeadline = 30 days + 1;
        bad[9].relayer = address(0);
        bad[10].treasury = address(0);
        vm.startPrank(owner);
        for (uint256 i; i < 9; ++i) {
            vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
            coord.proposeSettings(bad[i]);
        }
        vm.expectRevert(ICoordinator.ZeroAddress.selector);
        coord.proposeSettings(bad[9]);
        vm.expectRevert(ICoordinator.ZeroAddress.selector);
        coord.proposeSettings(bad[10]);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        coord.proposeSettings(bad[11]);
        vm.expectRevert(
            abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, relayer)
        );
        vm.prank(relayer);
        coord.proposeSettings(bad[11]);
    }

    /// @notice Finding 4: a shorter upload deadline, or a longer verdict deadline, never applies
    ///         to submissions made before it; later ones are held to it.
    function test_Settings_DeadlinesApplyOnlyToLaterSubmissions() public {
        ICoordinator.Settings memory s = _settings();
        (s.uploadDeadline, s.verdictDeadline) = (1 days, 1 hours);
        _changeSettings(s);
        _post(2);
        _bond(alice, 2);
        (s.uploadDeadline, s.verdictDeadline) = (10, 10 days);
        vm.prank(owner);
        coord.proposeSettings(s);
        vm.warp(block.timestamp + PARAM_DELAY - 5);
        (uint64 early,) = _lease(alice);
        _submit(alice, early); // 5 s before the change applies
        uint256 earlyAt = block.timestamp;
        vm.warp(block.timestamp + 5);
        coord.applySettings(s);
        vm.warp(block.timestamp + 1);
        (uint64 late,) = _lease(alice);
        _submit(alice, late);
        vm.warp(block.timestamp + 10);
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(early, ICoordinator.SkipReason.UploadDeadlineNotPassed);
        _verdict(early, MISSING);
        _verdict(late, MISSING);
        vm.assertEq(uint8(_leaseState(late)), uint8(ICoordinator.LeaseState.Missing), "late");
        vm.assertEq(uint8(_leaseState(early)), uint8(ICoordinator.LeaseState.Submitted), "early");
        // The early one expires on the old deadlines: 1 day + 1 hour after it was submitted.
        uint256 due = earlyAt + 1 days + 1 hours;
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, due));
        coord.expireSubmission(early);
        vm.warp(due);
        coord.expireSubmission(early);
        vm.assertEq(uint8(_leaseState(early)), uint8(ICoordinator.LeaseState.Expired), "expired");
    }

    /// @notice Finding 4: a relayer that never judges cannot trap a bond. Past the upload and
    ///         verdict deadlines anyone may expire the submission: the bond is free again, with
    ///         neither pay nor slash, a late verdict is skipped, and the job goes on.
    function test_ExpireSubmission_FreesTheBondOfAnUnjudgedSubmission() public {
        _post(1);
        _bond(alice, 1);
        (uint64 r, uint40 j) = _lease(alice);
        _submit(alice, r);
        uint256 due = block.timestamp + UPLOAD_DEADLINE + coord.DEFAULT_VERDICT_DEADLINE();
        vm.warp(due - 1);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, due));
        coord.expireSubmission(r);
        vm.warp(due);
        vm.expectEmit(address(coord));
        emit ICoordinator.SubmissionExpired(r, alice);
        vm.prank(carol); // anyone
        coord.expireSubmission(r);
        vm.assertEq(_active(alice), 0, "the lease stopped counting");
        (uint256 bond,,,, uint256 earnings,, uint256 slashes) = views(coord).prover(alice);
        vm.assertEq(bond, MIN_BOND, "nothing slashed");
        vm.assertEq(earnings + slashes, 0, "neither pay nor slash");
        vm.prank(alice);
        coord.requestUnstake(MIN_BOND); // the whole bond is free
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, 0));
        coord.expireSubmission(r); // once
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, 0));
        coord.expireSubmission(_rid(j, 2)); // no such lease
        vm.expectEmit(address(coord));
        emit ICoordinator.VerdictSkipped(r, ICoordinator.SkipReason.AlreadyJudged);
        _verdict(r, VALID);
        vm.assertEq(uint8(_status(j)), uint8(ICoordinator.JobStatus.Pending), "job still pending");
        _bond(bob, 1);
        (uint64 again,) = _lease(bob);
        vm.assertEq(again, _rid(j, 2), "LRP hands the job on");
        _submit(bob, again);
        _verdict(again, VALID);
        vm.assertEq(uint8(_status(j)), uint8(ICoordinator.JobStatus.Complete), "and it completes");
    }

    /// @notice A lease LRP handed on expires the same way, and only a submitted one.
    function test_ExpireSubmission_HandedOnLeaseAndOnlySubmitted() public {
        _post(1);
        _bond(alice, 2);
        _bond(bob, 1);
        (uint64 r,) = _lease(alice);
        (uint64 s,) = _lease(bob); // alice's lease handed on
        _submit(alice, r);
        vm.warp(block.timestamp + UPLOAD_DEADLINE + coord.DEFAULT_VERDICT_DEADLINE());
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, 0));
        coord.expireSubmission(s); // bob's, never submitted
        vm.assertEq(_active(alice), 1, "submitted: counts");
        coord.expireSubmission(r);
        vm.assertEq(_active(alice), 0, "expired: counts no more");
        vm.assertEq(uint8(_leaseState(r)), uint8(ICoordinator.LeaseState.Expired), "expired");
    }

    function test_SetLeasingPaused_OwnerOnly() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        coord.setLeasingPaused(true);
        vm.expectEmit(address(coord));
        emit ICoordinator.LeasingPaused(true);
        vm.prank(owner);
        coord.setLeasingPaused(true);
        (,,,, bool paused) = views(coord).params();
        vm.assertTrue(paused, "paused");
    }

    function test_Ownership_TransfersInTwoSteps() public {
        vm.prank(owner);
        coord.transferOwnership(carol);
        vm.assertEq(coord.owner(), owner, "not yet");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        coord.acceptOwnership();
        vm.prank(carol);
        coord.acceptOwnership();
        vm.assertEq(coord.owner(), carol, "moved");
    }

    // ------------------------------------------------------------------ edges

    function test_Unstake_RevertsWhen_UnbondingWouldOverflow() public {
        // A bond holds at most 2^88 - 1 and unbonding funds 2^96 - 1: 256 whole bonds fit.
        uint256 max = type(uint88).max;
        for (uint256 i; i < 256; ++i) {
            _stake(alice, max);
            vm.prank(alice);
            coord.requestUnstake(max);
        }
        _stake(alice, max);
        vm.expectRevert(ICoordinator.BadAmount.selector);
        vm.prank(alice);
        coord.requestUnstake(max);
    }

    function test_LeaseInfo_UnknownRequestIsEmpty() public {
        _post(1);
        _bond(alice, 1);
        _lease(alice);
        (address holder, uint40 jobId, ICoordinator.LeaseState s,,) =
            views(coord).leaseInfo(_rid(1, 2));
        vm.assertEq(holder, address(0), "no holder for an attempt not made");
        vm.assertEq(jobId, 0, "no job");
        vm.assertEq(uint8(s), uint8(ICoordinator.LeaseState.None), "none");
        (,, s,,) = views(coord).leaseInfo(_rid(1, 0));
        vm.assertEq(uint8(s), uint8(ICoordinator.LeaseState.None), "attempt 0 does not exist");
    }

    function test_Views_ProverIdAndProposal() public {
        vm.assertEq(proverIdOf(address(coord), alice), 0, "no id before staking");
        _bond(alice, 1);
        _bond(bob, 1);
        _bond(alice, 1);
        vm.assertEq(proverIdOf(address(coord), alice), 1, "first staker");
        vm.assertEq(proverIdOf(address(coord), bob), 2, "second staker");
        (bytes32 h, uint256 at) = views(coord).proposedSettings();
        vm.assertEq(h, 0, "nothing proposed");
        vm.assertEq(at, 0, "no time");
    }

    function test_Job_FindsTheBatchOfAFreshOrWaitingJob() public {
        _post(2); // leaves 1-2, top 3
        _post(3); // leaves 4-6, nodes 7-8, top 9
        _post(1); // job 10
        uint32[11] memory expected = [uint32(0), 1, 1, 1, 2, 2, 2, 2, 2, 2, 3];
        bool[11] memory leaf =
            [false, true, true, false, true, true, true, false, false, false, true];
        for (uint40 j = 1; j <= 10; ++j) {
            (ICoordinator.JobStatus s, uint32 b,,,) = views(coord).job(j);
            ICoordinator.JobStatus want =
                leaf[j] ? ICoordinator.JobStatus.Fresh : ICoordinator.JobStatus.Waiting;
            vm.assertEq(uint8(s), uint8(want), "leaves fresh, nodes waiting");
            vm.assertEq(b, expected[j], "batch of a job without storage");
        }
    }

    function test_Lease_DoesNotTakeACancelledJobAfterTheHead() public {
        _post(1); // job 1
        uint32 b = _post(1); // job 2
        _bond(alice, 2);
        _bond(bob, 2);
        _bond(carol, 1);
        (uint64 r1,) = _lease(alice); // job 1
        _submit(alice, r1);
        _verdict(r1, INVALID); // judged: alice holds no lease, job 1 pending
        _lease(bob); // job 2
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.expectRevert(ICoordinator.NoJobAvailable.selector);
        _lease(alice); // head is hers, the one after it is cancelled: nothing
        (, uint40 j) = _lease(carol);
        vm.assertEq(j, 1, "an idle prover may still take the head");
    }

    function test_SubmitProof_EarlierLeaseChecksHolderAndOnce() public {
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        (uint64 ra,) = _lease(alice);
        _lease(bob); // alice's lease is now an earlier one, kept apart from the job
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotLeaseHolder.selector, ra));
        _submit(bob, ra);
        _submit(alice, ra);
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.AlreadySubmitted.selector, ra));
        _submit(alice, ra);
    }

    // ------------------------------------------------------------------ the paper's rules

    /// @notice Fresh jobs first, then the head of the pending list; an invalid proof leaves its
    ///         job pending; a hoarder holding leases does not stop honest provers finishing.
    function test_Scenario_PaperRules() public {
        uint24 n = 12;
        uint32 b = _post(n);
        address hoarder = makeAddr("hoarder");
        address cheat = makeAddr("cheat");
        _bond(hoarder, 4);
        _bond(cheat, 1);
        _bond(alice, 2);
        _bond(bob, 2);

        // The hoarder takes as many fresh jobs as its bond backs and never submits.
        vm.prank(hoarder);
        (, uint40[] memory hoarded) = coord.leaseMany(16);
        vm.assertEq(hoarded.length, 4, "hoarder capped by its bond");
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, 4, 4));
        vm.prank(hoarder);
        coord.leaseMany(1);

        // The cheat submits an invalid proof: slashed, job stays pending.
        (uint64 rc, uint40 jc) = _lease(cheat);
        _submit(cheat, rc);
        _verdict(rc, INVALID);
        vm.assertEq(uint8(_status(jc)), uint8(ICoordinator.JobStatus.Pending), "invalid: pending");

        // Honest provers finish the whole tree: fresh jobs first (leaves, then nodes as they
        // become ready), then LRP takes the hoarded ones.
        uint256 fresh = _fresh();
        uint256 steps;
        while (views(coord).batch(b).jobsLeft > 0) {
            address who = steps % 2 == 0 ? alice : bob;
            (uint256 freshBefore,, uint40 head,) = views(coord).queue();
            (uint64 r, uint40 j) = _lease(who);
            if (freshBefore > 0) {
                vm.assertEq(uint24(r), 1, "a fresh job while any is left");
                vm.assertEq(_fresh(), freshBefore - 1, "one fresh job fewer");
            } else {
                vm.assertEq(j, head, "then the head of the pending list");
            }
            _submit(who, r);
            _verdict(r, VALID);
            ++steps;
            vm.assertLt(steps, 100, "terminates");
        }
        uint256 jobs = _treeSize(n);
        vm.assertEq(jobs, 24, "12 + 6 + 3 + 2 + 1 jobs");
        vm.assertEq(steps, jobs, "each job proven exactly once by the honest pair");
        vm.assertEq(fresh, n - 5, "hoarder and cheat took five fresh jobs");
        vm.assertEq(_earnings(alice) + _earnings(bob), jobs * REWARD, "every job paid once");
        vm.assertTrue(views(coord).batch(b).finalProofHash != 0, "the tree's top is proven");
        vm.assertEq(_earnings(hoarder), 0, "hoarder earns nothing");
        vm.assertEq(_active(hoarder), 0, "every hoarded lease reassigned and released");
        for (uint256 i; i < hoarded.length; ++i) {
            vm.assertEq(uint8(_status(hoarded[i])), uint8(ICoordinator.JobStatus.Complete), "done");
        }
    }
}
