// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoordinatorFixture} from "./utils/CoordinatorFixture.sol";
import {Console} from "./utils/Console.sol";
import {Vm} from "./utils/Vm.sol";
import {ICoordinator} from "../ICoordinator.sol";

/// @notice Gas per proven job as the transactions pay it: a 1,000-job batch, 10 provers, each
///         call of the life cycle counted with its 21,000 base cost, calldata and refunds.
/// @dev Needs `forge test --isolate` (each call its own transaction, cold storage per call);
///      `make test` runs it so. Without isolation the test skips itself.
contract CoordinatorGasTest is CoordinatorFixture {
    uint256 internal constant JOBS = 1000;
    uint256 internal constant PROVERS = 10;

    struct Tally {
        uint256 gas;
        uint256 calls;
    }

    /// @dev How a run batches its calls.
    struct Shape {
        uint256 leaseBatch;
        uint256 submitBatch;
        uint256 verdictBatch;
    }

    Tally internal postT;
    Tally internal leaseT;
    Tally internal submitT;
    Tally internal verdictT;
    address[] internal provers;
    ICoordinator.Verdict[] internal queued;

    /// @notice The configuration a real client and relayer use: a client leases two jobs at a
    ///         time (one to prove, one fetched ahead), submits each proof as it is done; the
    ///         relayer posts verdicts in batches of 50.
    function test_GasPerProvenJob() public {
        uint256 perJob = _run(Shape({leaseBatch: 2, submitBatch: 1, verdictBatch: 50}));
        vm.assertLt(perJob, 150_000, "gas per proven job above the 150,000 target");
        Console.log("gas per proven job:", perJob);
    }

    /// @notice For comparison: the same batch with every call unbatched (lease 1, submit 1,
    ///         verdicts of 1). Sorted before the main test so that its line prints last.
    function test_GasBaseline_Unbatched() public {
        Console.log("unbatched gas per proven job:", _run(Shape(1, 1, 1)));
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
        vm.prank(relayer);
        coord.postBatch(
            keccak256("gas"), uint24(JOBS), REWARD, ICoordinator.BatchKind.Round0, 0, 0, CIRCUIT
        );
        _tally(postT);

        uint256 leased;
        while (leased < JOBS) {
            vm.warp(block.timestamp + 12);
            for (uint256 i; i < PROVERS && leased < JOBS; ++i) {
                leased += _leaseAndSubmit(provers[i], s);
            }
            while (queued.length >= s.verdictBatch) {
                _flushVerdicts(s.verdictBatch);
            }
        }
        while (queued.length != 0) {
            _flushVerdicts(s.verdictBatch);
        }
        vm.assertEq(coord.totalEscrow(), 0, "every job paid");
        vm.assertEq(_pending(), 0, "nothing pending");

        uint256 total = postT.gas + leaseT.gas + submitT.gas + verdictT.gas;
        perJob = total / JOBS;
        Console.log("--- batch shape: lease", s.leaseBatch);
        Console.log("                 submit", s.submitBatch);
        Console.log("                 verdicts", s.verdictBatch);
        Console.log("postBatch gas per call", postT.gas / postT.calls);
        Console.log("postBatch gas per job (amortized)", postT.gas / JOBS);
        Console.log("lease gas per call", leaseT.gas / leaseT.calls);
        Console.log("lease gas per job", leaseT.gas / JOBS);
        Console.log("submit gas per call", submitT.gas / submitT.calls);
        Console.log("submit gas per job", submitT.gas / JOBS);
        Console.log("recordVerdicts gas per call", verdictT.gas / verdictT.calls);
        Console.log("recordVerdicts gas per job", verdictT.gas / JOBS);
    }

    function _leaseAndSubmit(address p, Shape memory s) internal returns (uint256 n) {
        vm.prank(p);
        (uint64[] memory rids, uint40[] memory jids) = coord.leaseMany(s.leaseBatch);
        _tally(leaseT);
        n = rids.length;
        for (uint256 i; i < n; i += s.submitBatch) {
            uint256 m = n - i < s.submitBatch ? n - i : s.submitBatch;
            if (m == 1) {
                vm.prank(p);
                coord.submitProof(rids[i], _proofHash(rids[i]));
            } else {
                uint64[] memory ids = new uint64[](m);
                bytes32[] memory hs = new bytes32[](m);
                for (uint256 k; k < m; ++k) {
                    ids[k] = rids[i + k];
                    hs[k] = _proofHash(rids[i + k]);
                }
                vm.prank(p);
                coord.submitProofs(ids, hs);
            }
            _tally(submitT);
        }
        for (uint256 i; i < n; ++i) {
            queued.push(
                ICoordinator.Verdict(rids[i], jids[i], p, uint8(ICoordinator.VerdictResult.Valid))
            );
        }
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
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        _tally(verdictT);
    }

    // What the last call's transaction paid: gas used (intrinsic and calldata included under
    // --isolate) less the refund, which EIP-3529 caps at a fifth of the gas used.
    function _tally(Tally storage t) internal {
        Vm.Gas memory g = vm.lastCallGas();
        uint256 used = g.gasTotalUsed;
        uint256 refund = g.gasRefunded > 0 ? uint256(int256(g.gasRefunded)) : 0;
        if (refund > used / 5) refund = used / 5;
        t.gas += used - refund;
        t.calls += 1;
    }

    // Under --isolate a call's gas includes the 21,000 of its transaction.
    function _isolated() internal returns (bool) {
        vm.prank(owner);
        coord.setLeasingPaused(false);
        return vm.lastCallGas().gasTotalUsed >= 21_000;
    }
}
