// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Minimal console: forge prints what is sent to its console address under "Logs:".
library Console {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    /// @notice Prints a line.
    function log(string memory line) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string)", line));
        ok;
    }

    /// @notice Prints "label value".
    function log(string memory label, uint256 value) internal view {
        (bool ok,) =
            CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }
}
