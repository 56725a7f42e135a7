// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./utils/TestBase.sol";
import {Deploy} from "../../script/Deploy.s.sol";
import {Coordinator} from "../Coordinator.sol";
import {views} from "./utils/Views.sol";
import {ICoordinator} from "../ICoordinator.sol";
import {TestToken} from "../devnet/TestToken.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Runs script/Deploy.s.sol as `forge script` would and checks what it deployed.
contract DeployTest is TestBase {
    uint256 internal constant KEY = 0xA11CE;

    function setUp() public {
        vm.setEnv("PRIVATE_KEY", vm.toString(bytes32(KEY)));
    }

    function test_Deploy_DefaultsThenEnvironment() public {
        (Coordinator coord, IERC20 token) = new Deploy().run();
        address deployer = vm.addr(KEY);
        // EIP-170: a chain refuses runtime code over 24,576 bytes, which forge's tests ignore.
        vm.assertLe(address(coord).code.length, 24_576, "the Coordinator fits a real chain");
        vm.assertEq(address(coord.token()), address(token), "token wired");
        vm.assertEq(coord.owner(), deployer, "owner defaults to the deployer");
        vm.assertEq(coord.relayer(), deployer, "relayer defaults to the deployer");
        vm.assertEq(coord.treasury(), deployer, "treasury defaults to the owner");
        vm.assertEq(coord.paramDelay(), 1 days, "param delay");
        (ICoordinator.StakeParams memory sp, uint24 age, uint24 deadline, uint32 unbonding,) =
            views(coord).params();
        vm.assertEq(sp.bondPerLease, 10 ether, "bond per lease");
        vm.assertEq(sp.minBond, 10 ether, "min bond");
        vm.assertEq(sp.slashAmount, 5 ether, "slash");
        vm.assertEq(age, 0, "pure LRP");
        vm.assertEq(deadline, 120, "upload deadline");
        vm.assertEq(unbonding, 1 days, "unbonding");
        TestToken(address(token)).mint(address(this), 1); // the devnet token is a faucet

        // The process environment is shared by tests running in parallel, so the configured
        // run happens here, after the defaults were checked.
        _deployFromEnvironment();
    }

    function _deployFromEnvironment() internal {
        TestToken existing = new TestToken();
        address relayer = makeAddr("relayer");
        vm.setEnv("TOKEN", vm.toString(address(existing)));
        vm.setEnv("RELAYER", vm.toString(relayer));
        vm.setEnv("PARAM_DELAY", "7200");
        vm.setEnv("BOND_PER_LEASE", "2000000000000000000");
        vm.setEnv("MIN_REASSIGN_AGE", "30");
        vm.setEnv("UPLOAD_DEADLINE", "60");
        vm.setEnv("UNBONDING_DELAY", "3600");
        (Coordinator coord, IERC20 token) = new Deploy().run();
        vm.assertEq(address(token), address(existing), "uses the given token");
        vm.assertEq(coord.relayer(), relayer, "relayer");
        (ICoordinator.StakeParams memory sp, uint24 age, uint24 deadline, uint32 unbonding,) =
            views(coord).params();
        vm.assertEq(sp.bondPerLease, 2 ether, "bond per lease");
        vm.assertEq(sp.slashAmount, 1 ether, "slash defaults to half a lease's bond");
        vm.assertEq(age, 30, "age");
        vm.assertEq(deadline, 60, "deadline");
        vm.assertEq(unbonding, 3600, "unbonding");
        vm.assertEq(coord.paramDelay(), 7200, "param delay");
    }
}
