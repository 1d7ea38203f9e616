-- Reelforge store, version 2: provider limits shared by every daemon, and
-- what the generate step needs to follow a provider call across runs.

-- At most max_in_flight calls to provider are submitting or submitted at a
-- time, and at most per_minute are started in any minute, across all
-- daemons. A reservation locks the provider's row FOR UPDATE NOWAIT, counts,
-- and inserts its intent before committing: peers queue behind the lock
-- instead of skipping it, so together they never exceed the limit. No row:
-- no limit.
CREATE TABLE provider_limits (
  provider       text PRIMARY KEY,
  max_in_flight  integer CHECK (max_in_flight >= 1),
  per_minute     integer CHECK (per_minute >= 1)
);

-- chain_index: which provider of the scene's fallback chain the call went
-- to; error: why it failed; cancel_sent_at: when the provider was asked to
-- cancel the job of a cancelled call (NULL: not yet, or it had no id).
ALTER TABLE provider_calls ADD COLUMN chain_index integer NOT NULL DEFAULT 0;
ALTER TABLE provider_calls ADD COLUMN error text;
ALTER TABLE provider_calls ADD COLUMN cancel_sent_at timestamptz;
CREATE INDEX provider_calls_by_step ON provider_calls (step_id, id);
CREATE INDEX provider_calls_started ON provider_calls (provider, created_at);
CREATE INDEX provider_calls_to_cancel ON provider_calls (id)
  WHERE state = 'cancelled' AND provider_job_id IS NOT NULL AND cancel_sent_at IS NULL;
