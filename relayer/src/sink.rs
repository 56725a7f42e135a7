//! Where final proofs go: files in a directory by default, or a webhook (an HTTP POST of JSON
//! with the proof in hex) by configuration. Delivery is idempotent: the same batch delivered
//! twice gives the same file or the same POST body.

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use crowdprove_circuits::Statement;

use crate::config::SinkSpec;
use crate::manifest::{StatementJson, hex0x};

/// A sink for final proofs.
pub enum Sink {
    /// Writes `batch-<id>.proof` and `batch-<id>.json` into a directory.
    Directory(PathBuf),
    /// POSTs JSON to a URL.
    Webhook(reqwest::Client, String),
}

/// What a sink receives besides the proof bytes.
#[derive(Serialize)]
struct FinalProof<'a> {
    batch_id: u64,
    proof_hash: String,
    statement: StatementJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    proof_hex: Option<&'a str>,
}

impl Sink {
    /// The sink configured by `spec`.
    pub fn new(spec: &SinkSpec) -> Sink {
        match spec {
            SinkSpec::Directory(dir) => Sink::Directory(dir.clone()),
            SinkSpec::Webhook(url) => Sink::Webhook(reqwest::Client::new(), url.clone()),
        }
    }

    /// Hands a batch's final proof over.
    pub async fn deliver(
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
                    proof_hash: hex0x(hash),
                    statement: (*statement).into(),
                    proof_hex: None,
                };
                // Write to temporary names, then rename: a reader never sees half a file.
                for (name, bytes) in [
                    (format!("batch-{batch_id}.proof"), proof.to_vec()),
                    (
                        format!("batch-{batch_id}.json"),
                        serde_json::to_vec_pretty(&meta)?,
                    ),
                ] {
                    let tmp = dir.join(format!(".{name}.tmp"));
                    tokio::fs::write(&tmp, bytes).await?;
                    tokio::fs::rename(&tmp, dir.join(&name)).await?;
                }
                Ok(())
            }
            Sink::Webhook(client, url) => {
                let hex = hex0x(proof);
                let body = FinalProof {
                    batch_id,
                    proof_hash: hex0x(hash),
                    statement: (*statement).into(),
                    proof_hex: Some(&hex),
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
