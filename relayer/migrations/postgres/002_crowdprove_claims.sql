-- The relayer's own record of the jobs it handed to the crowd, beside the operator's table:
-- which on-chain batch (by its witness root) and which leaf each claimed job became. It lets a
-- restarted relayer write results back, and it keeps a job the crowd once had (or the relayer
-- refused: root NULL) from going to the crowd again: after a cancelled batch or an unreadable
-- witness the job goes back to the operator's own provers. Idempotent, like 001.
CREATE TABLE IF NOT EXISTS crowdprove_claims (
    prover_job_id BIGINT      PRIMARY KEY REFERENCES prover_jobs (id) ON DELETE CASCADE,
    -- The on-chain batch's witness root; NULL when the relayer refused the job (its error is
    -- in prover_jobs.error).
    batch_root    BYTEA,
    leaf          INTEGER     NOT NULL,
    claimed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A batch's claims, found by its root (resuming after a restart).
CREATE INDEX IF NOT EXISTS crowdprove_claims_root ON crowdprove_claims (batch_root);
