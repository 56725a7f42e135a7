// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm, VM} from "./Vm.sol";

/// @notice The small part of forge-std's Test that our tests need: `vm`, `bound`, `makeAddr`
///         and `console`-free logging through events.
abstract contract TestBase {
    /// @notice Foundry's cheatcodes.
    Vm internal constant vm = VM;

    /// @notice Printed by forge with -vv (a `log_string` event, which forge decodes as a log).
    event log_string(string);
    /// @notice Printed by forge with -vv as "key: value".
    event log_named_uint(string key, uint256 val);

    /// @notice Maps any `x` into [min, max] without skewing fuzz inputs toward the bounds much.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // full uint256 range
        return min + (x % size);
    }

    /// @notice Storage slot of the Coordinator's `_provers` mapping (`forge inspect Coordinator
    ///         storageLayout`); the id has no view of its own (the contract is short of bytes).
    uint256 internal constant PROVERS_SLOT = 16;

    /// @notice The id `account` got at its first stake on `coordinator` (0 if it never staked):
    ///         bits 184-207 of its prover word.
    function proverIdOf(address coordinator, address account) internal view returns (uint24) {
        bytes32 slot = keccak256(abi.encode(account, PROVERS_SLOT));
        return uint24(uint256(vm.load(coordinator, slot)) >> 184);
    }

    /// @notice A labelled address derived from `name`.
    function makeAddr(string memory name) internal returns (address a) {
        a = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(a, name);
    }
}
