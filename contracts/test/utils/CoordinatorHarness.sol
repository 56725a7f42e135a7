// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Coordinator} from "../../Coordinator.sol";

/// @notice The Coordinator with its tree arithmetic exposed, so that fuzz tests can compare it
///         with TreeModel directly, for trees far larger than any test could post and drive.
contract CoordinatorHarness is Coordinator {
    constructor(IERC20 token_, address owner_, address relayer_, address treasury_)
        Coordinator(token_, owner_, relayer_, treasury_, 1 days, StakeParams(1, 1, 1), 0, 60, 0)
    {}

    /// @notice `_treeSize`.
    function treeSize(uint256 leaves) external pure returns (uint256) {
        return _treeSize(leaves);
    }

    /// @notice `_parentOf`.
    function parentOf(uint256 index, uint256 leaves)
        external
        pure
        returns (uint256 parent, uint256 children, uint256 sibling)
    {
        return _parentOf(index, leaves);
    }
}
