-- The factory store, version 1: every station's events as the station hashed them, the
-- certificates and boards derived from them, key reservations and conflicts.
--
-- Stations never write the tables: they call factory_ingest() and factory_reserve(), which
-- check what a station sends (its chain, its role) on the server, where no station can skip
-- the check. Grant a station's role EXECUTE on those functions and nothing else (README).

CREATE TABLE stations (
    station_id text PRIMARY KEY,
    line text NOT NULL DEFAULT '',
    last_seen timestamptz,
    head_seq bigint NOT NULL DEFAULT 0,
    head_hash text NOT NULL DEFAULT repeat('0', 64),
    -- Set when the station's chain stopped extending the stored one; nothing more is accepted
    -- from it until factory_resolve() (a supervisor's command) clears it.
    diverged_seq bigint,
    diverged_at timestamptz,
    diverged_reason text
);

-- A login role that belongs to one station may push (and reserve) only as that station.
CREATE TABLE station_roles (
    role_name text PRIMARY KEY,
    station_id text NOT NULL
);

CREATE TABLE events (
    station_id text NOT NULL REFERENCES stations,
    seq bigint NOT NULL CHECK (seq > 0),
    hash text NOT NULL,
    prev_hash text NOT NULL,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    operator text,
    slot text,
    board_uid text,
    serial text,
    code text,
    text text,
    data jsonb NOT NULL,
    -- The exact text the station hashed (station/audit/chain.py): the columns above are read
    -- from it on the server, and its SHA-256 is the hash.
    canonical text NOT NULL,
    PRIMARY KEY (station_id, seq),
    CHECK (hash = encode(sha256(convert_to(canonical, 'UTF8')), 'hex'))
);
CREATE INDEX events_board ON events (board_uid);
CREATE INDEX events_at ON events (at);

-- Events the store held for a station before a supervisor resolved its divergence: kept, never
-- deleted, so the evidence outlives the resolution.
CREATE TABLE archived_events (LIKE events INCLUDING DEFAULTS);
ALTER TABLE archived_events ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE divergences (
    id bigserial PRIMARY KEY,
    station_id text NOT NULL REFERENCES stations,
    seq bigint NOT NULL,
    reason text NOT NULL,
    found_at timestamptz NOT NULL,
    resolved_at timestamptz NOT NULL DEFAULT now(),
    resolved_by text NOT NULL DEFAULT session_user,
    note text NOT NULL
);

CREATE TABLE boards (
    board_uid text PRIMARY KEY,
    model text,
    firmware text,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);

CREATE TABLE certificates (
    station_id text NOT NULL REFERENCES stations,
    serial text NOT NULL,
    board_uid text NOT NULL,
    sha256 text NOT NULL,
    spki_sha256 text NOT NULL,
    subject text NOT NULL,
    not_before timestamptz NOT NULL,
    not_after timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN
        ('issued', 'delivered', 'verified', 'locked', 'revoked', 'superseded')),
    issued_at timestamptz NOT NULL,
    issued_seq bigint NOT NULL,
    PRIMARY KEY (station_id, serial)
);
CREATE INDEX certificates_spki ON certificates (spki_sha256);
CREATE INDEX certificates_board ON certificates (board_uid);

-- One public key, one station: the primary key is the fleet-wide uniqueness.
CREATE TABLE reservations (
    spki_sha256 text PRIMARY KEY,
    station_id text NOT NULL REFERENCES stations,
    board_uid text NOT NULL,
    reserved_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conflicts (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('key', 'board')),
    found_by text NOT NULL CHECK (found_by IN ('reservation', 'sync')),
    found_at timestamptz NOT NULL DEFAULT now(),
    spki_sha256 text,
    board_uid text NOT NULL,
    first_station text NOT NULL,
    first_board text NOT NULL,
    first_serial text,
    second_station text NOT NULL,
    second_board text NOT NULL,
    second_serial text,
    resolved_at timestamptz,
    resolution text,
    UNIQUE NULLS NOT DISTINCT (kind, spki_sha256, board_uid, first_station, first_serial,
                               second_station, second_serial)
);

CREATE FUNCTION factory_check_role(p_station text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    own text;
BEGIN
    SELECT station_id INTO own FROM station_roles WHERE role_name = session_user;
    IF own IS NOT NULL AND own <> p_station THEN
        RAISE EXCEPTION 'role % belongs to station %, not %', session_user, own, p_station
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'check [station] id and the role in [factory] url';
    END IF;
END $$;
