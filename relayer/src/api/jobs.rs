//! `GET /v1/jobs/{id}`: what a job's proof must state, with the leaf and Merkle path that tie
//! its witness to the batch's on-chain root; `GET /v1/jobs/{id}/witness`: the witness bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crowdprove_protocol::{JobInfo, JobTree, Manifest, Statement, job_leaf};

use super::{Api, ApiError, ApiResult, octets, parse_u64};
use crate::blobs::BlobKind;
use crate::db::JobRow;

/// The job `id` names: 400 if it is no number, 404 (retryable: the relayer may not have
/// followed its batch yet) if it is not one of ours.
fn job_row(api: &Api, id: &str) -> ApiResult<(u64, JobRow)> {
    let job_id = parse_u64(id, "job id")?;
    let row = api
        .shared
        .db
        .job(job_id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("job {job_id} is not one of this relayer's (yet)"),
            )
            .retryable()
        })?;
    Ok((job_id, row))
}

/// Job trees by batch root (the manifests themselves are the work loop's, `Shared::manifest`).
#[derive(Default)]
pub(super) struct TreeCache(Mutex<HashMap<[u8; 32], Arc<JobTree>>>);

pub(super) async fn job(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> ApiResult<Json<JobInfo>> {
    let (job_id, row) = job_row(&api, &id)?;
    let s = &api.shared;
    let batch =
        s.db.batch(row.batch_id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("batch of a known job missing"))?;
    let (manifest, jobs) = api.tree(&batch.root).await?;
    let statement = Statement::from_json(&row.statement)
        .ok_or_else(|| ApiError::internal("bad stored statement"))?;
    let leaf = jobs
        .leaf(row.idx as usize)
        .ok_or_else(|| ApiError::internal("leaf out of range"))?;
    debug_assert_eq!(
        leaf,
        job_leaf(
            row.idx as u32,
            manifest.kind,
            row.level,
            statement.hash(),
            row.witness_hash
        )
    );
    Ok(Json(JobInfo {
        job_id,
        batch_id: row.batch_id,
        index: row.idx,
        kind: manifest.kind,
        level: row.level,
        params: manifest.params,
        statement: statement.into(),
        statement_hash: statement.hash(),
        witness_hash: row.witness_hash,
        leaf,
        path: jobs.path(row.idx as usize).unwrap_or_default(),
        witness_root: batch.root,
    }))
}

impl Api {
    /// A batch's manifest, from the work loop's cache, and its job tree, built once.
    async fn tree(&self, root: &[u8; 32]) -> ApiResult<(Arc<Manifest>, Arc<JobTree>)> {
        let manifest = self
            .shared
            .manifest(root)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("manifest missing or unreadable"))?;
        let mut trees = self.trees.0.lock().unwrap_or_else(|e| e.into_inner());
        let tree = trees
            .entry(*root)
            .or_insert_with(|| Arc::new(manifest.job_tree()))
            .clone();
        Ok((manifest, tree))
    }
}

pub(super) async fn witness(State(api): State<Api>, Path(id): Path<String>) -> ApiResult<Response> {
    let (job_id, row) = job_row(&api, &id)?;
    let s = &api.shared;
    let bytes = s
        .blobs
        .get(BlobKind::Witness, &row.witness_hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::GONE,
                format!("the witness of job {job_id} was pruned"),
            )
        })?;
    Ok(octets(bytes))
}
