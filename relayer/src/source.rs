//! Where round-0 jobs come from: a trait, the demo rollup's seeded sequencer, a directory
//! into which an external rollup drops its chunk witnesses, and an operator's PostgreSQL job
//! queue (formats in docs/operator.md), so a real rollup plugs in without code.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{Context, bail, ensure};

use crowdprove_circuits::{ChunkWitness, Sequencer};
use crowdprove_protocol::{ParamSet, Statement};

use crowdprove_circuits::registry::{Entry, External, ExternalError, Registry};

use crate::pg_queue::{PgQueue, QueuedJob};

/// A batch of chunks from a source, each chunk one round-0 job.
#[derive(Clone, Debug)]
pub struct SourceBatch {
    /// A name for logs.
    pub label: String,
    /// The chunks, in order: chunk i's post-state root is chunk i+1's pre-state root.
    pub chunks: Vec<ChunkWitness>,
    /// The operator's job rows the chunks came from, in the same order (a PostgreSQL
    /// source's; empty for the others): results are written back to them.
    pub rows: Vec<i64>,
    /// Instead of chunks, one job of an external circuit (see
    /// `crowdprove_circuits::registry`): a batch of a single leaf.
    pub foreign: Option<ForeignLeaf>,
}

/// A job of an external circuit: opaque witness bytes and what they prove.
#[derive(Clone, Debug)]
pub struct ForeignLeaf {
    /// The circuit id its batch carries.
    pub circuit: [u8; 32],
    /// The witness, as its prover reads it.
    pub witness: Vec<u8>,
    /// What it proves (from the registry's `statement` command).
    pub statement: Statement,
}

impl SourceBatch {
    /// Checks that the chunks are of `set`, numbered 0.., and chain their roots; returns their
    /// statements.
    pub fn statements(&self, set: ParamSet) -> anyhow::Result<Vec<Statement>> {
        if let Some(f) = &self.foreign {
            ensure!(
                self.chunks.is_empty(),
                "batch {}: one external job, no chunks",
                self.label
            );
            return Ok(vec![f.statement]);
        }
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

/// What [`JobSource::next_batch`] returns: the next batch, when it is read.
pub type NextBatch<'a> =
    Pin<Box<dyn Future<Output = anyhow::Result<Option<SourceBatch>>> + Send + 'a>>;

/// A source of round-0 batches.
pub trait JobSource: Send {
    /// The next batch, or `None` when there is none (yet).
    fn next_batch(&mut self) -> NextBatch<'_>;
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

impl DemoSource {
    fn next(&mut self) -> Option<SourceBatch> {
        if self.limit != 0 && self.made >= self.limit {
            return None;
        }
        self.made += 1;
        let batch = self.sequencer.next_batch(self.chunks);
        Some(SourceBatch {
            label: format!("demo-{}", self.made),
            chunks: batch.chunks,
            rows: Vec::new(),
            foreign: None,
        })
    }
}

impl JobSource for DemoSource {
    fn next_batch(&mut self) -> NextBatch<'_> {
        Box::pin(std::future::ready(Ok(self.next())))
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
            rows: Vec::new(),
            foreign: None,
        })
    }

