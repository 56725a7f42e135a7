//! The shape of a batch's proving tree, fixed by its chunk count: level 0 holds one job per
//! chunk; each level above joins pairs, and the last node of an odd level has one child. Any
//! chunk count reduces to one final proof at level `ceil(log2(chunks))`, with no padding jobs.
//! And the keccak Merkle tree over a batch's job leaves, whose root the batch posts on-chain.

use crate::hash::keccak256;

/// The tree over `chunks` round-0 jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeShape {
    chunks: u32,
}

/// One job of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeNode {
    /// 0 for chunks; the aggregation level otherwise.
    pub level: u8,
    /// Position within the level.
    pub index: u32,
    /// For aggregation nodes, the indices of the left and (if any) right child one level down.
    pub children: Option<(u32, Option<u32>)>,
    /// First chunk covered.
    pub range_start: u32,
    /// One past the last chunk covered.
    pub range_end: u32,
}

impl TreeShape {
    /// The tree over `chunks` chunks; `None` for zero.
    pub fn new(chunks: u32) -> Option<TreeShape> {
        (chunks > 0).then_some(TreeShape { chunks })
    }

    /// Number of chunks.
    pub fn chunks(&self) -> u32 {
        self.chunks
    }

    /// The top level, `ceil(log2(chunks))`, as the contract computes it.
    pub fn height(&self) -> u8 {
        (u32::BITS - (self.chunks - 1).leading_zeros()) as u8
    }

    /// Number of jobs at `level` (0 above the top).
    pub fn nodes_at(&self, level: u8) -> u32 {
        if level > self.height() {
            return 0;
        }
        let span = 1u64 << level;
        u64::from(self.chunks).div_ceil(span) as u32
    }

    /// Total number of jobs in the tree.
    pub fn job_count(&self) -> u32 {
        (0..=self.height()).map(|l| self.nodes_at(l)).sum()
    }

    /// The job at (`level`, `index`); `None` if there is none.
    pub fn node(&self, level: u8, index: u32) -> Option<TreeNode> {
        if index >= self.nodes_at(level) {
            return None;
        }
        let span = 1u64 << level;
        let start = u64::from(index) * span;
        let end = (start + span).min(u64::from(self.chunks));
        let children = (level > 0).then(|| {
            let left = 2 * index;
            let right = 2 * index + 1;
            (left, (right < self.nodes_at(level - 1)).then_some(right))
        });
        Some(TreeNode {
            level,
            index,
            children,
            range_start: start as u32,
            range_end: end as u32,
        })
    }

    /// The index in the batch of node `index` of `level` (leaves first, then each level up).
    pub fn index_of(&self, level: u8, index: u32) -> Option<u32> {
        (index < self.nodes_at(level))
            .then(|| (0..level).map(|l| self.nodes_at(l)).sum::<u32>() + index)
    }

    /// The node at `index` in the batch; `None` past the top.
    pub fn locate(&self, index: u32) -> Option<TreeNode> {
        let mut offset = 0;
        for level in 0..=self.height() {
            let n = self.nodes_at(level);
            if index < offset + n {
                return self.node(level, index - offset);
            }
            offset += n;
        }
        None
    }

    /// The batch indices of the children of the node at `index` (none for a leaf).
    pub fn children_of(&self, index: u32) -> Vec<u32> {
        let Some(node) = self.locate(index) else {
            return Vec::new();
        };
        let Some((left, right)) = node.children else {
            return Vec::new();
        };
        [Some(left), right]
            .into_iter()
            .flatten()
            .filter_map(|c| self.index_of(node.level - 1, c))
            .collect()
    }

    /// The batch index of the parent of the node at `index` (`None` for the top or past it).
    pub fn parent_of(&self, index: u32) -> Option<u32> {
        let node = self.locate(index)?;
        if node.level == self.height() {
            return None;
        }
        self.index_of(node.level + 1, node.index / 2)
    }

    /// Every job, level by level from the chunks up.
    pub fn jobs(&self) -> impl Iterator<Item = TreeNode> + '_ {
        (0..=self.height())
            .flat_map(move |l| (0..self.nodes_at(l)).filter_map(move |i| self.node(l, i)))
    }
}

/// The keccak Merkle tree over a batch's job leaves. A node is `keccak256(left ‖ right)`; a
/// level with an odd count pairs its last node with zero bytes32. One leaf is its own root.
#[derive(Clone, Debug)]
pub struct JobTree {
    levels: Vec<Vec<[u8; 32]>>,
}

impl JobTree {
    /// The tree over `leaves` (at least one).
    pub fn new(leaves: Vec<[u8; 32]>) -> JobTree {
        assert!(!leaves.is_empty(), "a batch has at least one job");
        let mut levels = vec![leaves];
        while levels.last().expect("non-empty").len() > 1 {
            let below = levels.last().expect("non-empty");
            let next = below
                .chunks(2)
                .map(|pair| node(&pair[0], pair.get(1).unwrap_or(&[0; 32])))
                .collect();
            levels.push(next);
        }
        JobTree { levels }
    }

