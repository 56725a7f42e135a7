// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {Coordinator} from "../../Coordinator.sol";
import {views} from "./Views.sol";
import {ICoordinator} from "../../ICoordinator.sol";
import {TestToken} from "../../devnet/TestToken.sol";

/// @notice Deploys a token and a coordinator with test parameters, and wraps the calls that
///         tests repeat (post a batch, lease, submit, judge) so each test reads as its scenario.
abstract contract CoordinatorFixture is TestBase {
    uint96 internal constant BOND_PER_LEASE = 10 ether;
    uint96 internal constant MIN_BOND = 10 ether;
    uint96 internal constant SLASH = 5 ether;
    uint96 internal constant REWARD = 1 ether;
    uint256 internal constant PARAM_DELAY = 2 days;
    uint24 internal constant UPLOAD_DEADLINE = 60;
    uint32 internal constant UNBONDING_DELAY = 1 days;
    bytes32 internal constant CIRCUIT = keccak256("circuit");

    TestToken internal token;
    Coordinator internal coord;
    address internal owner;
    address internal relayer;
    address internal treasury;
    address internal alice;
    address internal bob;
    address internal carol;
    uint256 internal rootNonce;

    function setUp() public virtual {
        owner = makeAddr("owner");
        relayer = makeAddr("relayer");
        treasury = makeAddr("treasury");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        vm.warp(1_700_000_000);
        token = new TestToken();
        coord = _deploy(0);
        token.mint(relayer, 1_000_000 ether);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
    }

    function _deploy(uint24 minReassignAge) internal returns (Coordinator c) {
        c = new Coordinator(
            token,
            owner,
            relayer,
            treasury,
            PARAM_DELAY,
            ICoordinator.StakeParams(BOND_PER_LEASE, MIN_BOND, SLASH),
            minReassignAge,
            UPLOAD_DEADLINE,
            UNBONDING_DELAY
        );
    }

    function _nextRoot() internal returns (bytes32) {
        return keccak256(abi.encode("root", ++rootNonce));
    }

    /// @dev Posts the proving tree over `leaves` round-0 jobs at REWARD per job.
    function _post(uint24 leaves) internal returns (uint32 batchId) {
        vm.prank(relayer);
        batchId = coord.postBatch(_nextRoot(), leaves, REWARD, CIRCUIT);
    }

    /// @dev Jobs in the tree over `leaves` leaves (each level halves the one below, rounding up).
    function _treeSize(uint256 leaves) internal pure returns (uint256 size) {
        for (uint256 c = leaves; c != 0; c = (c + 1) / 2) {
            size += c;
            if (c == 1) break;
        }
    }

    /// @dev The batch's top job (its last).
    function _top(uint32 batchId) internal view returns (uint40) {
        ICoordinator.BatchInfo memory b = views(coord).batch(batchId);
        return b.firstJobId + b.jobCount - 1;
    }

    /// @dev Mints and stakes `amount` for `who`.
    function _stake(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(coord), amount);
        coord.stake(amount);
        vm.stopPrank();
    }

    /// @dev Stakes enough for `leases` leases.
    function _bond(address who, uint256 leases) internal {
        _stake(who, uint256(BOND_PER_LEASE) * leases);
    }

    function _lease(address who) internal returns (uint64 requestId, uint40 jobId) {
        vm.prank(who);
        return coord.lease();
    }

    /// @dev The request id of a job's `attempt`-th lease.
    function _rid(uint40 jobId, uint24 attempt) internal pure returns (uint64) {
        return (uint64(jobId) << 24) | attempt;
    }

    function _proofHash(uint64 requestId) internal pure returns (bytes32) {
        return keccak256(abi.encode("proof", requestId));
    }

    function _submit(address who, uint64 requestId) internal {
        vm.prank(who);
        coord.submitProof(requestId, _proofHash(requestId));
    }

    /// @dev A verdict on the submission `_submit` makes (the proof hash `_proofHash` gives).
    function _verdict(uint64 requestId, ICoordinator.VerdictResult result) internal {
        _verdict(requestId, result, _proofHash(requestId));
    }

    /// @dev A verdict on the submission of `proofHash` for `requestId`.
    function _verdict(uint64 requestId, ICoordinator.VerdictResult result, bytes32 proofHash)
        internal
    {
        (address holder,,,,) = views(coord).leaseInfo(requestId);
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vs[0] = ICoordinator.Verdict(requestId, holder, uint8(result), proofHash);
        vm.prank(relayer);
        coord.recordVerdicts(vs);
    }

    /// @dev `who` proves jobs one at a time until the batch's top is complete; returns how many.
    function _proveTree(address who, uint32 batchId) internal returns (uint256 steps) {
        while (views(coord).batch(batchId).jobsLeft != 0) {
            _prove(who);
            ++steps;
        }
    }

    /// @dev The settings in force (the verdict deadline as the last change left it).
    function _settings() internal view returns (ICoordinator.Settings memory s) {
        (ICoordinator.StakeParams memory sp, uint24 age, uint24 upload, uint32 unbonding,) =
            views(coord).params();
        (, uint256 verdict) = views(coord).deadlinesAt(block.timestamp);
        s = ICoordinator.Settings({
            stake: sp,
            minReassignAge: age,
            uploadDeadline: upload,
            unbondingDelay: unbonding,
            verdictDeadline: uint32(verdict),
            relayer: coord.relayer(),
            treasury: coord.treasury()
        });
    }

    /// @dev Announces `s` as the owner, waits out the delay and applies it.
    function _changeSettings(ICoordinator.Settings memory s) internal {
        vm.prank(owner);
        coord.proposeSettings(s);
        vm.warp(block.timestamp + coord.paramDelay());
        coord.applySettings(s);
    }

    /// @dev Changes the timings only, as `_changeSettings` does.
    function _setTimings(uint24 minReassignAge, uint24 uploadDeadline, uint32 unbondingDelay)
        internal
    {
        ICoordinator.Settings memory s = _settings();
        (s.minReassignAge, s.uploadDeadline, s.unbondingDelay) =
        (minReassignAge, uploadDeadline, unbondingDelay);
        _changeSettings(s);
    }

    /// @dev Lease, submit and judge valid: the honest life cycle of one job.
    function _prove(address who) internal returns (uint64 requestId, uint40 jobId) {
        (requestId, jobId) = _lease(who);
        _submit(who, requestId);
        _verdict(requestId, ICoordinator.VerdictResult.Valid);
    }

    function _active(address who) internal view returns (uint256 active) {
        (,,, active,,,) = views(coord).prover(who);
    }

    function _bondOf(address who) internal view returns (uint256 bond) {
        (bond,,,,,,) = views(coord).prover(who);
    }

    function _earnings(address who) internal view returns (uint256 earnings) {
        (,,,, earnings,,) = views(coord).prover(who);
    }

    function _status(uint40 jobId) internal view returns (ICoordinator.JobStatus status) {
        (status,,,,) = views(coord).job(jobId);
    }

    function _leaseState(uint64 requestId) internal view returns (ICoordinator.LeaseState state) {
        (,, state,,) = views(coord).leaseInfo(requestId);
    }

    function _pending() internal view returns (uint256 pendingJobs) {
        (, pendingJobs,,) = views(coord).queue();
    }

    function _fresh() internal view returns (uint256 freshJobs) {
        (freshJobs,,,) = views(coord).queue();
    }

    function _head() internal view returns (uint40 head) {
        (,, head,) = views(coord).queue();
    }
}