    fn next(&mut self) -> anyhow::Result<Option<SourceBatch>> {
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

impl JobSource for DirectorySource {
    fn next_batch(&mut self) -> NextBatch<'_> {
        Box::pin(std::future::ready(self.next()))
    }
}

/// Times in a row a batch's witnesses may fail to be read (their store down, a tool timing
/// out) before it is handed back to the operator's own provers for good.
const MAX_STRIKES: u32 = 5;

/// Why a claimed batch was not read.
enum Failure {
    /// Maybe not the jobs' fault (a store or a tool that did not answer): try again later.
    Transient(anyhow::Error),
    /// The jobs' own (a witness that does not decode, chunks out of order).
    Permanent(anyhow::Error),
}

/// Jobs claimed together: a chunk batch (no external circuit), or one job of the external
/// circuit at that index of [`PgSource`]'s list.
type Claimed = (Option<usize>, Vec<QueuedJob>);

/// The largest witness a PostgreSQL source reads.
const MAX_WITNESS_BYTES: u64 = 64 << 20;

/// An operator's PostgreSQL job queue (see [`crate::pg_queue`]): each source batch is one
/// rollup batch's round-0 jobs, claimed whole, their witnesses read from the rows'
/// `witness_blob_url` (`file://` paths or `http(s)://` URLs). A batch whose witnesses cannot
/// be read, or do not chain, is handed back to the operator's queue with the reason.
pub struct PgSource {
    queue: Arc<PgQueue>,
    circuit_id: i16,
    /// External circuits whose jobs the operator's queue holds, by their `circuit_id` there.
    external: Vec<(i16, External)>,
    /// Whether an external job goes next (the chunk batches and the external jobs take turns).
    external_turn: bool,
    /// Batches held from an earlier life of this relayer, taken up before new claims (with
    /// the external circuit of each, if any).
    held: Option<VecDeque<Claimed>>,
    /// Rows handed out by this process (so a held batch is not handed out twice).
    handed: HashSet<i64>,
    /// Failures to read a batch in a row, by its first row.
    strikes: std::collections::HashMap<i64, u32>,
    http: reqwest::Client,
}

impl PgSource {
    /// A source claiming round-0 jobs of `circuit_id` from `queue`, and jobs of the external
    /// circuits of `registry` that name their `queue_circuit_id`.
    pub fn new(queue: Arc<PgQueue>, circuit_id: i16, registry: &Registry) -> PgSource {
        let external = registry
            .entries()
            .filter_map(|(_, e)| match e {
                Entry::External(x) => x.queue_circuit_id.map(|c| (c, x.clone())),
                Entry::Builtin(_) => None,
            })
            .collect();
        PgSource {
            queue,
            circuit_id,
            external,
            external_turn: false,
            held: None,
            handed: HashSet::new(),
            strikes: Default::default(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    async fn next(&mut self) -> anyhow::Result<Option<SourceBatch>> {
        if self.held.is_none() {
            let mut held: VecDeque<Claimed> = self
                .queue
                .held_batches(self.circuit_id)
                .await?
                .into_iter()
                .map(|b| (None, b))
                .collect();
            for (i, (c, _)) in self.external.iter().enumerate() {
                for b in self.queue.held_batches(*c).await? {
                    held.extend(b.into_iter().map(|j| (Some(i), vec![j])));
                }
            }
            self.held = Some(held);
        }
        loop {
            let held = self.held.as_mut().and_then(|h| h.pop_front());
            let from_held = held.is_some();
            let (external, jobs) = match held {
                Some((_, jobs)) if jobs.iter().any(|j| self.handed.contains(&j.id)) => continue,
                Some(held) => held,
                None => match self.claim().await? {
                    Some(claimed) => claimed,
                    None => return Ok(None),
                },
            };
            let rows: Vec<i64> = jobs.iter().map(|j| j.id).collect();
            self.handed.extend(&rows);
            let label = match external {
                None => format!("l1-batch-{}", jobs[0].l1_batch_number),
                Some(_) => format!("job-{}", jobs[0].id),
            };
            let read = match external {
                None => self.read(&jobs).await.map(|chunks| (chunks, None)),
                Some(i) => self
                    .read_external(&self.external[i].1, &jobs[0])
                    .await
                    .map(|leaf| (Vec::new(), Some(leaf))),
            };
            let e = match read {
                Ok((chunks, foreign)) => {
                    self.strikes.remove(&rows[0]);
                    return Ok(Some(SourceBatch {
                        label,
                        chunks,
                        rows,
                        foreign,
                    }));
                }
                Err(Failure::Transient(e)) => {
                    let strikes = self.strikes.entry(rows[0]).or_default();
                    *strikes += 1;
                    if *strikes < MAX_STRIKES {
                        // Not the jobs' fault, maybe: back as they were (a batch that may be on
                        // chain stays held), and this duty backs off.
                        for id in &rows {
                            self.handed.remove(id);
                        }
                        if from_held {
                            if let Some(h) = self.held.as_mut() {
                                h.push_front((external, jobs));
                            }
                        } else {
                            self.queue.release(&rows).await?;
                        }
                        return Err(e.context(format!(
                            "{label}: handed back to the queue, tried again later"
                        )));
                    }
                    e.context(format!("{label}: failed {MAX_STRIKES} times"))
                }
                Err(Failure::Permanent(e)) => e,
            };
            let error = format!("{e:#}");
            tracing::error!(
                batch = label,
                error,
                "handing a batch back to the operator's queue"
            );
            self.queue.refuse(&rows, &error).await?;
        }
    }

    // The next claim: a whole chunk batch or one external job, taking turns.
    async fn claim(&mut self) -> anyhow::Result<Option<Claimed>> {
        for _ in 0..2 {
            self.external_turn = !self.external_turn;
            if self.external_turn {
                for (i, (c, _)) in self.external.iter().enumerate() {
                    if let Some(j) = self.queue.claim_one(*c).await? {
                        return Ok(Some((Some(i), vec![j])));
                    }
                }
            } else if let Some(jobs) = self.queue.claim_batch(self.circuit_id).await? {
                return Ok(Some((None, jobs)));
            }
        }
        Ok(None)
    }

    // Reads an external job's witness and asks its circuit's `statement` command what it
    // proves.
    async fn read_external(&self, x: &External, job: &QueuedJob) -> Result<ForeignLeaf, Failure> {
        let witness = fetch_witness(&self.http, &job.witness_blob_url)
            .await
            .with_context(|| format!("job {}: its witness", job.id))
            .map_err(Failure::Transient)?;
        let (command, w) = (x.clone(), witness.clone());
        let json = tokio::task::spawn_blocking(move || command.statement(&w))
            .await
            .map_err(|e| Failure::Transient(e.into()))?
            .map_err(|e| match e {
                // Its output is not a statement: the job's; the tool failing: maybe not.
                ExternalError::Proof { .. } => Failure::Permanent(e.into()),
                e => Failure::Transient(e.into()),
            })?;
        let statement: crowdprove_protocol::StatementJson = serde_json::from_value(json)
            .with_context(|| format!("job {}: the statement command's output", job.id))
            .map_err(Failure::Permanent)?;
        Ok(ForeignLeaf {
            circuit: x.id.0,
            witness,
            statement: statement.into(),
        })
    }

    async fn read(&self, jobs: &[QueuedJob]) -> Result<Vec<ChunkWitness>, Failure> {
        let mut chunks = Vec::with_capacity(jobs.len());
        for (i, j) in jobs.iter().enumerate() {
            if j.sequence_number as usize != i {
                return Err(Failure::Permanent(anyhow::anyhow!(
                    "batch {}: its jobs are numbered {} where {i} was expected",
                    j.l1_batch_number,
                    j.sequence_number
                )));
            }
            let bytes = fetch_witness(&self.http, &j.witness_blob_url)
                .await
                .with_context(|| format!("job {}: its witness", j.id))
                .map_err(Failure::Transient)?;
            chunks.push(
                ChunkWitness::decode(&bytes)
                    .with_context(|| format!("job {}: {}", j.id, j.witness_blob_url))
                    .map_err(Failure::Permanent)?,
            );
        }
        Ok(chunks)
    }
}

impl JobSource for PgSource {
    fn next_batch(&mut self) -> NextBatch<'_> {
        Box::pin(self.next())
    }
}

// Reads a witness from a `file://` path or an `http(s)://` URL, at most MAX_WITNESS_BYTES.
async fn fetch_witness(http: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = url.strip_prefix("file://") {
        let len = tokio::fs::metadata(path)
            .await
            .with_context(|| format!("reading {url}"))?
            .len();
        ensure!(
            len <= MAX_WITNESS_BYTES,
            "{url} holds {len} bytes, over the {MAX_WITNESS_BYTES} a witness may have"
        );
        return tokio::fs::read(path)
            .await
            .with_context(|| format!("reading {url}"));
    }
    ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "`{url}`: a witness location is a file:// path or an http(s):// URL"
    );
    let mut resp = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?
        .error_for_status()
        .with_context(|| format!("fetching {url}"))?;
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .with_context(|| format!("fetching {url}"))?
    {
        out.extend_from_slice(&chunk);
        ensure!(
            out.len() as u64 <= MAX_WITNESS_BYTES,
            "{url} is over the {MAX_WITNESS_BYTES} bytes a witness may have"
        );
    }
    Ok(out)
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
        let first = src.next().unwrap().unwrap();
        assert_eq!(first.label, "0001-a");
        assert_eq!(first.statements(ParamSet::Small).unwrap().len(), 2);
        assert_eq!(src.next().unwrap().unwrap().label, "0002-b");
        assert!(src.next().unwrap().is_none());
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
            rows: Vec::new(),
            foreign: None,
        };
        assert!(ok.statements(ParamSet::Small).is_ok());
        let swapped = SourceBatch {
            label: "x".into(),
            chunks: vec![b, a],
            rows: Vec::new(),
            foreign: None,
        };
        assert!(swapped.statements(ParamSet::Small).is_err());
    }
}