    /// The root posted on-chain.
    pub fn root(&self) -> [u8; 32] {
        self.levels.last().expect("non-empty")[0]
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether the tree has no leaves (never: see [`JobTree::new`]).
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: usize) -> Option<[u8; 32]> {
        self.levels[0].get(index).copied()
    }

    /// The sibling path of leaf `index`, leaf level first.
    pub fn path(&self, index: usize) -> Option<Vec<[u8; 32]>> {
        if index >= self.len() {
            return None;
        }
        let mut path = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            path.push(level.get(i ^ 1).copied().unwrap_or([0; 32]));
            i /= 2;
        }
        Some(path)
    }

    /// Whether `leaf` sits at `index` under `root` with this `path`.
    pub fn verify(leaf: [u8; 32], index: u64, path: &[[u8; 32]], root: [u8; 32]) -> bool {
        if path.len() >= 64 || index >> path.len() != 0 {
            return false;
        }
        let mut acc = leaf;
        for (level, sibling) in path.iter().enumerate() {
            acc = if (index >> level) & 1 == 1 {
                node(sibling, &acc)
            } else {
                node(&acc, sibling)
            };
        }
        acc == root
    }
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    keccak256(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_proves_against_the_root() {
        for n in [1usize, 2, 3, 5, 8, 13] {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| keccak256(&[i as u8])).collect();
            let tree = JobTree::new(leaves.clone());
            for (i, leaf) in leaves.iter().enumerate() {
                let path = tree.path(i).unwrap();
                assert!(
                    JobTree::verify(*leaf, i as u64, &path, tree.root()),
                    "n={n} i={i}"
                );
                assert!(!JobTree::verify(*leaf, (i as u64) ^ 1, &path, tree.root()) || n == 1);
            }
            assert!(tree.path(n).is_none());
        }
        let one = JobTree::new(vec![[7; 32]]);
        assert_eq!(one.root(), [7; 32]);
        assert!(
            !JobTree::verify([7; 32], 1, &[], [7; 32]),
            "index beyond the path"
        );
    }

    #[test]
    fn batch_indices_walk_the_tree_level_by_level() {
        // The contract's `_parentOf` walks the same layout; its forge fuzz test re-derives it.
        for n in [1u32, 2, 3, 5, 8, 13, 64, 1000] {
            let t = TreeShape::new(n).unwrap();
            let all: Vec<TreeNode> = t.jobs().collect();
            assert_eq!(all.len() as u32, t.job_count());
            let mut parents = vec![0u32; all.len()];
            for (i, node) in all.iter().enumerate() {
                assert_eq!(t.locate(i as u32), Some(*node), "n={n} i={i}");
                assert_eq!(t.index_of(node.level, node.index), Some(i as u32));
                for c in t.children_of(i as u32) {
                    assert!(c < i as u32, "a child comes before its parent");
                    assert_eq!(
                        t.parent_of(c),
                        Some(i as u32),
                        "n={n}: parent_of inverts it"
                    );
                    assert_eq!(t.locate(c).unwrap().level + 1, node.level);
                    parents[c as usize] += 1;
                }
            }
            let top = t.job_count() - 1;
            assert_eq!(t.locate(top).unwrap().level, t.height());
            assert!(t.locate(top + 1).is_none());
            assert_eq!(t.parent_of(top), None, "the top has no parent");
            for (i, p) in parents.iter().enumerate() {
                assert_eq!(
                    *p,
                    u32::from(i as u32 != top),
                    "n={n}: node {i} has one parent"
                );
            }
            assert!(t.children_of(0).is_empty(), "a leaf has no children");
        }
    }

    #[test]
    fn heights_match_ceil_log2() {
        let cases = [
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (8, 3),
            (9, 4),
            (17_188, 15),
        ];
        for (chunks, h) in cases {
            assert_eq!(
                TreeShape::new(chunks).unwrap().height(),
                h,
                "{chunks} chunks"
            );
        }
        assert!(TreeShape::new(0).is_none());
    }

    #[test]
    fn five_chunks_make_three_levels_with_single_child_nodes() {
        let t = TreeShape::new(5).unwrap();
        assert_eq!(
            (0..=3).map(|l| t.nodes_at(l)).collect::<Vec<_>>(),
            [5, 3, 2, 1]
        );
        assert_eq!(t.job_count(), 11);
        let last = t.node(1, 2).unwrap();
        assert_eq!(
            last.children,
            Some((4, None)),
            "the odd chunk goes up alone"
        );
        assert_eq!((last.range_start, last.range_end), (4, 5));
        let top = t.node(3, 0).unwrap();
        assert_eq!(
            (top.range_start, top.range_end, top.children),
            (0, 5, Some((0, Some(1))))
        );
    }
}
