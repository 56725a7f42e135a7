// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Receives a call before and after each of its token moves (like ERC-777 hooks).
interface ITransferHook {
    /// @notice Called on the sender before tokens leave it and on the receiver after.
    function onTokenTransfer(address from, address to, uint256 amount) external;
}

/// @notice A token that calls back into sender and receiver on every move, so tests can check
///         that the Coordinator is safe against re-entry through its token.
contract CallbackToken is ERC20 {
    /// @notice Accounts that asked to be called back.
    mapping(address => bool) public hooked;

    constructor() ERC20("Callback", "CB") {}

    /// @notice The caller asks to be called on each of its token moves.
    function hookMe() external {
        hooked[msg.sender] = true;
    }

    /// @notice Test faucet.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 amount) internal override {
        if (hooked[from]) {
            ITransferHook(from).onTokenTransfer(from, to, amount);
        }
        super._update(from, to, amount);
        if (hooked[to]) {
            ITransferHook(to).onTokenTransfer(from, to, amount);
        }
    }
}
