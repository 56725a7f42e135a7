//! The spool: every finished proof is written to the data directory before it is submitted, and
//! deleted only once the relayer confirms it holds the bytes. A client killed at any point
//! finishes its spooled proofs on the next start.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What is known of a spooled proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolEntry {
    /// The lease it answers.
    pub request_id: u64,
    /// Its job.
    pub job_id: u64,
    /// keccak256 of the proof, 0x-hex.
    pub proof_hash: String,
}

/// A directory of spooled proofs: `<request id>.proof` and `<request id>.json`.
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool under `data_dir`.
    pub fn open(data_dir: &Path) -> anyhow::Result<Spool> {
        let dir = data_dir.join("spool");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Spool { dir })
    }

    fn paths(&self, request_id: u64) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{request_id}.proof")),
            self.dir.join(format!("{request_id}.json")),
        )
    }

    /// Writes a proof durably (temporary file, fsync, rename; the entry last).
    pub fn put(&self, entry: &SpoolEntry, proof: &[u8]) -> anyhow::Result<()> {
        let (proof_path, meta_path) = self.paths(entry.request_id);
        write_durably(&proof_path, proof)?;
        write_durably(&meta_path, &serde_json::to_vec_pretty(entry)?)?;
        Ok(())
    }

    /// Every complete spooled proof, oldest request first.
    pub fn list(&self) -> anyhow::Result<Vec<(SpoolEntry, Vec<u8>)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let path = e?.path();
            if path.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            let Ok(entry) = serde_json::from_slice::<SpoolEntry>(&std::fs::read(&path)?) else {
                tracing::warn!(file = %path.display(), "unreadable spool entry; left in place");
                continue;
            };
            let (proof_path, _) = self.paths(entry.request_id);
            match std::fs::read(&proof_path) {
                Ok(bytes) => out.push((entry, bytes)),
                Err(_) => {
                    tracing::warn!(file = %path.display(), "spool entry without its proof; left in place")
                }
            }
        }
        out.sort_by_key(|(e, _)| e.request_id);
        Ok(out)
    }

    /// Removes a proof the relayer holds (or that no longer matters).
    pub fn remove(&self, request_id: u64) -> anyhow::Result<()> {
        let (proof_path, meta_path) = self.paths(request_id);
        for p in [meta_path, proof_path] {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", p.display())),
            }
        }
        Ok(())
    }
}

fn write_durably(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let e = SpoolEntry {
            request_id: 5,
            job_id: 2,
            proof_hash: "0x01".into(),
        };
        spool.put(&e, b"proof").unwrap();
        spool
            .put(
                &SpoolEntry {
                    request_id: 3,
                    ..e.clone()
                },
                b"other",
            )
            .unwrap();
        let listed = spool.list().unwrap();
        assert_eq!(
            listed.iter().map(|(e, _)| e.request_id).collect::<Vec<_>>(),
            [3, 5]
        );
        assert_eq!(listed[1].1, b"proof");
        spool.remove(5).unwrap();
        spool.remove(5).unwrap();
        assert_eq!(spool.list().unwrap().len(), 1);
    }
}
