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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relayer_claims_batches_whole_and_leaves_started_and_refused_ones_to_the_operator() {
    let pg = PgCluster::start();
    let relayer = filled(&pg.url, 3, 3).await;
    let in_house = PgQueue::connect(&pg.url, "operator-prover-1", 2).unwrap();
    let started = in_house.claim(1).await.unwrap();
    assert_eq!(started[0].l1_batch_number, 1);

    let second = relayer.claim_batch(0).await.unwrap().expect("batch 2");
    assert_eq!(
        second
            .iter()
            .map(|j| (j.l1_batch_number, j.sequence_number))
            .collect::<Vec<_>>(),
        [(2, 0), (2, 1), (2, 2)],
        "a batch the operator started is skipped; the next is taken whole, in order"
    );
    let third = relayer.claim_batch(0).await.unwrap().expect("batch 3");
    assert_eq!(third.len(), 3);
    assert!(
        relayer.claim_batch(0).await.unwrap().is_none(),
        "batch 1 stays the operator's"
    );
    assert!(
        relayer.claim_batch(7).await.unwrap().is_none(),
        "another circuit's jobs are not this source's"
    );

    // Batch 2 goes on chain; batch 3 cannot be read and goes back to the operator.
    let ids: Vec<i64> = second.iter().map(|j| j.id).collect();
    relayer.record_claims(&[9; 32], &ids).await.unwrap();
    relayer.record_claims(&[9; 32], &ids).await.unwrap(); // harmless twice
    let claims = relayer.open_claims().await.unwrap();
    assert_eq!(
        claims.iter().map(|c| (c.id, c.leaf)).collect::<Vec<_>>(),
        ids.iter().copied().zip(0..).collect::<Vec<_>>()
    );
    assert!(claims.iter().all(|c| c.root == [9; 32]));
    let refused: Vec<i64> = third.iter().map(|j| j.id).collect();
    relayer
        .refuse(&refused, "job 7: its witness: reading file:///gone")
        .await
        .unwrap();
    assert!(
        relayer.claim_batch(0).await.unwrap().is_none(),
        "a refused batch is not taken by the crowd again"
    );
    let rest = in_house.claim(10).await.unwrap();
    let rest: HashSet<i64> = rest.iter().map(|j| j.id).collect();
    assert!(
        refused.iter().all(|id| rest.contains(id)),
        "the operator's prover takes the refused jobs"
    );
    assert_eq!(rest.len(), 5, "and batch 1's other two");

    // A restarted relayer finds what it holds; results go back with the time since the claim.
    let held = relayer.held_batches(0).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].iter().map(|j| j.id).collect::<Vec<_>>(), ids);
    assert_eq!(relayer.heartbeat().await.unwrap(), 3);
    assert!(
        relayer
            .succeed_claimed(ids[0], "file:///blobs/proof/ab")
            .await
            .unwrap()
    );
    assert!(
        !in_house
            .succeed_claimed(ids[1], "file:///stolen")
            .await
            .unwrap(),
        "only the claimer writes a result"
    );
    assert_eq!(relayer.open_claims().await.unwrap().len(), 2);
    let rows = statuses(&pg.url).await;
    let done = rows.iter().find(|r| r.0 == ids[0]).unwrap();
    assert_eq!((done.1.as_str(), done.2), ("successful", 1));
    let refused_row = rows.iter().find(|r| r.0 == refused[0]).unwrap();
    assert_eq!(
        refused_row.3.as_deref(),
        Some("operator-prover-1"),
        "claimed again by the operator, after the relayer's attempt"
    );
    assert_eq!(refused_row.2, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_an_in_house_prover_the_relayer_never_takes_part_of_a_batch() {
    let pg = PgCluster::start();
    let relayer = filled(&pg.url, 30, 4).await;
    let in_house = PgQueue::connect(&pg.url, "operator-prover-1", 2).unwrap();
    let whole = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(jobs) = relayer.claim_batch(0).await.unwrap() {
            got.push(jobs);
        }
        got
    });
    // The in-house prover goes on until nothing is queued: a row the relayer had locked in a
    // claim it then rolled back (the batch was partly the operator's) is queued again, and is
    // the operator's to take.
    let url = pg.url.clone();
    let single = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            let jobs = in_house.claim(1).await.unwrap();
            if jobs.is_empty() && statuses(&url).await.iter().all(|r| r.1 != "queued") {
                return got;
            }
            got.extend(jobs.into_iter().map(|j| j.id));
        }
    });
    let (whole, single) = (whole.await.unwrap(), single.await.unwrap());
    let rows = statuses(&pg.url).await;
    assert!(
        rows.iter().all(|r| r.1 == "in_progress" && r.2 == 1),
        "each claimed once"
    );
    for batch in &whole {
        assert_eq!(batch.len(), 4, "whole batches only");
        assert!(
            batch
                .iter()
                .all(|j| j.l1_batch_number == batch[0].l1_batch_number)
        );
    }
    let by_relayer: HashSet<i64> = whole.iter().flatten().map(|j| j.id).collect();
    assert_eq!(by_relayer.len() + single.len(), 120);
    assert!(single.iter().all(|id| !by_relayer.contains(id)));
    assert!(!single.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_relayer_takes_up_only_batches_that_may_not_be_on_chain() {
    let pg = PgCluster::start();
    let relayer = filled(&pg.url, 3, 3).await;
    let a = relayer.claim_batch(0).await.unwrap().unwrap();
    let b = relayer.claim_batch(0).await.unwrap().unwrap();
    let c = relayer.claim_batch(0).await.unwrap().unwrap();
    let ids = |jobs: &[crowdprove_relayer::pg_queue::QueuedJob]| -> Vec<i64> {
        jobs.iter().map(|j| j.id).collect()
    };
    // a: recorded, nothing written back yet (maybe never posted: a crash right after the
    // record); b: recorded, its first leaf written back (so on chain); c: never recorded.
    relayer.record_claims(&[1; 32], &ids(&a)).await.unwrap();
    relayer.record_claims(&[2; 32], &ids(&b)).await.unwrap();
    assert!(relayer.succeed_claimed(b[0].id, "file:///p").await.unwrap());
    let held = relayer.held_batches(0).await.unwrap();
    let held: Vec<Vec<i64>> = held.iter().map(|h| ids(h)).collect();
    assert_eq!(
        held,
        vec![ids(&a), ids(&c)],
        "a batch partly written back is on chain: the write-back finishes it, it is not posted again"
    );
    assert_eq!(
        relayer.heartbeat().await.unwrap(),
        3 + 2,
        "only recorded claims are kept alive"
    );
    // A refusal never erases where a job went.
    relayer.refuse(&ids(&b)[1..], "late").await.unwrap();
    let claims = relayer.open_claims().await.unwrap();
    assert!(claims.iter().all(|c| c.root == [1; 32]), "{claims:?}");
    // A batch handed back untouched (its store did not answer) is queued as it was.
    relayer.release(&ids(&c)).await.unwrap();
    let rows = statuses(&pg.url).await;
    for id in ids(&c) {
        let r = rows.iter().find(|r| r.0 == id).unwrap();
        assert_eq!((r.1.as_str(), r.2, r.3.as_deref()), ("queued", 0, None));
    }
    let again = relayer.claim_batch(0).await.unwrap().unwrap();
    assert_eq!(ids(&again), ids(&c), "and the crowd may take it again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_witness_store_hands_batches_back_untouched_then_for_good() {
    use crowdprove_relayer::source::{JobSource, PgSource};
    let pg = PgCluster::start();
    let queue = std::sync::Arc::new(filled(&pg.url, 2, 2).await);
    // `filled` points the witnesses at s3:// URLs, which this source does not read: as if the
    // store did not answer.
    let mut source = PgSource::new(queue.clone(), 0, &Default::default());
    for strike in 1..5 {
        let e = source.next_batch().await.unwrap_err();
        assert!(
            format!("{e:#}").contains("handed back to the queue, tried again later"),
            "{e:#}"
        );
        let rows = statuses(&pg.url).await;
        assert!(
            rows.iter().all(|r| r.1 == "queued" && r.2 == 0),
            "strike {strike}: queued again, no attempt spent: {rows:?}"
        );
    }
    // The fifth time it goes to the operator's provers, with the reason.
    source.next_batch().await.unwrap_err();
    let rows = statuses(&pg.url).await;
    let first: Vec<_> = rows.iter().filter(|r| r.0 <= 2).collect();
    assert!(
        first.iter().all(|r| r.1 == "queued" && r.2 == 1),
        "{first:?}"
    );
    assert!(
        queue
            .claim_batch(0)
            .await
            .unwrap()
            .is_some_and(|b| b[0].l1_batch_number == 2),
        "the crowd no longer takes batch 1, it takes batch 2"
    );
}
