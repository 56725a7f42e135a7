// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The proving tree's shape, rebuilt level by level from its definition (ICoordinator's
///         BatchInfo) and independently of the Coordinator's arithmetic, so that tests can check
///         the contract against it: the `leaves` round-0 jobs are indices 0..leaves-1, then
///         each level bottom up, level l+1 having ceil(n_l / 2) nodes, node k of it aggregating
///         nodes 2k and 2k+1 of level l (2k alone at an odd level's end); the last index is the
///         top.
library TreeModel {
    /// @notice A tree as explicit arrays (indices are positions within the batch).
    struct Tree {
        uint256 leaves;
        uint256 size;
        /// Per index: its parent's index (the top's is `size`, i.e. none).
        uint256[] parent;
        /// Per index: how many children it has (0 for a leaf).
        uint256[] children;
        /// Per index: its first child's index (meaningless for a leaf).
        uint256[] firstChild;
        /// Per index: its level (0 for leaves).
        uint256[] level;
    }

    /// @notice The number of nodes on each level, leaves first, top last.
    function levelSizes(uint256 leaves) internal pure returns (uint256[] memory sizes) {
        uint256 height = 1;
        for (uint256 n = leaves; n > 1; n = n - n / 2) {
            ++height;
        }
        sizes = new uint256[](height);
        sizes[0] = leaves;
        for (uint256 l = 1; l < height; ++l) {
            // ceil(n / 2) written as n - floor(n / 2): the same value, a different expression
            sizes[l] = sizes[l - 1] - sizes[l - 1] / 2;
        }
    }

    /// @notice Builds the tree over `leaves` leaves (at least 1) by assigning each node of each
    ///         level its children, then reading the parents off those assignments.
    function build(uint256 leaves) internal pure returns (Tree memory t) {
        uint256[] memory sizes = levelSizes(leaves);
        uint256 size;
        for (uint256 l; l < sizes.length; ++l) {
            size += sizes[l];
        }
        t.leaves = leaves;
        t.size = size;
        t.parent = new uint256[](size);
        t.children = new uint256[](size);
        t.firstChild = new uint256[](size);
        t.level = new uint256[](size);
        t.parent[size - 1] = size; // the top has none
        uint256 below; // index of the first node of the level below
        uint256 start = sizes[0]; // index of the first node of this level
        for (uint256 l = 1; l < sizes.length; ++l) {
            for (uint256 k; k < sizes[l]; ++k) {
                uint256 node = start + k;
                t.level[node] = l;
                uint256 left = below + 2 * k;
                t.firstChild[node] = left;
                t.children[node] = 1;
                t.parent[left] = node;
                if (2 * k + 1 < sizes[l - 1]) {
                    t.children[node] = 2;
                    t.parent[left + 1] = node;
                }
            }
            below = start;
            start += sizes[l];
        }
    }

    /// @notice The parent of node `index` and how many children that parent has, or
    ///         (size, 0) for the top, from the level sizes alone (no arrays of `size` entries,
    ///         so it serves trees of up to 2^20 jobs).
    function parentOf(uint256 leaves, uint256 index)
        internal
        pure
        returns (uint256 parent, uint256 children)
    {
        uint256[] memory sizes = levelSizes(leaves);
        uint256 start; // first index of level l
        for (uint256 l; l < sizes.length; ++l) {
            if (index < start + sizes[l]) {
                if (l + 1 == sizes.length) return (start + sizes[l], 0);
                uint256 k = (index - start) / 2; // position of the parent on level l + 1
                uint256 pair = 2 * k + 1 < sizes[l] ? 2 : 1;
                return (start + sizes[l] + k, pair);
            }
            start += sizes[l];
        }
        revert("index past the tree");
    }
}
