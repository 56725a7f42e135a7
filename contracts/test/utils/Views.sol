// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Coordinator} from "../../Coordinator.sol";
import {ICoordinatorViews} from "../../ICoordinator.sol";

/// @notice The views of `c`, which it serves through its fallback (see CoordinatorViews).
/// @param c The coordinator.
/// @return Its views, at its own address.
function views(Coordinator c) pure returns (ICoordinatorViews) {
    return ICoordinatorViews(address(c));
}
