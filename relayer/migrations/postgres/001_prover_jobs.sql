-- The operator's proving queue, shaped like zkSync Era's `prover_jobs_fri`: one row a proving
-- job, claimed by whichever prover (the operator's own, or the CrowdProve relayer handing it to
-- the crowd) takes it first with `FOR UPDATE SKIP LOCKED`, so both can share one queue.
-- Idempotent: the relayer runs it at start (`crowdprove_relayer::pg_queue::PgQueue::migrate`).
CREATE TABLE IF NOT EXISTS prover_jobs (
    id                    BIGSERIAL PRIMARY KEY,
    -- The rollup's batch, and the job's place in it (round-0 chunks, in order).
    l1_batch_number       BIGINT      NOT NULL,
    circuit_id            SMALLINT    NOT NULL DEFAULT 0,
    aggregation_round     SMALLINT    NOT NULL DEFAULT 0,
    sequence_number       INTEGER     NOT NULL,
    -- queued -> in_progress -> successful | failed (queued again while attempts remain).
    status                TEXT        NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'in_progress', 'successful', 'failed')),
    attempts              SMALLINT    NOT NULL DEFAULT 0,
    error                 TEXT,
    picked_by             TEXT,
    -- Where the witness is (the object store), and where the proof went.
    witness_blob_url      TEXT        NOT NULL,
    proof_blob_url        TEXT,
    processing_started_at TIMESTAMPTZ,
    time_taken            INTERVAL,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (l1_batch_number, circuit_id, aggregation_round, sequence_number)
);
-- The claim's scan: queued jobs, oldest batch first.
CREATE INDEX IF NOT EXISTS prover_jobs_queued
    ON prover_jobs (aggregation_round DESC, l1_batch_number, id) WHERE status = 'queued';
