// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Coordinator} from "../Coordinator.sol";
import {ICoordinator} from "../ICoordinator.sol";

/// @notice Fuzz tests of every money path (stake, unstake, escrow, payout, refund, slash,
///         sweep) and of the rules whose outcome depends on amounts, counts, times and order.
contract CoordinatorFuzzTest is CoordinatorFixture {
    ICoordinator.VerdictResult internal constant VALID = ICoordinator.VerdictResult.Valid;
    ICoordinator.VerdictResult internal constant INVALID = ICoordinator.VerdictResult.Invalid;
    ICoordinator.VerdictResult internal constant MISSING = ICoordinator.VerdictResult.Missing;

    function _books() internal view {
        address[3] memory ps = [alice, bob, carol];
        uint256 held;
        for (uint256 i; i < 3; ++i) {
            (uint256 bond, uint256 unbonding,,, uint256 earnings,,) = coord.prover(ps[i]);
            held += bond + unbonding + earnings;
        }
        vm.assertEq(
            token.balanceOf(address(coord)),
            held + coord.totalEscrow() + coord.slashedOwed(),
            "books balanced"
        );
    }

    function testFuzz_StakeUnstakeWithdraw(uint96 amount, uint96 part, uint32 wait) public {
        amount = uint96(bound(amount, 1, type(uint96).max));
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
        first = uint96(bound(first, 1, type(uint96).max));
        second = bound(second, uint256(type(uint96).max) - first + 1, type(uint128).max);
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

    function testFuzz_EscrowPayoutAndRefund(uint24 n, uint96 reward, uint256 proven) public {
        n = uint24(bound(n, 1, 40));
        reward = uint96(bound(reward, 0, 1e24));
        proven = bound(proven, 0, n);
        token.mint(relayer, uint256(n) * reward);
        vm.prank(relayer);
        uint32 b =
            coord.postBatch(_nextRoot(), n, reward, ICoordinator.BatchKind.Round0, 0, 0, CIRCUIT);
        _bond(alice, 1);
        for (uint256 i; i < proven; ++i) {
            _prove(alice);
        }
        _books();
        uint256 before = token.balanceOf(relayer);
        vm.prank(relayer);
        coord.cancelBatch(b);
        vm.assertEq(token.balanceOf(relayer) - before, (n - proven) * uint256(reward), "refund");
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
        vm.prank(owner);
        coord.proposeStakeParams(ICoordinator.StakeParams(BOND_PER_LEASE, MIN_BOND, slash));
        vm.warp(block.timestamp + PARAM_DELAY);
        coord.applyStakeParams();

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
        _submit(alice, r);
        _verdict(r, INVALID);
        uint256 expected = slash < bond ? slash : bond;
        (uint256 b, uint256 u,,,,,) = coord.prover(alice);
        vm.assertEq(b + u, bond - expected, "slashed exactly min(slash, funds)");
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
        vm.assertEq(coord.leaseCap(alice), cap, "cap");
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
        vm.prank(owner);
        if (!ok) vm.expectRevert(ICoordinator.ParamOutOfBounds.selector);
        coord.proposeStakeParams(ICoordinator.StakeParams(perLease, minBond, slash));
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
        vs[0] = ICoordinator.Verdict(rid, uint40(rid >> 24), alice, uint8(VALID));
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
        for (uint256 step; step < 120 && coord.batch(1).jobsLeft > 0; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            address p = ps[r % 3];
            if ((r >> 8) % 2 == 0 && opened < 64) {
                vm.prank(p);
                try coord.lease() returns (uint64 rid, uint40) {
                    open[opened++] = rid;
                } catch {}
            } else if (opened != 0) {
                uint64 rid = open[(r >> 16) % opened];
                (address holder,, ICoordinator.LeaseState s,,) = coord.leaseInfo(rid);
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
        uint256 complete = n - coord.batch(1).jobsLeft;
        vm.assertEq(paid, complete * REWARD, "each complete job paid once");
    }
}
