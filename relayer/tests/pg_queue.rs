//! The operator's PostgreSQL job queue against a real PostgreSQL (a throwaway cluster): the
//! relayer and the operator's own prover share it without taking a job twice, results are
//! written back, and a job the crowd fails goes back to the queue, never lost.

use std::collections::HashSet;
use std::time::Duration;

use crowdprove_relayer::pg_queue::{PgQueue, Requeued};
use crowdprove_relayer::test_utils::PgCluster;

// The operator's table with `batches` batches of `chunks` queued jobs.
async fn filled(url: &str, batches: i64, chunks: i32) -> PgQueue {
    let q = PgQueue::connect(url, "crowdprove-relayer", 2).unwrap();
    q.migrate().await.unwrap();
    q.migrate().await.unwrap(); // idempotent
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    for b in 1..=batches {
        for c in 0..chunks {
            client
                .execute(
                    "INSERT INTO prover_jobs (l1_batch_number, sequence_number, witness_blob_url)
                     VALUES ($1, $2, $3)",
                    &[&b, &c, &format!("s3://witnesses/{b}/{c}")],
                )
                .await
                .unwrap();
        }
    }
    q
}

async fn statuses(url: &str) -> Vec<(i64, String, i16, Option<String>)> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .query(
            "SELECT id, status, attempts, picked_by FROM prover_jobs ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relayer_and_an_in_house_prover_share_the_queue_and_no_job_is_claimed_twice() {
    let pg = PgCluster::start();
    let relayer = filled(&pg.url, 4, 25).await;
    let in_house = PgQueue::connect(&pg.url, "operator-prover-1", 2).unwrap();
    // Both claim at once, in small bites, until the queue is empty.
    let claim_all = |q: PgQueue| async move {
        let mut got = Vec::new();
        loop {
            let jobs = q.claim(3).await.unwrap();
            if jobs.is_empty() {
                return (q, got);
            }
            got.extend(jobs.into_iter().map(|j| j.id));
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(claim_all(relayer)),
        tokio::spawn(claim_all(in_house))
    );
    let ((relayer, mine), (in_house, theirs)) = (a.unwrap(), b.unwrap());
    let all: HashSet<i64> = mine.iter().chain(&theirs).copied().collect();
    assert_eq!(mine.len() + theirs.len(), 100, "every job claimed once");
    assert_eq!(all.len(), 100, "no job claimed twice");
    assert!(!mine.is_empty() && !theirs.is_empty(), "both took a share");

    // Results go back as the operator's provers write them; only the claimer's count.
    assert!(
        relayer
            .succeed(mine[0], "s3://proofs/a", Duration::from_millis(2500))
            .await
            .unwrap()
    );
    assert!(
        !in_house
            .succeed(mine[1], "s3://proofs/stolen", Duration::from_secs(1))
            .await
            .unwrap(),
        "a job another prover holds is not recorded"
    );
    let rows = statuses(&pg.url).await;
    let first = rows.iter().find(|r| r.0 == mine[0]).unwrap();
    assert_eq!(first.1, "successful");
    assert_eq!(first.3.as_deref(), Some("crowdprove-relayer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_the_crowd_fails_goes_back_to_the_queue_until_its_attempts_run_out() {
    let pg = PgCluster::start();
    let q = filled(&pg.url, 1, 2).await;
    let jobs = q.claim(1).await.unwrap();
    assert_eq!(
        (
            jobs[0].l1_batch_number,
            jobs[0].sequence_number,
            jobs[0].attempts
        ),
        (1, 0, 0),
        "oldest first"
    );
    let id = jobs[0].id;
    assert_eq!(
        q.fail(id, "no valid proof before the deadline")
            .await
            .unwrap(),
        Some(Requeued::Queued)
    );
    let again = q.claim(2).await.unwrap();
    assert_eq!(again.iter().find(|j| j.id == id).unwrap().attempts, 1);
    assert_eq!(
        q.fail(id, "again").await.unwrap(),
        Some(Requeued::Failed),
        "two attempts at most"
    );
    assert_eq!(
        q.fail(id, "twice").await.unwrap(),
        None,
        "no longer claimed"
    );
    let rows = statuses(&pg.url).await;
    let failed = rows.iter().find(|r| r.0 == id).unwrap();
    assert_eq!(
        (failed.1.as_str(), failed.2),
        ("failed", 2),
        "kept, with its attempts"
    );

    // A claim that stalls is put back by the housekeeping, like zkSync's 600 s timeout.
    let other = rows.iter().find(|r| r.0 != id).unwrap().0;
    assert_eq!(q.requeue_stale(Duration::from_secs(3600)).await.unwrap(), 0);
    assert_eq!(q.requeue_stale(Duration::ZERO).await.unwrap(), 1);
    let rows = statuses(&pg.url).await;
    assert_eq!(rows.iter().find(|r| r.0 == other).unwrap().1, "queued");
}
