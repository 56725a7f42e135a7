// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Console} from "./utils/Console.sol";
import {Vm} from "./utils/Vm.sol";
import {ICoordinator} from "../ICoordinator.sol";
import {views} from "./utils/Views.sol";

/// @notice Gas per proven job as the transactions pay it, in the steady state: the relayer
///         posts a source batch's whole proving tree per postBatch, the next one as soon as
///         the last one's leaves are all leased, until about 1,000 jobs (every leaf, node and
///         top) are proven by 10 provers; each call of the life cycle is counted with its 21,000
///         base cost, calldata and refunds. Reported for trees of 8 and of 64 leaves.
/// @dev Needs `forge test --isolate` (each call its own transaction, cold storage per call);
///      `make test` runs it so. Without isolation the test skips itself.
contract CoordinatorGasTest is CoordinatorFixture {
    uint256 internal constant JOBS = 1000;
    uint256 internal constant PROVERS = 10;

    struct Tally {
        uint256 gas;
        uint256 calls;
    }

    /// @dev How a run batches its calls, and the trees it posts.
    struct Shape {
        uint256 leaseBatch;
        uint256 verdictBatch;
        uint24 leaves;
        bool combined;
    }

    Tally internal postT;
    Tally internal leaseT;
    Tally internal submitT;
    Tally internal verdictT;
    address[] internal provers;
    ICoordinator.Verdict[] internal queued;
    mapping(address => uint64) internal held;

    /// @notice The configuration a real client and relayer use: a client leases two jobs at a
    ///         time (one to prove, one fetched ahead), submits each proof as it is done; the
    ///         relayer posts verdicts in batches of 50. Trees of 64 leaves (127 jobs).
    function test_GasPerProvenJob() public {
        uint256 perJob = _run(Shape({leaseBatch: 2, verdictBatch: 50, leaves: 64, combined: false}));
        // A figure next to its target, not an assertion: `make bench` prints it.
        Console.log("gas per proven job (trees of 64 leaves; target 100,000):", perJob);
    }

    /// @notice A busy prover's one transaction per job: `submitAndLease` submits a proof and
    ///         leases the next fresh leaf; an idle prover leases with `lease`. Verdicts in
    ///         batches of 50, trees of 64 leaves.
    function test_GasPerProvenJob_SubmitAndLease() public {
        uint256 perJob = _run(Shape({leaseBatch: 1, verdictBatch: 50, leaves: 64, combined: true}));
        Console.log("gas per proven job with submitAndLease (target 100,000):", perJob);
    }

    /// @notice For comparison: the same with small trees of 8 leaves (15 jobs), where one
    ///         postBatch (about 180,000 gas) is shared by 15 jobs instead of 127. Sorted before
    ///         the main test so that its line prints last.
    function test_GasOfSmallTrees() public {
        uint256 perJob = _run(Shape({leaseBatch: 2, verdictBatch: 50, leaves: 8, combined: false}));
        Console.log("gas per proven job (trees of 8 leaves):", perJob);
    }

    /// @notice For comparison: trees of 64 leaves with every call unbatched (lease 1, submit 1,
    ///         verdicts of 1). Sorted before the main test so that its line prints last.
    function test_GasBaseline_Unbatched() public {
        Console.log("unbatched gas per proven job:", _run(Shape(1, 1, 64, false)));
    }

    function _run(Shape memory s) internal returns (uint256 perJob) {
        if (!_isolated()) {
            Console.log("skipped: run with --isolate (make test does)");
            vm.skip(true);
            return 0;
        }
        for (uint256 i; i < PROVERS; ++i) {
            address p = makeAddr(string.concat("prover", vm.toString(i)));
            // Bond for more leases than one call takes: submitted proofs count against the bond
            // until the relayer's verdict batch fills up.
            _bond(p, 4 * s.leaseBatch + s.verdictBatch / PROVERS + 1);
            provers.push(p);
        }
        uint256 jobs;
        uint32 last;
        while (true) {
            vm.warp(block.timestamp + 12);
            uint256 leased;
            for (uint256 i; i < PROVERS; ++i) {
                // The relayer posts the next tree once the last one's leaves are all leased.
                if (jobs < JOBS && (last == 0 || views(coord).batch(last).leasedFresh == s.leaves))
                {
                    last = _postTree(s.leaves);
                    jobs += views(coord).batch(last).jobCount;
                }
                leased += s.combined ? _submitAndLease(provers[i]) : _leaseAndSubmit(provers[i], s);
            }
            while (queued.length >= s.verdictBatch) {
                _flushVerdicts(s.verdictBatch);
            }
            if (leased != 0) continue;
            // Nothing to lease: the nodes wait for verdicts, which the relayer then posts
            // without waiting for a full batch; with no verdict left either, all is proven.
            if (queued.length == 0) break;
            while (queued.length != 0) {
                _flushVerdicts(s.verdictBatch);
            }
        }
        vm.assertEq(coord.totalEscrow(), 0, "every job paid");
        vm.assertEq(_pending(), 0, "nothing pending");
        vm.assertEq(_fresh(), 0, "nothing fresh");
        for (uint32 b = 1; b <= last; ++b) {
            vm.assertTrue(views(coord).batch(b).finalProofHash != 0, "every tree finalized");
        }

        uint256 total = postT.gas + leaseT.gas + submitT.gas + verdictT.gas;
        perJob = total / jobs;
        Console.log("--- trees of leaves", s.leaves);
        Console.log("    trees", postT.calls);
        Console.log("    jobs proven", jobs);
        Console.log("    batch shape: lease", s.leaseBatch);
        Console.log("                 verdicts", s.verdictBatch);
        Console.log("postBatch gas per call", postT.gas / postT.calls);
        Console.log("postBatch gas per job (amortized)", postT.gas / jobs);
        Console.log("lease gas per call", leaseT.gas / leaseT.calls);
        Console.log("lease gas per job", leaseT.gas / jobs);
        Console.log("submit gas per call", submitT.gas / submitT.calls);
        Console.log("submit gas per job", submitT.gas / jobs);
        Console.log("recordVerdicts gas per call", verdictT.gas / verdictT.calls);
        Console.log("recordVerdicts gas per job", verdictT.gas / jobs);
    }

    function _postTree(uint24 leaves) internal returns (uint32 batchId) {
        vm.prank(relayer);
        batchId = coord.postBatch(_nextRoot(), leaves, REWARD, CIRCUIT);
        _tally(postT);
    }

    // Leases only while jobs are fresh, so that no honest prover's job is handed on by LRP
    // (a prover with a lease out gets fresh leaves only: with only nodes fresh it gets none,
    // which a client learns from its estimate, sending nothing), and within the bond.
    function _leaseAndSubmit(address p, Shape memory s) internal returns (uint256 n) {
        if (_fresh() == 0 || _active(p) >= views(coord).leaseCap(p)) return 0;
        uint64[] memory rids;
        uint40[] memory jids;
        vm.prank(p);
        try coord.leaseMany(s.leaseBatch) returns (uint64[] memory r, uint40[] memory j) {
            (rids, jids) = (r, j);
        } catch (bytes memory err) {
            vm.assertEq(bytes4(err), ICoordinator.NoJobAvailable.selector, "only none for now");
            vm.assertGt(_active(p), 0, "an idle prover always gets a fresh job");
            return 0;
        }
        _tally(leaseT);
        n = rids.length;
        for (uint256 i; i < n; ++i) {
            vm.prank(p);
            coord.submitProof(rids[i], _proofHash(rids[i]));
            _tally(submitT);
        }
        for (uint256 i; i < n; ++i) {
            queued.push(
                ICoordinator.Verdict(
                    rids[i], p, uint8(ICoordinator.VerdictResult.Valid), _proofHash(rids[i])
                )
            );
        }
    }

    // Holding a lease: submits its proof and leases the next job in one call. Holding none: leases
    // one while jobs are fresh and the bond backs it.
    function _submitAndLease(address p) internal returns (uint256) {
        uint64 rid = held[p];
        if (rid == 0) {
            if (_fresh() == 0 || _active(p) >= views(coord).leaseCap(p)) return 0;
            vm.prank(p);
            try coord.lease() returns (uint64 r, uint40) {
                _tally(leaseT);
                held[p] = r;
                return r == 0 ? 0 : 1;
            } catch (bytes memory err) {
                vm.assertEq(bytes4(err), ICoordinator.NoJobAvailable.selector, "only none for now");
                return 0;
            }
        }
        vm.prank(p);
        (uint64 next,) = coord.submitAndLease(rid, _proofHash(rid));
        _tally(submitT);
        queued.push(
            ICoordinator.Verdict(rid, p, uint8(ICoordinator.VerdictResult.Valid), _proofHash(rid))
        );
        held[p] = next;
        return 1;
    }

    function _flushVerdicts(uint256 batchSize) internal {
        uint256 m = queued.length < batchSize ? queued.length : batchSize;
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](m);
        for (uint256 i; i < m; ++i) {
            vs[i] = queued[queued.length - m + i];
        }
        for (uint256 i; i < m; ++i) {
            queued.pop();
        }
        vm.recordLogs();
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        _tally(verdictT);
        // A node readied by a waiting prover's proof is handed to it in the verdict: it proves
        // that next, as the client does when it sees the lease.
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == ICoordinator.JobLeased.selector) {
                held[address(uint160(uint256(logs[i].topics[2])))] =
                    uint64(uint256(logs[i].topics[1]));
            }
        }
    }

    // What the last call's transaction paid: under --isolate, `gasTotalUsed` is the gas the
    // transaction is charged (intrinsic and calldata included), its refund already taken off
    // and capped by EIP-3529 at a fifth of the gas used (`gasRefunded` is that refund, not to
    // be taken off again; checked on a call that only clears slots).
    function _tally(Tally storage t) internal {
        t.gas += vm.lastCallGas().gasTotalUsed;
        t.calls += 1;
    }

    // Under --isolate a call's gas includes the 21,000 of its transaction.
    function _isolated() internal returns (bool) {
        vm.prank(owner);
        coord.setLeasingPaused(false);
        return vm.lastCallGas().gasTotalUsed >= 21_000;
    }
}
