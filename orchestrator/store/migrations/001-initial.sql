-- Reelforge store, version 1: tenants, keys, jobs, variants, steps, provider
-- calls, artifacts, the cost ledger and the event log.
-- Money is in micro-units of the job's currency (1 USD = 1 000 000) so sums
-- are exact.

CREATE TABLE tenants (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  daily_budget_micros bigint CHECK (daily_budget_micros >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a key is kept; prefix lets a person tell keys apart.
CREATE TABLE api_keys (
  id          bigserial PRIMARY KEY,
  tenant_id   bigint NOT NULL REFERENCES tenants(id),
  key_sha256  text NOT NULL UNIQUE,
  prefix      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE jobs (
  id              bigserial PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants(id),
  spec            jsonb NOT NULL,
  -- How to run it: {"approval": "before-render", "base_dir": "/abs/folder"}.
  options         jsonb NOT NULL DEFAULT '{}',
  status          text NOT NULL DEFAULT 'queued' CHECK (status IN
                    ('queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
  priority        smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
  budget_micros   bigint CHECK (budget_micros >= 0),
  reserved_micros bigint NOT NULL DEFAULT 0 CHECK (reserved_micros >= 0),
  spent_micros    bigint NOT NULL DEFAULT 0 CHECK (spent_micros >= 0),
  pause_reason    text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id DESC);

CREATE TABLE variants (
  id          bigserial PRIMARY KEY,
  job_id      bigint NOT NULL REFERENCES jobs(id),
  ordinal     integer NOT NULL,
  name        text NOT NULL,
  dimensions  jsonb NOT NULL DEFAULT '{}',
  UNIQUE (job_id, ordinal)
);

-- A step is claimed while 'ready' (or 'waiting' with a due next_run_at),
-- runs under a lease, and every write by its runner names the fencing token
-- it was claimed with: a daemon that lost the lease writes nothing.
-- 'blocked' steps wait for pending_dependencies to reach 0; 'waiting' steps
-- (provider poll, approval) hold no worker.
CREATE TABLE steps (
  id                   bigserial PRIMARY KEY,
  job_id               bigint NOT NULL REFERENCES jobs(id),
  variant_id           bigint REFERENCES variants(id),
  kind                 text NOT NULL,
  inputs               jsonb NOT NULL DEFAULT '{}',
  outputs              jsonb,
  status               text NOT NULL CHECK (status IN ('blocked', 'ready', 'running', 'waiting',
                         'succeeded', 'failed', 'cancelled', 'needs-attention')),
  wait_reason          text CHECK (wait_reason IN ('provider', 'approval')),
  priority             smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
  pending_dependencies integer NOT NULL DEFAULT 0 CHECK (pending_dependencies >= 0),
  attempt              integer NOT NULL DEFAULT 0,
  max_attempts         integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  lease_owner          text,
  lease_expires_at     timestamptz,
  fencing_token        bigint NOT NULL DEFAULT 0,
  next_run_at          timestamptz DEFAULT now(),
  error_class          text,
  last_error           text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
CREATE INDEX steps_claimable ON steps (priority DESC, next_run_at, id)
  WHERE status IN ('ready', 'waiting');
CREATE INDEX steps_leased ON steps (lease_expires_at) WHERE status = 'running';
CREATE INDEX steps_by_job ON steps (job_id);
-- "is anything of this job left?" after each success, without a scan.
CREATE INDEX steps_unfinished ON steps (job_id) WHERE status <> 'succeeded';

-- step_id runs after every depends_on has succeeded.
CREATE TABLE step_dependencies (
  step_id     bigint NOT NULL REFERENCES steps(id),
  depends_on  bigint NOT NULL REFERENCES steps(id),
  PRIMARY KEY (step_id, depends_on)
);
CREATE INDEX step_dependencies_reverse ON step_dependencies (depends_on);

-- A paid call: the intent row is committed before the POST, the provider's
-- id stored when it answers; a row in 'submitting' without an id after a
-- crash is reconciled or handed to a person, never resubmitted blindly.
CREATE TABLE provider_calls (
  id               bigserial PRIMARY KEY,
  step_id          bigint NOT NULL REFERENCES steps(id),
  provider         text NOT NULL,
  idempotency_key  text NOT NULL UNIQUE,
  state            text NOT NULL CHECK (state IN ('submitting', 'submitted', 'succeeded',
                     'failed', 'cancelled', 'needs-attention')),
  provider_job_id  text,
  reserved_micros  bigint NOT NULL DEFAULT 0,
  actual_micros    bigint,
  request          jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_calls_in_flight ON provider_calls (provider) WHERE state IN ('submitting', 'submitted');

CREATE TABLE artifacts (
  id          bigserial PRIMARY KEY,
  job_id      bigint NOT NULL REFERENCES jobs(id),
  variant_id  bigint REFERENCES variants(id),
  step_id     bigint NOT NULL REFERENCES steps(id),
  kind        text NOT NULL,
  uri         text NOT NULL,
  size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (step_id, kind, uri)
);
CREATE INDEX artifacts_by_job ON artifacts (job_id);

-- Reserve before spending, settle with the actual cost (the reservation is
-- released and the charge recorded in one transaction), release on cancel.
-- For a job: sum(reserve) - sum(release) - sum(settled reservations)
-- = jobs.reserved_micros, and sum(charge) = jobs.spent_micros.
CREATE TABLE cost_ledger (
  id               bigserial PRIMARY KEY,
  job_id           bigint NOT NULL REFERENCES jobs(id),
  step_id          bigint REFERENCES steps(id),
  provider_call_id bigint REFERENCES provider_calls(id),
  entry            text NOT NULL CHECK (entry IN ('reserve', 'release', 'charge')),
  amount_micros    bigint NOT NULL CHECK (amount_micros >= 0),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cost_ledger_by_job ON cost_ledger (job_id);

-- Every transition, for status pages, metrics and audits.
CREATE TABLE events (
  id             bigserial PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT clock_timestamp(),
  job_id         bigint NOT NULL REFERENCES jobs(id),
  step_id        bigint REFERENCES steps(id),
  kind           text NOT NULL,
  from_status    text,
  to_status      text,
  daemon         text,
  fencing_token  bigint,
  detail         jsonb
);
CREATE INDEX events_by_job ON events (job_id, id);
CREATE INDEX events_by_step ON events (step_id, id);
