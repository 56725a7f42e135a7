// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorFixture} from "./CoordinatorFixture.sol";
import {TreeModel} from "./TreeModel.sol";
import {ICoordinator} from "../../ICoordinator.sol";
import {views} from "./Views.sol";

/// @notice Drives one batch's proving tree through leases and Valid verdicts in an order chosen
///         by a seed, and checks after every verdict, against TreeModel, that readiness follows
///         the tree: a node stays Waiting until its last child is Complete, becomes Fresh in the
///         verdict that completes that child and never before, and only once; the top completes
///         last and its proof becomes the batch's final proof. Shared by the unit and fuzz tests.
abstract contract TreeChecks is CoordinatorFixture {
    /// @dev What a drive leaves behind, for the caller to go on from (e.g. cancel mid-tree).
    struct Drive {
        uint32 batchId;
        uint40 first;
        TreeModel.Tree tree;
        /// Leases taken and not judged yet (0 = judged).
        uint64[] open;
        uint256 opened;
        /// Times each node was seen turning from Waiting to Fresh.
        uint256[] readied;
        uint256 verdicts;
    }

    /// @dev Posts a tree over `leaves` leaves and lets `who` (bonded for `leaves` leases at
    ///      least) prove it, taking every fresh job when the seed says so and judging a random
    ///      open lease Valid otherwise, until `maxVerdicts` verdicts or the top is complete.
    function _drive(address who, uint24 leaves, uint256 seed, uint256 maxVerdicts)
        internal
        returns (Drive memory d)
    {
        d.batchId = _post(leaves);
        d.first = views(coord).batch(d.batchId).firstJobId;
        d.tree = TreeModel.build(leaves);
        vm.assertEq(views(coord).batch(d.batchId).jobCount, d.tree.size, "jobCount = model's size");
        d.open = new uint64[](d.tree.size);
        d.readied = new uint256[](d.tree.size);
        _checkStatuses(d);
        for (uint256 step; d.verdicts < maxVerdicts; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            bool anyOpen = _openCount(d) != 0;
            if (_fresh() != 0 && (!anyOpen || r % 3 == 0) && _leaseAllFresh(d, who, anyOpen)) {
                continue;
            } else if (anyOpen) {
                _judgeOne(d, who, r >> 8);
            } else {
                break; // nothing fresh, nothing open: the tree is done
            }
        }
    }

    /// @dev Every job `who` can lease now; each must be a job of the tree that was ready. A
    ///      `busy` prover (holding leases) gets fresh leaves only: false if only nodes are fresh.
    function _leaseAllFresh(Drive memory d, address who, bool busy) internal returns (bool) {
        uint256 n = _fresh();
        if (n > 16) n = 16;
        uint8[] memory before = _snapshot(d);
        ICoordinator.BatchInfo memory b = views(coord).batch(d.batchId);
        if (busy && b.leasedFresh == b.leafCount) {
            vm.prank(who);
            vm.expectRevert(ICoordinator.NoJobAvailable.selector);
            coord.leaseMany(n);
            return false;
        }
        vm.prank(who);
        (uint64[] memory rids, uint40[] memory jobs) = coord.leaseMany(n);
        for (uint256 i; i < rids.length; ++i) {
            uint256 index = jobs[i] - d.first;
            vm.assertLt(index, d.tree.size, "leased a job of the tree");
            vm.assertEq(
                before[index], uint8(ICoordinator.JobStatus.Fresh), "only a fresh job is leased"
            );
            vm.assertTrue(_childrenComplete(d, index), "a leased node's children are complete");
            d.open[d.opened++] = rids[i];
            if (i > 0 || busy) {
                vm.assertLt(index, d.tree.leaves, "a prover holding a lease gets leaves only");
            }
        }
        return true;
    }

    /// @dev Submits and judges Valid one open lease picked by `pick`; checks every status.
    function _judgeOne(Drive memory d, address who, uint256 pick) internal {
        uint256 k = pick % _openCount(d);
        uint256 slot;
        for (uint256 i; i < d.opened; ++i) {
            if (d.open[i] == 0) continue;
            if (k == 0) {
                slot = i;
                break;
            }
            --k;
        }
        uint64 rid = d.open[slot];
        d.open[slot] = 0;
        uint256 index = uint40(rid >> 24) - d.first;
        bool top = index == d.tree.size - 1;
        if (top) {
            uint8[] memory before = _snapshot(d);
            for (uint256 i; i + 1 < d.tree.size; ++i) {
                vm.assertEq(
                    before[i],
                    uint8(ICoordinator.JobStatus.Complete),
                    "the top is leased only when every other job is complete"
                );
            }
        }
        uint256 freshBefore = _fresh();
        uint256 nodesBefore = views(coord).batch(d.batchId).freshNodes;
        _submit(who, rid);
        if (top) {
            vm.expectEmit(address(coord));
            emit ICoordinator.BatchFinalized(d.batchId, _proofHash(rid));
        }
        _verdict(rid, ICoordinator.VerdictResult.Valid);
        ++d.verdicts;
        uint256 readied = _checkReadied(d, index);
        vm.assertEq(_fresh(), freshBefore + readied, "fresh count follows readiness");
        vm.assertEq(
            views(coord).batch(d.batchId).freshNodes,
            nodesBefore + readied,
            "fresh nodes of the batch"
        );
        _checkStatuses(d);
        _checkFinal(d, index, rid);
    }

    /// @dev After the Valid verdict on `index`: it is Complete, and its parent became ready (1)
    ///         if that was its last child, for the first time.
    function _checkReadied(Drive memory d, uint256 index) internal view returns (uint256 readied) {
        vm.assertEq(
            uint8(_status(d.first + uint40(index))),
            uint8(ICoordinator.JobStatus.Complete),
            "judged job complete"
        );
        if (index == d.tree.size - 1) return 0;
        uint256 parent = d.tree.parent[index];
        if (!_childrenComplete(d, parent)) return 0;
        d.readied[parent] += 1;
        vm.assertEq(d.readied[parent], 1, "a node becomes fresh once");
        return 1;
    }

    /// @dev The batch has a final proof exactly once its top is complete, and it is the top's.
    function _checkFinal(Drive memory d, uint256 index, uint64 rid) internal view {
        ICoordinator.BatchInfo memory b = views(coord).batch(d.batchId);
        if (index == d.tree.size - 1) {
            vm.assertEq(b.finalProofHash, _proofHash(rid), "final proof = the top's winning proof");
            (,,,, uint64 winning) = views(coord).job(d.first + uint40(index));
            vm.assertEq(winning, rid, "job() reports the winning lease");
            vm.assertEq(b.jobsLeft, 0, "nothing left");
        } else {
            vm.assertEq(b.finalProofHash, 0, "no final proof before the top");
            vm.assertGt(b.jobsLeft, 0, "the top is left at least");
        }
    }

    /// @dev Every job's status agrees with the model: a leaf is never Waiting; a node is Waiting
    ///      exactly while some child is not Complete; jobsLeft counts the jobs not Complete.
    function _checkStatuses(Drive memory d) internal view {
        uint256 complete;
        for (uint256 i; i < d.tree.size; ++i) {
            ICoordinator.JobStatus s = _status(d.first + uint40(i));
            if (s == ICoordinator.JobStatus.Complete) ++complete;
            bool ready = d.tree.children[i] == 0 || _childrenComplete(d, i);
            vm.assertEq(s != ICoordinator.JobStatus.Waiting, ready, "waiting iff children left");
        }
        vm.assertEq(
            complete + views(coord).batch(d.batchId).jobsLeft, d.tree.size, "complete + left = jobs"
        );
    }

    function _childrenComplete(Drive memory d, uint256 index) internal view returns (bool) {
        uint256 c = d.tree.firstChild[index];
        for (uint256 k; k < d.tree.children[index]; ++k) {
            if (_status(d.first + uint40(c + k)) != ICoordinator.JobStatus.Complete) return false;
        }
        return true;
    }

    function _snapshot(Drive memory d) internal view returns (uint8[] memory s) {
        s = new uint8[](d.tree.size);
        for (uint256 i; i < d.tree.size; ++i) {
            s[i] = uint8(_status(d.first + uint40(i)));
        }
    }

    function _openCount(Drive memory d) internal pure returns (uint256 n) {
        for (uint256 i; i < d.opened; ++i) {
            if (d.open[i] != 0) ++n;
        }
    }

    /// @dev Jobs of uncancelled batches that job() reports Fresh: what queue() must count.
    function _countFresh() internal view returns (uint256 n) {
        (, uint40 nextJob) = views(coord).nextIds();
        for (uint40 j = 1; j < nextJob; ++j) {
            (ICoordinator.JobStatus s, uint32 b,,,) = views(coord).job(j);
            if (s == ICoordinator.JobStatus.Fresh && !views(coord).batch(b).cancelled) ++n;
        }
    }
}
