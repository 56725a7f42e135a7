//! The relayer's HTTP API as the client uses it, with retries and backoff: a relayer that is
//! briefly down or behind the chain costs time, never a proof.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crowdprove_protocol::JobInfo;

/// What became of one upload try.
#[derive(Debug, PartialEq, Eq)]
pub enum Upload {
    /// The relayer holds the bytes.
    Accepted,
    /// Too late: the submission was judged Missing.
    Gone,
    /// Not taken yet: the relayer has not seen the lease or its submission (404, 409), is busy
    /// (429, 5xx) or is unreachable (`down`); worth trying again while the lease is unjudged.
    NotYet {
        /// What the relayer said.
        why: String,
        /// The relayer did not answer, or answered with a server error.
        down: bool,
    },
    /// Refused (the message says why).
    Refused(String),
}

/// The most bytes read of a job description or an upload record.
const MAX_JSON_BYTES: usize = 64 << 10;
/// The most bytes read of the relayer's status (100 provers, 50 batches and their trees).
const MAX_STATUS_BYTES: usize = 8 << 20;

// The body of `r`, refused past `max` bytes: a broken or hostile server cannot fill memory.
async fn capped(mut r: reqwest::Response, max: usize) -> anyhow::Result<Vec<u8>> {
    let url = r.url().to_string();
    if r.content_length().is_some_and(|n| n > max as u64) {
        bail!("GET {url}: a body of more than {max} bytes");
    }
    let mut out = Vec::new();
    while let Some(chunk) = r.chunk().await? {
        if out.len() + chunk.len() > max {
            bail!("GET {url}: a body of more than {max} bytes");
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A relayer's API.
#[derive(Clone)]
pub struct RelayerApi {
    base: String,
    http: reqwest::Client,
    patience: Duration,
}

impl RelayerApi {
    /// The API at `base` (e.g. `http://127.0.0.1:8700`); retryable failures are retried for up
    /// to `patience`.
    pub fn new(base: &str, patience: Duration) -> RelayerApi {
        RelayerApi {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            patience,
        }
    }

    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        self.fetch(path, false)
            .await?
            .ok_or_else(|| anyhow::anyhow!("GET {}{path}: not served", self.base))
    }

    // GET `path`, retrying retryable failures (a 5xx, 429, no connection) for up to the
    // patience. A 404 is retryable too (the relayer has not seen the batch yet), unless
    // `absent_is_none`: then it and a 410 (pruned) answer `None`.
    async fn fetch(
        &self,
        path: &str,
        absent_is_none: bool,
    ) -> anyhow::Result<Option<reqwest::Response>> {
        let url = format!("{}{path}", self.base);
        let deadline = Instant::now() + self.patience;
        let mut delay = Duration::from_millis(100);
        loop {
            let outcome = self
                .http
                .get(&url)
                .timeout(Duration::from_secs(60))
                .send()
                .await;
            let retry = match outcome {
                Ok(r) if r.status().is_success() => return Ok(Some(r)),
                Ok(r) if absent_is_none && matches!(r.status().as_u16(), 404 | 410) => {
                    return Ok(None);
                }
                Ok(r) => {
                    let status = r.status();
                    let retryable = status.is_server_error()
                        || status.as_u16() == 429
                        || status.as_u16() == 404;
                    if !retryable {
                        let body = r.text().await.unwrap_or_default();
                        bail!("GET {url}: {status}: {body}");
                    }
                    format!("{status}")
                }
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                bail!(
                    "GET {url}: still failing after {:?}: {retry}",
                    self.patience
                );
            }
            tracing::debug!(url, retry, "relayer not ready; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// The API's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A job's description, `None` if the relayer does not serve it (any more).
    pub async fn job_if_served(&self, job_id: u64) -> anyhow::Result<Option<JobInfo>> {
        match self.fetch(&format!("/v1/jobs/{job_id}"), true).await? {
            Some(r) => Ok(Some(
                serde_json::from_slice(&capped(r, MAX_JSON_BYTES).await?)
                    .context("decoding the job description")?,
            )),
            None => Ok(None),
        }
    }

    /// A job's witness, `None` if the relayer does not serve it (any more).
    pub async fn witness_if_served(&self, job_id: u64) -> anyhow::Result<Option<Vec<u8>>> {
        match self
            .fetch(&format!("/v1/jobs/{job_id}/witness"), true)
            .await?
        {
            Some(r) => Ok(Some(
                capped(r, crowdprove_circuits::MAX_WITNESS_BYTES).await?,
            )),
            None => Ok(None),
        }
    }

    /// Proof bytes by their hash, `None` if the relayer does not serve them.
    pub async fn proof_if_served(&self, hash: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
        let path = format!("/v1/proofs/{}", crowdprove_protocol::hex0x(hash));
        match self.fetch(&path, true).await? {
            Some(r) => Ok(Some(capped(r, crowdprove_circuits::MAX_PROOF_BYTES).await?)),
            None => Ok(None),
        }
    }

    /// The relayer's status snapshot (`/v1/status`).
    pub async fn status<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        let body = capped(self.get("/v1/status").await?, MAX_STATUS_BYTES).await?;
        serde_json::from_slice(&body).context("decoding the relayer's status")
    }

    /// When the relayer says the bytes of proof `hash` arrived, in chain time (s: the clock it
    /// holds upload deadlines to): `None` if it has no record of them, `Some(None)` if it has
    /// one without the time.
    pub async fn upload_info(&self, hash: &[u8; 32]) -> anyhow::Result<Option<Option<u64>>> {
        #[derive(serde::Deserialize)]
        struct Info {
            uploaded_at: Option<u64>,
        }
        let path = format!("/v1/uploads/{}", crowdprove_protocol::hex0x(hash));
        match self.fetch(&path, true).await? {
            Some(r) => Ok(Some(
                serde_json::from_slice::<Info>(&capped(r, MAX_JSON_BYTES).await?)
                    .context("decoding an upload record")?
                    .uploaded_at,
            )),
            None => Ok(None),
        }
    }

    /// A job's description (retries while the relayer has not seen its batch yet).
    pub async fn job(&self, job_id: u64) -> anyhow::Result<JobInfo> {
        self.get(&format!("/v1/jobs/{job_id}"))
            .await?
            .json()
            .await
            .context("decoding the job description")
    }

    /// A job's witness bytes.
    pub async fn witness(&self, job_id: u64) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .get(&format!("/v1/jobs/{job_id}/witness"))
            .await?
            .bytes()
            .await?
            .to_vec())
    }

    /// Whether the relayer answers at all (`/healthz`).
    pub async fn healthy(&self) -> bool {
        self.http
            .get(format!("{}/healthz", self.base))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// Tries once to upload the proof bytes of `request_id`. The deliverer retries until the
    /// lease is judged: a relayer that lags the chain answers 404 or 409 for a while.
    pub async fn upload(&self, request_id: u64, bytes: &[u8]) -> Upload {
        let url = format!("{}/v1/proofs/{request_id}", self.base);
        match self
            .http
            .put(&url)
            .body(bytes.to_vec())
            .timeout(Duration::from_secs(60))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => Upload::Accepted,
            Ok(r) if r.status().as_u16() == 410 => Upload::Gone,
            Ok(r)
                if matches!(r.status().as_u16(), 404 | 409 | 429)
                    || r.status().is_server_error() =>
            {
                Upload::NotYet {
                    why: r.status().to_string(),
                    down: r.status().is_server_error(),
                }
            }
            Ok(r) => {
                let status = r.status();
                Upload::Refused(format!("{status}: {}", r.text().await.unwrap_or_default()))
            }
            Err(e) => Upload::NotYet {
                why: e.to_string(),
                down: true,
            },
        }
    }
}
