//! The blob store: witnesses, proofs and batch manifests, content-addressed by keccak256, on
//! the `object_store` crate (a local directory by default, an S3-compatible bucket with
//! `s3://bucket/prefix`). It is kept apart from the database, which can be rebuilt from it.

use std::path::Path;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crowdprove_protocol::keccak256;

/// What a blob holds; each kind has its own key prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlobKind {
    /// A job's witness.
    Witness,
    /// An uploaded proof.
    Proof,
    /// A batch's manifest (its jobs and tree), keyed by the batch's witness root.
    Manifest,
}

impl BlobKind {
    fn prefix(self) -> &'static str {
        match self {
            BlobKind::Witness => "witness",
            BlobKind::Proof => "proof",
            BlobKind::Manifest => "manifest",
        }
    }
}

/// A blob store error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BlobError {
    /// The store failed.
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    /// The location is not usable.
    #[error("blob store location {0}: {1}")]
    Location(String, String),
    /// A content-addressed blob's bytes do not hash to its key: the store was altered or
    /// damaged, and the bytes must not be served or judged.
    #[error(
        "blob store: the {0} blob {1} holds other bytes (they hash to {2}): the store was altered"
    )]
    Corrupt(&'static str, String, String),
}

/// Content-addressed blobs.
#[derive(Clone)]
pub(crate) struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Where blobs are, as a URL prefix (`file:///abs/dir` or `s3://bucket/prefix`).
    base: String,
}

impl BlobStore {
    /// Opens `location`: a directory (created if needed), or `s3://bucket[/prefix]` with
    /// credentials and endpoint from the usual `AWS_*` environment variables.
    pub(crate) fn open(location: &str) -> Result<BlobStore, BlobError> {
        let mut base = location.trim_end_matches('/').to_string();
        let store: Arc<dyn ObjectStore> = if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let s3 = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_allow_http(true)
                .build()
                .map_err(|e| BlobError::Location(location.into(), e.to_string()))?;
            Arc::new(PrefixStore::new(s3, prefix))
        } else {
            let dir = Path::new(location);
            std::fs::create_dir_all(dir)
                .map_err(|e| BlobError::Location(location.into(), e.to_string()))?;
            let abs = std::fs::canonicalize(dir)
                .map_err(|e| BlobError::Location(location.into(), e.to_string()))?;
            base = format!("file://{}", abs.display());
            Arc::new(
                LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| BlobError::Location(location.into(), e.to_string()))?,
            )
        };
        Ok(BlobStore { store, base })
    }

    /// Where the blob under `key` is, as a URL an operator's tools read (`file://` or `s3://`).
    pub(crate) fn url(&self, kind: BlobKind, key: &[u8; 32]) -> String {
        format!("{}/{}", self.base, Self::path(kind, key))
    }

    fn path(kind: BlobKind, hash: &[u8; 32]) -> ObjectPath {
        ObjectPath::from(format!("{}/{}", kind.prefix(), hex::encode(hash)))
    }

    /// Stores `bytes` under their keccak256, which it returns. Storing twice is harmless.
    pub(crate) async fn put(&self, kind: BlobKind, bytes: Vec<u8>) -> Result<[u8; 32], BlobError> {
        let hash = keccak256(&bytes);
        self.put_at(kind, &hash, bytes).await?;
        Ok(hash)
    }

    /// Stores `bytes` under a key of the caller's (a manifest under its batch root).
    pub(crate) async fn put_at(
        &self,
        kind: BlobKind,
        key: &[u8; 32],
        bytes: Vec<u8>,
    ) -> Result<(), BlobError> {
        self.store
            .put(&Self::path(kind, key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The blob under `key`, if any. Witnesses and proofs are hashed again as they are read
    /// ([`BlobError::Corrupt`] if they do not hash to their key): the relayer serves and judges
    /// only what the chain committed to, whatever happened to the store.
    pub(crate) async fn get(
        &self,
        kind: BlobKind,
        key: &[u8; 32],
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let bytes = match self.store.get(&Self::path(kind, key)).await {
            Ok(r) => r.bytes().await?.to_vec(),
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if kind != BlobKind::Manifest {
            let hash = keccak256(&bytes);
            if hash != *key {
                return Err(BlobError::Corrupt(
                    kind.prefix(),
                    hex::encode(key),
                    hex::encode(hash),
                ));
            }
        }
        Ok(Some(bytes))
    }

    /// Whether a blob exists under `key`.
    pub(crate) async fn exists(&self, kind: BlobKind, key: &[u8; 32]) -> Result<bool, BlobError> {
        match self.store.head(&Self::path(kind, key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the blob under `key` (nothing if absent).
    pub(crate) async fn delete(&self, kind: BlobKind, key: &[u8; 32]) -> Result<(), BlobError> {
        match self.store.delete(&Self::path(kind, key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_addressed_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().to_str().unwrap()).unwrap();
        let hash = store
            .put(BlobKind::Proof, b"proof bytes".to_vec())
            .await
            .unwrap();
        assert_eq!(hash, keccak256(b"proof bytes"));
        assert_eq!(
            store.get(BlobKind::Proof, &hash).await.unwrap().unwrap(),
            b"proof bytes"
        );
        assert!(
            store.get(BlobKind::Witness, &hash).await.unwrap().is_none(),
            "kinds are apart"
        );
        assert!(store.exists(BlobKind::Proof, &hash).await.unwrap());
        let url = store.url(BlobKind::Proof, &hash);
        let path = url.strip_prefix("file://").unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"proof bytes", "{url}");
        store.delete(BlobKind::Proof, &hash).await.unwrap();
        store.delete(BlobKind::Proof, &hash).await.unwrap();
        assert!(!store.exists(BlobKind::Proof, &hash).await.unwrap());
    }
}
