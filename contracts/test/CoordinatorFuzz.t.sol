// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TreeChecks} from "./utils/TreeChecks.sol";
import {TreeModel} from "./utils/TreeModel.sol";
import {CoordinatorHarness} from "./utils/CoordinatorHarness.sol";
import {ICoordinator} from "../ICoordinator.sol";
import {views} from "./utils/Views.sol";

/// @notice Fuzz tests of every money path (stake, unstake, escrow, payout, refund, slash,
///         sweep), of the rules whose outcome depends on amounts, counts, times and order, and
///         of the proving tree: its shape against TreeModel, readiness and cancellation.
contract CoordinatorFuzzTest is TreeChecks {
    ICoordinator.VerdictResult internal constant VALID = ICoordinator.VerdictResult.Valid;
    ICoordinator.VerdictResult internal constant INVALID = ICoordinator.VerdictResult.Invalid;
    ICoordinator.VerdictResult internal constant MISSING = ICoordinator.VerdictResult.Missing;

    /// @dev The contract's tree arithmetic, deployed once (fuzz runs start from setUp's state).
    CoordinatorHarness internal harness;

    function setUp() public override {
        super.setUp();
        harness = new CoordinatorHarness(token, owner, relayer, treasury);
    }

    function _books() internal view {
        address[3] memory ps = [alice, bob, carol];
        uint256 held;
        for (uint256 i; i < 3; ++i) {
            (uint256 bond, uint256 unbonding,,, uint256 earnings,,) = views(coord).prover(ps[i]);
            held += bond + unbonding + earnings;
        }
        vm.assertEq(
            token.balanceOf(address(coord)),
            held + coord.totalEscrow() + coord.slashedOwed(),
            "books balanced"
        );
    }

    function testFuzz_StakeUnstakeWithdraw(uint96 amount, uint96 part, uint32 wait) public {
        amount = uint96(bound(amount, 1, type(uint88).max));
        part = uint96(bound(part, 1, amount));
        _stake(alice, amount);
        vm.prank(alice);
        coord.requestUnstake(part);
        _books();
        uint256 readyAt = block.timestamp + UNBONDING_DELAY;
        vm.warp(block.timestamp + wait);
        vm.prank(alice);
        if (block.timestamp < readyAt) {
            vm.expectRevert(abi.encodeWithSelector(ICoordinator.StillUnbonding.selector, readyAt));
            coord.withdrawUnstaked();
            return;
        }
        coord.withdrawUnstaked();
        vm.assertEq(token.balanceOf(alice), part, "got back what was unbonded");
        vm.assertEq(_bondOf(alice), amount - part, "rest stays bonded");
        _books();
    }

    function testFuzz_StakeRevertsWhenBondWouldOverflow(uint96 first, uint256 second) public {
        first = uint96(bound(first, 1, type(uint88).max));
        second = bound(second, uint256(type(uint88).max) - first + 1, type(uint128).max);
        _stake(alice, first);
        token.mint(alice, second);
        vm.startPrank(alice);
        token.approve(address(coord), second);
        vm.expectRevert(ICoordinator.BadAmount.selector);
        coord.stake(second);
        vm.stopPrank();
    }

    function testFuzz_UnstakeCannotTouchLockedBond(uint8 leases, uint96 extra, uint96 ask) public {
        leases = uint8(bound(leases, 1, 10));
        extra = uint96(bound(extra, 0, 1000 ether));
        _post(leases);
        _stake(alice, uint256(leases) * BOND_PER_LEASE + extra);
        vm.prank(alice);
        coord.leaseMany(leases);
        ask = uint96(bound(ask, 1, type(uint96).max));
        vm.prank(alice);
        if (ask > extra) {
            vm.expectRevert(abi.encodeWithSelector(ICoordinator.BondLocked.selector, ask, extra));
            coord.requestUnstake(ask);
        } else {
            coord.requestUnstake(ask);
            vm.assertGe(_bondOf(alice), uint256(leases) * BOND_PER_LEASE, "leases stay backed");
        }
    }

    /// @notice Releasing any of a prover's leases, at any age, frees exactly one lease's bond
    ///         (unstakeable at once, no more), moves no funds, does not lapse it, and the job
    ///         goes to the next prover at once; its bond cannot be released twice.
    function testFuzz_ReleaseLeaseFreesOneLeaseOfBond(uint8 leases, uint8 pick, uint32 age) public {
        uint256 n = bound(leases, 1, 8);
        _post(uint24(n));
        _bond(alice, n);
        _bond(bob, 1);
        vm.prank(alice);
        (uint64[] memory rids, uint40[] memory jobs) = coord.leaseMany(n);
        uint256 k = bound(pick, 0, n - 1);
        vm.warp(block.timestamp + bound(age, 0, 10 days));
        uint256 balance = token.balanceOf(address(coord));
        vm.prank(alice);
        coord.releaseLease(rids[k]);
        vm.assertEq(_active(alice), n - 1, "one lease less");
        vm.assertEq(token.balanceOf(address(coord)), balance, "no funds moved");
        _books();
        vm.assertFalse(views(coord).lapsed(alice), "not lapsed");
        vm.expectRevert(
            abi.encodeWithSelector(
                ICoordinator.BondLocked.selector, BOND_PER_LEASE + 1, BOND_PER_LEASE
            )
        );
        vm.prank(alice);
        coord.requestUnstake(BOND_PER_LEASE + 1);
        vm.prank(alice);
        coord.requestUnstake(BOND_PER_LEASE);
        (, uint40 taken) = _lease(bob);
        vm.assertEq(taken, jobs[k], "the released job goes next");
        vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseIsReleased.selector, rids[k]));
        vm.prank(alice);
        coord.releaseLease(rids[k]);
        vm.assertEq(_active(alice), n - 1, "released once");
    }

    function testFuzz_EscrowPayoutAndRefund(uint24 n, uint96 reward, uint256 proven) public {
        n = uint24(bound(n, 1, 40));
        reward = uint96(bound(reward, 0, 1e24));
        uint256 jobs = _treeSize(n);
        proven = bound(proven, 0, jobs);
        token.mint(relayer, jobs * reward);
        vm.prank(relayer);
        uint32 b = coord.postBatch(_nextRoot(), n, reward, CIRCUIT);
        vm.assertEq(coord.totalEscrow(), jobs * reward, "escrow covers every job of the tree");
        _bond(alice, 1);
        for (uint256 i; i < proven; ++i) {
            _prove(alice); // one prover proves the tree job by job, the top last
        }
        _books();
        uint256 before = token.balanceOf(relayer);
        vm.prank(relayer);
        if (proven == jobs) {
            // The top is proven: the batch is final and owes nothing.
            vm.expectRevert(abi.encodeWithSelector(ICoordinator.BatchIsFinalized.selector, b));
            coord.cancelBatch(b);
        } else {
            coord.cancelBatch(b);
        }
        vm.assertEq(token.balanceOf(relayer) - before, (jobs - proven) * uint256(reward), "refund");
        vm.assertEq(_earnings(alice), proven * uint256(reward), "earned");
        vm.prank(alice);
        if (proven * uint256(reward) == 0) {
            vm.expectRevert(ICoordinator.NothingToWithdraw.selector);
            coord.withdrawEarnings();
        } else {
            coord.withdrawEarnings();
            vm.assertEq(token.balanceOf(alice), proven * uint256(reward), "withdrawn");
        }
        vm.assertEq(coord.totalEscrow(), 0, "no escrow left");
        _books();
    }

    function testFuzz_SlashBoundedByFundsAndSwept(uint96 bond, uint96 unbond, uint96 slash) public {
        slash = uint96(bound(slash, 0, BOND_PER_LEASE));
        ICoordinator.Settings memory s = _settings();
        s.stake = ICoordinator.StakeParams(BOND_PER_LEASE, MIN_BOND, slash);
        _changeSettings(s);

        bond = uint96(bound(bond, MIN_BOND, 1000 ether));
        _post(1);
        _stake(alice, bond);
        _bond(bob, 1);
        (uint64 r,) = _lease(alice);
        _lease(bob); // LRP moves the job on, so alice may unstake everything
        unbond = uint96(bound(unbond, 0, bond));
        if (unbond != 0) {
            vm.prank(alice);
            coord.requestUnstake(unbond);
        }
        // Submitted, the handed-on lease counts again: only a bond that backs it may submit,
        // so an Invalid verdict always finds the whole slash.
        if (bond - unbond < MIN_BOND) {
            vm.prank(alice);
            vm.expectRevert(abi.encodeWithSelector(ICoordinator.LeaseCapReached.selector, 0, 0));
            coord.submitProof(r, _proofHash(r));
            return;
        }
        _submit(alice, r);
        _verdict(r, INVALID);
        uint256 expected = slash;
        (uint256 b, uint256 u,,,,,) = views(coord).prover(alice);
        vm.assertEq(b + u, bond - expected, "a backed submission is slashed in full");
        vm.assertEq(coord.slashedOwed(), expected, "owed to treasury");
        _books();
        if (expected != 0) {
            coord.sweepSlashed();
            vm.assertEq(token.balanceOf(treasury), expected, "swept");
        }
        _books();
    }

    function testFuzz_LeaseCapFollowsBond(uint96 bond, uint8 asks) public {
        bond = uint96(bound(bond, 0, 200 ether));
        asks = uint8(bound(asks, 1, 40));
        _post(30);
        if (bond != 0) _stake(alice, bond);
        uint256 cap = bond < MIN_BOND ? 0 : bond / BOND_PER_LEASE;
        vm.assertEq(views(coord).leaseCap(alice), cap, "cap");
        uint256 got;
        for (uint256 i; i < asks; ++i) {
            vm.prank(alice);
            try coord.lease() {
                ++got;
            } catch {}
        }
        uint256 expected = asks < cap ? asks : cap;
        if (expected > 30) expected = 30;
        vm.assertEq(got, expected, "leases = min(asks, cap, jobs)");
        vm.assertEq(_active(alice), got, "all counted");
    }

    function testFuzz_FirstValidProofWins(uint256 seed) public {
        _post(1);
        address[3] memory ps = [alice, bob, carol];
        uint64[3] memory rs;
        for (uint256 i; i < 3; ++i) {
            _bond(ps[i], 1);
            (rs[i],) = _lease(ps[i]); // one job, three outstanding leases by LRP
        }
        for (uint256 i; i < 3; ++i) {
            _submit(ps[(seed % 3 + i) % 3], rs[(seed % 3 + i) % 3]);
        }
        // Verdicts in a random order, some Invalid: the first Valid applied is paid, only it.
        address winner;
        for (uint256 i; i < 3; ++i) {
            uint256 k = (seed >> (8 + i)) % 3;
            if (_leaseState(rs[k]) != ICoordinator.LeaseState.Submitted) k = (k + 1) % 3;
            if (_leaseState(rs[k]) != ICoordinator.LeaseState.Submitted) k = (k + 1) % 3;
            bool valid = (seed >> (16 + i)) & 1 == 1;
            _verdict(rs[k], valid ? VALID : INVALID);
            if (valid && winner == address(0)) winner = ps[k];
        }
        uint256 paid;
        for (uint256 i; i < 3; ++i) {
            paid += _earnings(ps[i]);
            vm.assertEq(_active(ps[i]), 0, "every lease released");
        }
        if (winner == address(0)) {
            vm.assertEq(paid, 0, "no valid proof, no payment");
            vm.assertEq(uint8(_status(1)), uint8(ICoordinator.JobStatus.Pending), "still pending");
        } else {
            vm.assertEq(paid, REWARD, "paid once");
            vm.assertEq(_earnings(winner), REWARD, "to the first valid");
        }
        _books();
    }

    function testFuzz_MinReassignAge(uint24 age, uint32 dt) public {
        age = uint24(bound(age, 0, coord.MAX_MIN_REASSIGN_AGE()));
        coord = _deploy(age);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.prank(owner);
        coord.setSpareAttempts(0);
        _post(1);
        _bond(alice, 1);
        _bond(bob, 1);
        _lease(alice);
        vm.warp(block.timestamp + dt);
        vm.prank(bob);
        if (dt < age) {
            vm.expectRevert(ICoordinator.NoJobAvailable.selector);
            coord.lease();
        } else {
            (, uint40 j) = coord.lease();
            vm.assertEq(j, 1, "reassigned once old enough");
        }
    }

    /// @notice With the minimum age unmet, a job goes at once to the next idle prover exactly
    ///         while it was leased at most `spareAttempts` times, each lease by another prover.
    function testFuzz_SpareAttempts(uint8 spares, uint24 age) public {
        spares = uint8(bound(spares, 0, coord.MAX_SPARE_ATTEMPTS()));
        age = uint24(bound(age, 1, coord.MAX_MIN_REASSIGN_AGE()));
        coord = _deploy(age);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
        vm.prank(owner);
        coord.setSpareAttempts(spares);
        _post(1);
        for (uint256 i; i <= spares + 1; ++i) {
            address p = makeAddr(string.concat("p", vm.toString(i)));
            _bond(p, 1);
            if (i <= spares) {
                (uint64 r,) = _lease(p);
                vm.assertEq(r, _rid(1, uint24(i + 1)), "at once");
            } else {
                vm.expectRevert(ICoordinator.NoJobAvailable.selector);
                _lease(p);
            }
        }
    }

    function testFuzz_MissingOnlyAfterDeadline(uint32 dt) public {
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        vm.warp(block.timestamp + dt);
        _verdict(r, MISSING);
        ICoordinator.LeaseState s = _leaseState(r);
        if (dt < UPLOAD_DEADLINE) {
            vm.assertEq(uint8(s), uint8(ICoordinator.LeaseState.Submitted), "too early");
        } else {
            vm.assertEq(uint8(s), uint8(ICoordinator.LeaseState.Missing), "accepted");
        }
        vm.assertEq(_bondOf(alice), BOND_PER_LEASE, "never slashed");
    }

    function testFuzz_StakeParamBounds(uint96 perLease, uint96 minBond, uint96 slash) public {
        bool ok = perLease != 0 && minBond >= perLease && slash <= perLease;
        ICoordinator.Settings memory s = _settings();
        s.stake = ICoordinator.StakeParams(perLease, minBond, slash);
        vm.prank(owner);
        if (!ok) vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        coord.proposeSettings(s);
    }

    /// @notice An unjudged submission expires exactly at submission + upload + verdict deadline
    ///         in force when it was made, whatever changed since; it frees the bond and moves no
    ///         funds.
    function testFuzz_ExpiryDueOnTheDeadlinesOfItsTime(uint32 verdict, uint24 upload, uint32 wait)
        public
    {
        ICoordinator.Settings memory s = _settings();
        s.verdictDeadline = uint32(bound(verdict, 1 hours, 30 days));
        s.uploadDeadline = uint24(bound(upload, 10, 1 days));
        _changeSettings(s);
        // Shorter deadlines, announced before the submission and in force a second after it,
        // change nothing for it.
        ICoordinator.Settings memory later = _settings();
        (later.verdictDeadline, later.uploadDeadline) = (1 hours, 10);
        vm.prank(owner);
        coord.proposeSettings(later);
        vm.warp(block.timestamp + PARAM_DELAY - 1);
        _post(1);
        _bond(alice, 1);
        (uint64 r,) = _lease(alice);
        _submit(alice, r);
        uint256 due = block.timestamp + s.uploadDeadline + s.verdictDeadline;
        vm.warp(block.timestamp + 1);
        coord.applySettings(later);
        uint256 at = bound(wait, block.timestamp, due + 1 days);
        vm.warp(at);
        uint256 balance = token.balanceOf(address(coord));
        if (at < due) {
            vm.expectRevert(abi.encodeWithSelector(ICoordinator.NotExpired.selector, due));
            coord.expireSubmission(r);
            vm.assertEq(_active(alice), 1, "still counts");
        } else {
            coord.expireSubmission(r);
            vm.assertEq(_active(alice), 0, "released");
        }
        vm.assertEq(token.balanceOf(address(coord)), balance, "no funds moved");
        vm.assertEq(_bondOf(alice), MIN_BOND, "nothing slashed");
    }

    function testFuzz_ForeignRequestIdsAreRefused(uint64 rid) public {
        _post(2);
        _bond(alice, 1);
        (uint64 mine,) = _lease(alice);
        vm.assume(rid != mine);
        vm.prank(alice);
        vm.expectRevert();
        coord.submitProof(rid, keccak256("p"));
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vs[0] = ICoordinator.Verdict(rid, alice, uint8(VALID), keccak256("p"));
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        vm.assertEq(_earnings(alice), 0, "nothing paid for a foreign id");
    }

    function testFuzz_Interleaving(uint256 seed) public {
        // A random sequence of leases, submissions and verdicts by three provers: every job
        // ends paid exactly once and the books balance at every step.
        uint24 n = uint24(bound(seed, 3, 12));
        _post(n);
        address[3] memory ps = [alice, bob, carol];
        for (uint256 i; i < 3; ++i) {
            _bond(ps[i], 2);
        }
        uint64[] memory open = new uint64[](64);
        uint256 opened;
        for (uint256 step; step < 120 && views(coord).batch(1).jobsLeft > 0; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            address p = ps[r % 3];
            if ((r >> 8) % 2 == 0 && opened < 64) {
                vm.prank(p);
                try coord.lease() returns (uint64 rid, uint40) {
                    open[opened++] = rid;
                } catch {}
            } else if (opened != 0) {
                uint64 rid = open[(r >> 16) % opened];
                (address holder,, ICoordinator.LeaseState s,,) = views(coord).leaseInfo(rid);
                if (s == ICoordinator.LeaseState.Leased) {
                    vm.prank(holder);
                    try coord.submitProof(rid, keccak256(abi.encode(rid))) {} catch {}
                } else if (s == ICoordinator.LeaseState.Submitted) {
                    _verdict(rid, (r >> 24) % 4 == 0 ? INVALID : VALID);
                }
            }
            vm.warp(block.timestamp + (r >> 32) % 30);
            _books();
        }
        uint256 paid;
        for (uint256 i; i < 3; ++i) {
            paid += _earnings(ps[i]);
        }
        uint256 complete = _treeSize(n) - views(coord).batch(1).jobsLeft;
        vm.assertEq(paid, complete * REWARD, "each complete job paid once");
        vm.assertEq(_fresh(), _countFresh(), "fresh count = fresh jobs");
    }

    // ------------------------------------------------------------------ the tree

    /// @notice `_parentOf` agrees with the tree built level by level, for every node of trees
    ///         of up to 300 leaves; `_treeSize` with the model's size.
    function testFuzz_Tree_ParentOfMatchesTheModel(uint24 leaves) public view {
        leaves = uint24(bound(leaves, 1, 300));
        CoordinatorHarness h = harness;
        TreeModel.Tree memory t = TreeModel.build(leaves);
        vm.assertEq(h.treeSize(leaves), t.size, "tree size");
        for (uint256 i; i < t.size; ++i) {
            (uint256 parent, uint256 children, uint256 sibling) = h.parentOf(i, leaves);
            if (i == t.size - 1) {
                vm.assertEq(children, 0, "the top has no parent");
                continue;
            }
            vm.assertEq(parent, t.parent[i], "parent");
            vm.assertEq(children, t.children[parent], "the parent's children");
            vm.assertEq(t.parent[sibling], parent, "the sibling has the same parent");
            vm.assertEq(sibling == i, children == 1, "a sibling of its own only when alone");
            vm.assertGt(parent, i, "parents come after their children");
            vm.assertEq(t.level[parent], t.level[i] + 1, "one level up");
        }
    }

    /// @notice The same for any node of any tree the contract accepts (up to 2^19 leaves), and
    ///         postBatch accepts exactly the trees of at most MAX_JOBS_PER_BATCH jobs.
    function testFuzz_Tree_ParentOfMatchesTheModelForLargeTrees(uint24 leaves, uint256 index)
        public
    {
        leaves = uint24(bound(leaves, 0, 1 << 20)); // about half of them fit
        CoordinatorHarness h = harness;
        uint256[] memory sizes = TreeModel.levelSizes(leaves == 0 ? 1 : leaves);
        uint256 size;
        for (uint256 l; l < sizes.length; ++l) {
            size += sizes[l];
        }
        if (leaves != 0) vm.assertEq(h.treeSize(leaves), size, "tree size");
        bool fits = leaves != 0 && size <= coord.MAX_JOBS_PER_BATCH();
        vm.prank(relayer);
        if (!fits) {
            vm.expectRevert(abi.encodeWithSelector(ICoordinator.BadJobCount.selector, leaves));
        }
        coord.postBatch(_nextRoot(), leaves, 0, CIRCUIT);
        if (!fits) return;
        index = bound(index, 0, size - 1);
        (uint256 parent, uint256 children,) = h.parentOf(index, leaves);
        (uint256 wantParent, uint256 wantChildren) = TreeModel.parentOf(leaves, index);
        vm.assertEq(children, wantChildren, "children");
        if (wantChildren != 0) vm.assertEq(parent, wantParent, "parent");
    }

    /// @notice Any tree, proven in any order of verdicts: no node is fresh before all its
    ///         children are complete, each becomes fresh exactly once, the top completes last
    ///         and its winning proof is the batch's final proof.
    function testFuzz_Tree_ReadinessAndFinalProof(uint24 leaves, uint256 seed) public {
        leaves = uint24(bound(leaves, 1, 16));
        _bond(alice, leaves + 1);
        Drive memory d = _drive(alice, leaves, seed, type(uint256).max);
        ICoordinator.BatchInfo memory b = views(coord).batch(d.batchId);
        vm.assertEq(d.verdicts, d.tree.size, "one verdict per job");
        vm.assertEq(b.jobsLeft, 0, "all done");
        vm.assertTrue(b.finalProofHash != 0, "final");
        (,,,, uint64 top) = views(coord).job(_top(d.batchId));
        vm.assertEq(b.finalProofHash, _proofHash(top), "the top's winning proof");
        for (uint256 i = leaves; i < d.tree.size; ++i) {
            vm.assertEq(d.readied[i], 1, "every node became fresh exactly once");
        }
        vm.assertEq(coord.totalEscrow(), 0, "every job paid");
        vm.assertEq(_earnings(alice), d.tree.size * REWARD, "to its prover");
        _books();
    }

    /// @notice Cancelling a tree at any point refunds exactly the jobs not completed; after it
    ///         no waiting node becomes fresh, no job of it is leased, and the fresh count stays
    ///         the number of fresh jobs of live batches.
    function testFuzz_Tree_CancelMidTree(uint24 leaves, uint256 seed, uint256 stop) public {
        leaves = uint24(bound(leaves, 2, 16));
        stop = bound(stop, 0, _treeSize(leaves) - 1);
        _bond(alice, leaves + 1);
        Drive memory d = _drive(alice, leaves, seed, stop);
        uint256 complete;
        for (uint256 i; i < d.tree.size; ++i) {
            if (_status(d.first + uint40(i)) == ICoordinator.JobStatus.Complete) ++complete;
        }
        vm.assertEq(complete, stop, "each verdict completed a job");
        for (uint256 i; i < d.opened; ++i) {
            if (d.open[i] != 0) _submit(alice, d.open[i]); // judged after the cancel
        }
        uint256 before = token.balanceOf(relayer);
        uint256 escrow = coord.totalEscrow();
        vm.prank(relayer);
        coord.cancelBatch(d.batchId);
        uint256 refund = (d.tree.size - complete) * REWARD;
        vm.assertEq(token.balanceOf(relayer) - before, refund, "refund = jobs not completed");
        vm.assertEq(escrow - coord.totalEscrow(), refund, "escrow released");
        vm.assertEq(_fresh(), 0, "nothing of it counts as fresh");
        uint8[] memory atCancel = _snapshot(d);
        for (uint256 i; i < d.opened; ++i) {
            if (d.open[i] != 0) _verdict(d.open[i], ICoordinator.VerdictResult.Valid);
        }
        uint32 later = _post(uint24(bound(seed >> 128, 1, 6)));
        _bond(bob, 1);
        while (views(coord).batch(later).jobsLeft != 0) {
            (, uint40 j) = _prove(bob);
            (, uint32 of_,,,) = views(coord).job(j);
            vm.assertEq(of_, later, "only the live tree is leased");
            vm.assertEq(_fresh(), _countFresh(), "fresh count = fresh jobs of live batches");
        }
        uint8[] memory after_ = _snapshot(d);
        for (uint256 i; i < d.tree.size; ++i) {
            bool dropped = atCancel[i] == uint8(ICoordinator.JobStatus.Fresh)
                && after_[i] == uint8(ICoordinator.JobStatus.Cleared);
            vm.assertTrue(after_[i] == atCancel[i] || dropped, "a cancelled tree stands still");
        }
        _books();
    }
}
