//! Delivering each batch's final proof: once the chain has recorded it (the top node's Valid
//! verdict finalizes the batch), hand the proof to the sink, once.

use super::{Shared, each, now_ms};
use crate::blobs::BlobKind;
use crate::config::SinkSpec;
use crate::sink::Sink;

/// The deliver duty and its sink.
pub(super) struct Deliverer {
    sink: Sink,
}

impl Deliverer {
    /// The duty, delivering to `sink`.
    pub(super) fn new(sink: &SinkSpec) -> Deliverer {
        Deliverer {
            sink: Sink::new(sink),
        }
    }

    /// Hands every finalized batch's proof, not yet delivered, to the sink.
    pub(super) async fn deliver(&self, s: &Shared) -> anyhow::Result<()> {
        let done = s.db.our_batches()?.into_iter().filter_map(|b| {
            let hash = b.final_hash?;
            Some((b, hash))
        });
        each(done, |(batch, hash)| async move {
            if s.db.delivered(batch.batch_id)? {
                return Ok(());
            }
            let Some(bytes) = s.blobs.get(BlobKind::Proof, &hash).await? else {
                tracing::warn!(
                    batch = batch.batch_id,
                    "final proof bytes are not here; cannot deliver"
                );
                return Ok(());
            };
            let Some(manifest) = s.manifest(&batch.root).await? else {
                return Ok(());
            };
            let Some(top) = manifest.tree.last().and_then(|l| l.first()).copied() else {
                return Ok(());
            };
            self.sink
                .deliver(batch.batch_id, &hash, &top.into(), &bytes)
                .await?;
            s.db.set_delivered(batch.batch_id, now_ms())?;
            tracing::info!(batch = batch.batch_id, "final proof delivered");
            Ok(())
        })
        .await
    }
}
