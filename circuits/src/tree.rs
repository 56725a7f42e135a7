//! The shape of a batch's proving tree, fixed by its chunk count: level 0 holds one job per
//! chunk; each level above joins pairs, and the last node of an odd level has one child. Any
//! chunk count reduces to one final proof at level `ceil(log2(chunks))`, with no padding jobs.

use crate::statement::Statement;

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

    /// Every job, level by level from the chunks up.
    pub fn jobs(&self) -> impl Iterator<Item = TreeNode> + '_ {
        (0..=self.height())
            .flat_map(move |l| (0..self.nodes_at(l)).filter_map(move |i| self.node(l, i)))
    }

    /// The statement every job must prove, level by level, from the chunks' statements.
    /// `None` if there are not `chunks` of them or they do not join up.
    pub fn statements(&self, chunks: &[Statement]) -> Option<Vec<Vec<Statement>>> {
        if chunks.len() != self.chunks as usize {
            return None;
        }
        let mut levels = vec![chunks.to_vec()];
        for level in 1..=self.height() {
            let below = &levels[level as usize - 1];
            let row = (0..self.nodes_at(level))
                .map(|i| {
                    let (l, r) = self.node(level, i)?.children?;
                    Statement::aggregate(&below[l as usize], r.map(|r| &below[r as usize]))
                })
                .collect::<Option<Vec<_>>>()?;
            levels.push(row);
        }
        Some(levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Digest;

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

    #[test]
    fn statements_reduce_to_the_outer_roots() {
        let roots: Vec<Digest> = (0..8).map(|i| Digest([i, 0, 0, 0])).collect();
        let chunks: Vec<Statement> = (0..7)
            .map(|i| Statement {
                pre_root: roots[i],
                post_root: roots[i + 1],
                commitment: Digest([100 + i as u64, 0, 0, 0]),
                range_start: i as u32,
                range_end: i as u32 + 1,
            })
            .collect();
        let t = TreeShape::new(7).unwrap();
        let levels = t.statements(&chunks).unwrap();
        let top = levels.last().unwrap()[0];
        assert_eq!((top.pre_root, top.post_root), (roots[0], roots[7]));
        assert_eq!((top.range_start, top.range_end), (0, 7));
        let mut broken = chunks.clone();
        broken[3].pre_root = Digest([99, 0, 0, 0]);
        assert!(
            t.statements(&broken).is_none(),
            "a gap in the roots does not join"
        );
    }
}
