//! `GET /v1/jobs/{id}`: what a job's proof must state, with the leaf and Merkle path that tie
//! it to the batch's on-chain root; `GET /v1/jobs/{id}/witness`: the witness bytes: a round-0
//! job's stored chunk, or an aggregation node's children's winning proofs, put together once
//! the chain has them all complete.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use alloy::primitives::aliases::U40;
use crowdprove_circuits::{AggregationWitness, Proof};
use crowdprove_protocol::{
    JobInfo, JobKind, JobStatus, JobTree, Manifest, Statement, TreeShape, job_leaf, limits,
};

use super::{Api, ApiError, ApiResult, octets, parse_id};
use crate::blobs::BlobKind;
use crate::db::JobRow;

/// The job `id` names: 400 if it is no number, 404 past the contract's largest job id, 404
/// (retryable: the relayer may not have followed its batch yet) if it is not one of ours.
fn job_row(api: &Api, id: &str) -> ApiResult<(u64, JobRow)> {
    let job_id = parse_id(id, "job id", limits::MAX_JOB_ID)?;
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
    let kind = JobKind::at_level(row.level);
    debug_assert_eq!(
        leaf,
        job_leaf(
            row.idx as u32,
            kind,
            row.level,
            statement.hash(),
            row.witness_hash
        )
    );
    Ok(Json(JobInfo {
        job_id,
        batch_id: row.batch_id,
        index: row.idx,
        kind,
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
    if row.level > 0 {
        return node_witness(&api, job_id, &row).await.map(octets);
    }
    let s = &api.shared;
    let bytes = s
        .blobs
        .get(BlobKind::Witness, &row.witness_hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| gone(job_id))?;
    Ok(octets(bytes))
}

fn gone(job_id: u64) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        format!("the witness of job {job_id} was pruned"),
    )
}

/// An aggregation node's witness: its children's winning proofs, as the chain names them (the
/// database's copy of a completion may lag the chain by the confirmations, so the chain is
/// asked for a child the database does not have complete yet). 404, retryable, while a child
/// is not complete.
async fn node_witness(api: &Api, job_id: u64, row: &JobRow) -> ApiResult<Vec<u8>> {
    crate::faults::crash_point("node-witness");
    let s = &api.shared;
    let batch =
        s.db.batch(row.batch_id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("batch of a known job missing"))?;
    let shape = TreeShape::new(batch.leaf_count as u32)
        .ok_or_else(|| ApiError::internal("a batch without leaves"))?;
    let mut proofs = Vec::with_capacity(2);
    for child in shape.children_of(row.idx as u32) {
        let child_id = batch.first_job + u64::from(child);
        let stored =
            s.db.job(child_id)
                .map_err(ApiError::internal)?
                .and_then(|j| j.winning_proof);
        let hash = match stored {
            Some(h) => h,
            None => {
                let id = U40::from(child_id);
                let chain = s
                    .chain
                    .coordinator
                    .job(id)
                    .call()
                    .await
                    .map_err(|e| ApiError::internal(format!("reading job {child_id}: {e}")))?;
                if chain.status != JobStatus::Complete as u8 {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!(
                            "job {job_id} is not ready: its child {child_id} is not proven yet"
                        ),
                    )
                    .retryable());
                }
                // The hash itself is in the winning submission's event.
                crowdprove_bindings::submitted_proof_hash(
                    &s.chain.coordinator,
                    chain.winningRequest,
                )
                .await
                .map_err(|e| ApiError::internal(format!("reading job {child_id}'s winner: {e}")))?
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "job {child_id}: no event of its winning submission"
                    ))
                })?
                .0
            }
        };
        let bytes = s
            .blobs
            .get(BlobKind::Proof, &hash)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| gone(job_id))?;
        proofs.push(Proof::from_bytes(bytes).map_err(ApiError::internal)?);
    }
    let mut proofs = proofs.into_iter();
    let left = proofs
        .next()
        .ok_or_else(|| ApiError::internal("a node without children"))?;
    Ok(AggregationWitness {
        level: row.level,
        left,
        right: proofs.next(),
    }
    .encode())
}
