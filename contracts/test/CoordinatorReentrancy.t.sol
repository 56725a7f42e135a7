// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./utils/TestBase.sol";
import {Coordinator} from "../Coordinator.sol";
import {views} from "./utils/Views.sol";
import {ICoordinator} from "../ICoordinator.sol";
import {CallbackToken, ITransferHook} from "./mocks/CallbackToken.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice A prover contract that, whenever the token calls it back, tries to re-enter the
///         Coordinator's money paths and counts what got through.
contract Reenterer is ITransferHook {
    Coordinator internal immutable coord;
    CallbackToken internal immutable token;
    /// @notice Re-entrant calls that succeeded (must stay 0).
    uint256 public entered;
    /// @notice Re-entrant calls that were refused.
    uint256 public refused;
    bool internal armed;

    constructor(Coordinator coord_, CallbackToken token_) {
        coord = coord_;
        token = token_;
        token_.hookMe();
        token_.approve(address(coord_), type(uint256).max);
    }

    /// @notice Acts as a prover.
    function act(bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = address(coord).call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// @notice Turns re-entry attempts on.
    function arm() external {
        armed = true;
    }

    /// @inheritdoc ITransferHook
    function onTokenTransfer(address, address, uint256) external {
        if (!armed || msg.sender != address(token)) return;
        armed = false; // one round of attempts per move
        _try(abi.encodeCall(ICoordinator.withdrawEarnings, ()));
        _try(abi.encodeCall(ICoordinator.withdrawUnstaked, ()));
        _try(abi.encodeCall(ICoordinator.stake, (1 ether)));
        _try(abi.encodeCall(ICoordinator.sweepSlashed, ()));
        armed = true;
    }

    function _try(bytes memory data) internal {
        (bool ok,) = address(coord).call(data);
        if (ok) entered += 1;
        else refused += 1;
    }
}

/// @notice The Coordinator with a token that calls back on transfer: no money path can be
///         re-entered, and the books stay balanced.
contract CoordinatorReentrancyTest is TestBase {
    CallbackToken internal token;
    Coordinator internal coord;
    Reenterer internal attacker;
    address internal relayer;

    function setUp() public {
        relayer = makeAddr("relayer");
        token = new CallbackToken();
        coord = new Coordinator(
            IERC20(address(token)),
            makeAddr("owner"),
            relayer,
            makeAddr("treasury"),
            2 days,
            ICoordinator.StakeParams(10 ether, 10 ether, 5 ether),
            0,
            60,
            1 days
        );
        attacker = new Reenterer(coord, token);
        token.mint(address(attacker), 100 ether);
        token.mint(relayer, 100 ether);
        vm.prank(relayer);
        token.approve(address(coord), type(uint256).max);
    }

    function test_Reentrancy_MoneyPathsCannotBeReentered() public {
        attacker.act(abi.encodeCall(ICoordinator.stake, (40 ether)));
        vm.prank(relayer);
        coord.postBatch(keccak256("r"), 2, 3 ether, "c"); // a tree of 3 jobs: 9 ether escrowed
        bytes memory ret = attacker.act(abi.encodeCall(ICoordinator.lease, ()));
        (uint64 rid,) = abi.decode(ret, (uint64, uint40));
        attacker.act(abi.encodeCall(ICoordinator.submitProof, (rid, keccak256("p"))));
        ICoordinator.Verdict[] memory vs = new ICoordinator.Verdict[](1);
        vs[0] = ICoordinator.Verdict(rid, address(attacker), 1, keccak256("p"));
        vm.prank(relayer);
        coord.recordVerdicts(vs);
        attacker.act(abi.encodeCall(ICoordinator.requestUnstake, (20 ether)));
        vm.warp(block.timestamp + 1 days);

        attacker.arm();
        attacker.act(abi.encodeCall(ICoordinator.withdrawEarnings, ()));
        attacker.act(abi.encodeCall(ICoordinator.withdrawUnstaked, ()));
        attacker.act(abi.encodeCall(ICoordinator.stake, (5 ether)));

        vm.assertEq(attacker.entered(), 0, "a re-entrant call went through");
        vm.assertGt(attacker.refused(), 0, "the token did call back");
        vm.assertEq(
            token.balanceOf(address(attacker)),
            100 ether - 40 ether + 3 ether + 20 ether - 5 ether,
            "paid once each"
        );
        (uint256 bond,,,, uint256 earnings,,) = views(coord).prover(address(attacker));
        vm.assertEq(bond, 25 ether, "bond");
        vm.assertEq(earnings, 0, "earnings withdrawn once");
        vm.assertEq(
            token.balanceOf(address(coord)),
            bond + coord.totalEscrow() + coord.slashedOwed(),
            "books balanced"
        );
    }
}
