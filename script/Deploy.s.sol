// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Coordinator} from "../contracts/Coordinator.sol";
import {ICoordinator} from "../contracts/ICoordinator.sol";
import {TestToken} from "../contracts/devnet/TestToken.sol";
import {VM} from "../contracts/test/utils/Vm.sol";

/// @title Deploy: deploys the Coordinator (and, without TOKEN, a devnet test token)
/// @notice Configured by environment variables (defaults in brackets):
///         PRIVATE_KEY (required), TOKEN [deploy TestToken], OWNER [deployer],
///         RELAYER [deployer], TREASURY [owner], PARAM_DELAY [86400],
///         BOND_PER_LEASE [10e18], MIN_BOND [BOND_PER_LEASE], SLASH_AMOUNT [BOND_PER_LEASE / 2],
///         MIN_REASSIGN_AGE [0], UPLOAD_DEADLINE [120], UNBONDING_DELAY [PARAM_DELAY].
///         Run: forge script script/Deploy.s.sol --rpc-url $RPC_URL --broadcast
contract Deploy {
    using SafeCast for uint256;

    /// @notice Deploys from the environment and returns what it deployed.
    /// @return coord The Coordinator.
    /// @return token The token it pays in.
    function run() external returns (Coordinator coord, IERC20 token) {
        uint256 key = VM.envUint("PRIVATE_KEY");
        address deployer = VM.addr(key);
        address owner = VM.envOr("OWNER", deployer);
        uint256 paramDelay = VM.envOr("PARAM_DELAY", uint256(1 days));
        uint256 bondPerLease = VM.envOr("BOND_PER_LEASE", uint256(10 ether));
        ICoordinator.StakeParams memory sp = ICoordinator.StakeParams({
            bondPerLease: bondPerLease.toUint96(),
            minBond: VM.envOr("MIN_BOND", bondPerLease).toUint96(),
            slashAmount: VM.envOr("SLASH_AMOUNT", bondPerLease / 2).toUint96()
        });

        VM.startBroadcast(key);
        token = IERC20(VM.envOr("TOKEN", address(0)));
        if (address(token) == address(0)) token = IERC20(address(new TestToken()));
        coord = new Coordinator(
            token,
            owner,
            VM.envOr("RELAYER", deployer),
            VM.envOr("TREASURY", owner),
            paramDelay,
            sp,
            VM.envOr("MIN_REASSIGN_AGE", uint256(0)).toUint24(),
            VM.envOr("UPLOAD_DEADLINE", uint256(120)).toUint24(),
            VM.envOr("UNBONDING_DELAY", paramDelay).toUint32()
        );
        VM.stopBroadcast();
    }
}
