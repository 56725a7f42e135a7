//! The relayer's metrics, declared once in the table below (name, help, kind) and rendered
//! in the Prometheus text format by `prometheus-client`. Counters end in `_total` on the wire;
//! the chain and database gauges are set at scrape time.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A counter of seconds.
pub(crate) type Seconds = Counter<f64, AtomicU64>;
/// A gauge of a quantity too large for an i64 (wei).
pub(crate) type Wei = Gauge<f64, AtomicU64>;

/// The label of a work-loop duty.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DutyLabel {
    /// The duty's name.
    pub(crate) duty: String,
}

/// Declares the metrics: one line each, `field: Type = ("name", "help")`.
macro_rules! metrics {
    ($($field:ident: $ty:ty = ($name:literal, $help:literal),)*) => {
        /// Every metric the relayer exports at `/metrics`.
        #[derive(Default)]
        pub(crate) struct Metrics {
            $(#[doc = $help] pub(crate) $field: $ty,)*
        }

        impl Metrics {
            fn registry(&self) -> Registry {
                let mut r = Registry::with_prefix("crowdprove_relayer");
                $(r.register($name, $help, self.$field.clone());)*
                r
            }
        }
    };
}

metrics! {
    proofs_valid: Counter = ("proofs_valid", "Uploaded proofs verified valid."),
    proofs_invalid: Counter = ("proofs_invalid", "Uploaded proofs verified invalid."),
    verifier_panics: Counter = ("verifier_panics", "Verifications that panicked (a relayer bug), tried again later."),
    verify_seconds: Seconds = ("verify_seconds", "Time spent verifying proofs."),
    verdicts_sent: Counter = ("verdicts_sent", "Verdicts sent on chain."),
    verdict_txs: Counter = ("verdict_transactions", "recordVerdicts transactions."),
    verdict_gas: Counter = ("verdict_gas", "Gas used by recordVerdicts transactions."),
    batches_posted: Counter = ("batches_posted", "Batches posted by this process."),
    uploads_accepted: Counter = ("uploads_accepted", "Proof uploads accepted."),
    uploads_refused: Counter = ("uploads_refused", "Proof uploads refused."),
    reorgs: Counter = ("reorgs", "Chain reorganizations rolled back."),
    followed_block: Gauge = ("followed_block", "The last block whose events are applied (the follower's cursor): its lag behind the head is how far behind the chain the relayer is."),
    duty_failures: Family<DutyLabel, Counter> = ("duty_failures", "Failed runs of a work-loop duty; each is retried on its own while the others go on."),
    rpc_up: Gauge = ("rpc_up", "1 if the chain answered this scrape."),
    escrow_wei: Wei = ("escrow_wei", "Unspent reward escrow held by the Coordinator (as of the last scrape the chain answered)."),
    eth_balance_wei: Wei = ("eth_balance_wei", "The relayer account's ETH, which pays for its transactions."),
    token_balance_wei: Wei = ("token_balance_wei", "Reward tokens the relayer holds to fund new batches."),
    token_allowance_wei: Wei = ("token_allowance_wei", "Reward tokens the Coordinator may still pull from the relayer."),
    jobs: Gauge = ("jobs", "Jobs of this relayer's batches."),
    jobs_complete: Gauge = ("jobs_complete", "Jobs completed by a valid proof."),
    awaiting_upload: Gauge = ("submissions_awaiting_upload", "Submitted proofs whose bytes have not arrived."),
    awaiting_verdict: Gauge = ("submissions_awaiting_verdict", "Submitted proofs without an on-chain verdict."),
}

impl Metrics {
    /// Counts one failed run of `duty`.
    pub(crate) fn duty_failed(&self, duty: &str) {
        self.duty_failures
            .get_or_create(&DutyLabel {
                duty: duty.to_string(),
            })
            .inc();
    }

    /// The Prometheus text of every metric.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry()).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_with_the_prefix_and_counters_with_total() {
        let m = Metrics::default();
        m.reorgs.inc();
        m.verify_seconds.inc_by(1.5);
        m.duty_failed("deliver");
        m.escrow_wei.set(2e21);
        let text = m.render();
        for line in [
            "crowdprove_relayer_reorgs_total 1",
            "# TYPE crowdprove_relayer_reorgs counter",
            "crowdprove_relayer_verify_seconds_total 1.5",
            "crowdprove_relayer_duty_failures_total{duty=\"deliver\"} 1",
            "crowdprove_relayer_proofs_valid_total 0",
            "# HELP crowdprove_relayer_jobs Jobs of this relayer's batches.",
        ] {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
        assert!(text.contains("crowdprove_relayer_escrow_wei 2"), "{text}");
        assert_eq!(
            text.matches("# TYPE").count(),
            22,
            "one TYPE line per declared metric"
        );
    }
}
