//! Where round-0 jobs come from: a trait, the demo rollup's seeded sequencer, and a directory
//! into which an external rollup drops its chunk witnesses (format in docs/operator.md), so a
//! real rollup plugs in without code.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};

use crowdprove_circuits::{ChunkWitness, Sequencer};
use crowdprove_protocol::{ParamSet, Statement};

/// A batch of chunks from a source, each chunk one round-0 job.
#[derive(Clone, Debug)]
pub struct SourceBatch {
    /// A name for logs.
    pub label: String,
    /// The chunks, in order: chunk i's post-state root is chunk i+1's pre-state root.
    pub chunks: Vec<ChunkWitness>,
}

impl SourceBatch {
    /// Checks that the chunks are of `set`, numbered 0.., and chain their roots; returns their
    /// statements.
    pub fn statements(&self, set: ParamSet) -> anyhow::Result<Vec<Statement>> {
        ensure!(
            !self.chunks.is_empty(),
            "batch {} has no chunks",
            self.label
        );
        let mut out: Vec<Statement> = Vec::with_capacity(self.chunks.len());
        for (i, c) in self.chunks.iter().enumerate() {
            ensure!(
                c.chunk_index as usize == i,
                "batch {}: chunk {i} says it is chunk {}",
                self.label,
                c.chunk_index
            );
            let s = c
                .statement(set)
                .with_context(|| format!("batch {}: chunk {i}", self.label))?;
            if let Some(prev) = out.last() {
                ensure!(
                    prev.post_root == s.pre_root,
                    "batch {}: chunk {i} does not start where chunk {} ends",
                    self.label,
                    i - 1
                );
            }
            out.push(s);
        }
        Ok(out)
    }
}

/// A source of round-0 batches.
pub trait JobSource: Send {
    /// The next batch, or `None` when there is none (yet).
    fn next_batch(&mut self) -> anyhow::Result<Option<SourceBatch>>;
}

/// The demo rollup: a seeded sequencer producing `chunks` chunks per batch, `limit` batches in
/// all (0 = no limit). The same seed gives the same batches, so a restarted relayer finds the
/// batches it already posted by their roots.
pub struct DemoSource {
    sequencer: Sequencer,
    chunks: u32,
    limit: u64,
    made: u64,
}

impl DemoSource {
    /// A demo source.
    pub fn new(set: ParamSet, seed: u64, chunks: u32, limit: u64) -> DemoSource {
        DemoSource {
            sequencer: Sequencer::new(set, seed),
            chunks,
            limit,
            made: 0,
        }
    }
}

impl JobSource for DemoSource {
    fn next_batch(&mut self) -> anyhow::Result<Option<SourceBatch>> {
        if self.limit != 0 && self.made >= self.limit {
            return Ok(None);
        }
        self.made += 1;
        let batch = self.sequencer.next_batch(self.chunks);
        Ok(Some(SourceBatch {
            label: format!("demo-{}", self.made),
            chunks: batch.chunks,
        }))
    }
}

/// A directory of batches: each batch is a subdirectory holding `chunk-<i>.witness` files (the
/// chunk witness encoding) and, written last, an empty `READY` file. Batches are taken in name
/// order; a batch is read once per process.
pub struct DirectorySource {
    dir: PathBuf,
    done: std::collections::BTreeSet<String>,
}

impl DirectorySource {
    /// A source reading `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> DirectorySource {
        DirectorySource {
            dir: dir.into(),
            done: Default::default(),
        }
    }

    fn read_batch(path: &Path, label: &str) -> anyhow::Result<SourceBatch> {
        let mut files: Vec<(u32, PathBuf)> = Vec::new();
        for entry in
            std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(i) = name
                .strip_prefix("chunk-")
                .and_then(|r| r.strip_suffix(".witness"))
            {
                let i: u32 = i
                    .parse()
                    .with_context(|| format!("{label}: bad chunk file name {name}"))?;
                files.push((i, entry.path()));
            }
        }
        files.sort();
        if files.is_empty() {
            bail!("{label}: no chunk-<i>.witness files");
        }
        let chunks = files
            .iter()
            .map(|(_, p)| {
                let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                ChunkWitness::decode(&bytes).with_context(|| format!("{}", p.display()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(SourceBatch {
            label: label.to_string(),
            chunks,
        })
    }
}

impl JobSource for DirectorySource {
    fn next_batch(&mut self) -> anyhow::Result<Option<SourceBatch>> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("reading the job directory {}", self.dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("READY").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !self.done.contains(n))
            .collect();
        names.sort();
        let Some(name) = names.into_iter().next() else {
            return Ok(None);
        };
        self.done.insert(name.clone());
        Self::read_batch(&self.dir.join(&name), &name).map(Some)
    }
}

/// Writes a batch in the directory source's format (for rollups and tests).
pub fn write_batch_dir(dir: &Path, name: &str, chunks: &[ChunkWitness]) -> std::io::Result<()> {
    let path = dir.join(name);
    std::fs::create_dir_all(&path)?;
    for c in chunks {
        std::fs::write(
            path.join(format!("chunk-{:05}.witness", c.chunk_index)),
            c.encode(),
        )?;
    }
    std::fs::write(path.join("READY"), b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_source_reads_ready_batches_in_order_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut seq = Sequencer::new(ParamSet::Small, 3);
        let a = seq.next_batch(2);
        let b = seq.next_batch(1);
        write_batch_dir(dir.path(), "0002-b", &b.chunks).unwrap();
        write_batch_dir(dir.path(), "0001-a", &a.chunks).unwrap();
        std::fs::create_dir_all(dir.path().join("0003-not-ready")).unwrap();
        let mut src = DirectorySource::new(dir.path());
        let first = src.next_batch().unwrap().unwrap();
        assert_eq!(first.label, "0001-a");
        assert_eq!(first.statements(ParamSet::Small).unwrap().len(), 2);
        assert_eq!(src.next_batch().unwrap().unwrap().label, "0002-b");
        assert!(src.next_batch().unwrap().is_none());
    }

    #[test]
    fn statements_refuse_chunks_that_do_not_chain() {
        let mut seq = Sequencer::new(ParamSet::Small, 4);
        let a = seq.next_batch(1).chunks.remove(0);
        let mut b = seq.next_batch(1).chunks.remove(0);
        let _ = seq.next_batch(1);
        b.chunk_index = 1;
        let ok = SourceBatch {
            label: "ok".into(),
            chunks: vec![a.clone(), b.clone()],
        };
        assert!(ok.statements(ParamSet::Small).is_ok());
        let swapped = SourceBatch {
            label: "x".into(),
            chunks: vec![b, a],
        };
        assert!(swapped.statements(ParamSet::Small).is_err());
    }
}
