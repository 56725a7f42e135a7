// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken: the devnet's reward and bond token
/// @notice Anyone may mint: it stands in for a real token on anvil and testnets only.
contract TestToken is ERC20 {
    /// @notice Creates the token with a name that says what it is.
    constructor() ERC20("CrowdProve Test Token", "CPT") {}

    /// @notice Mints `amount` to `to`; a faucet for devnets.
    /// @param to Receiver.
    /// @param amount Amount in wei units (18 decimals).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
