//! Where final proofs go: files in a directory by default, or a webhook (an HTTP POST of JSON
//! with the proof in hex) by configuration. Delivery is idempotent: the same batch delivered
//! twice gives the same file or the same POST body.

use std::path::PathBuf;

use anyhow::Context;

use crowdprove_protocol::{FinalProof, Statement, hex0x};

use crate::config::SinkSpec;

/// A sink for final proofs.
pub(crate) enum Sink {
    /// Writes `batch-<id>.proof` and `batch-<id>.json` into a directory.
    Directory(PathBuf),
    /// POSTs JSON to a URL.
    Webhook(reqwest::Client, String),
}

impl Sink {
    /// The sink configured by `spec`.
    pub(crate) fn new(spec: &SinkSpec) -> Sink {
        match spec {
            SinkSpec::Directory(dir) => Sink::Directory(dir.clone()),
            SinkSpec::Webhook(url) => Sink::Webhook(reqwest::Client::new(), url.clone()),
        }
    }

    /// Hands a batch's final proof over.
    pub(crate) async fn deliver(
        &self,
        batch_id: u64,
        hash: &[u8; 32],
        statement: &Statement,
        proof: &[u8],
    ) -> anyhow::Result<()> {
        match self {
            Sink::Directory(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating {}", dir.display()))?;
                let meta = FinalProof {
                    batch_id,
                    proof_hash: *hash,
                    statement: (*statement).into(),
                    proof_hex: None,
                };
                // Write to temporary names, then rename: a reader never sees half a file. The
                // record goes last, so a reader that finds it finds the proof too.
                for (path, bytes) in [
                    (FinalProof::proof_path(dir, batch_id), proof.to_vec()),
                    (
                        FinalProof::record_path(dir, batch_id),
                        serde_json::to_vec_pretty(&meta)?,
                    ),
                ] {
                    let name = path.file_name().expect("a file name").to_string_lossy();
                    let tmp = dir.join(format!(".{name}.tmp"));
                    tokio::fs::write(&tmp, bytes).await?;
                    tokio::fs::rename(&tmp, &path).await?;
                }
                Ok(())
            }
            Sink::Webhook(client, url) => {
                let body = FinalProof {
                    batch_id,
                    proof_hash: *hash,
                    statement: (*statement).into(),
                    proof_hex: Some(hex0x(proof)),
                };
                let resp = client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .with_context(|| format!("POST {url}"))?;
                anyhow::ensure!(
                    resp.status().is_success(),
                    "webhook {url} answered {}",
                    resp.status()
                );
                Ok(())
            }
        }
    }
}
