-- The AWS IoT handoff run over the whole fleet (`station aws sync --from-store`): each cloud
-- step recorded before (AWS_PENDING) and after (AWS_REGISTERED, AWS_REVOKED, AWS_FAILED), as
-- a station records its own in its audit database. A fleet run is no station and has no hash
-- chain of its own, so its steps go here and never into `events`; rows are only appended.

CREATE TABLE aws_steps (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL DEFAULT session_user,
    operator text,
    kind text NOT NULL CHECK (kind LIKE 'AWS\_%'),
    code text,
    station_id text REFERENCES stations,
    board_uid text,
    serial text,
    text text,
    data jsonb NOT NULL
);
CREATE INDEX aws_steps_certificate ON aws_steps ((data->>'certificate_id'));

CREATE FUNCTION aws_steps_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'aws_steps is append-only: the record of a cloud step is never changed'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'a step done again is a new row; the journal reads them in order';
END $$;

CREATE TRIGGER aws_steps_append_only BEFORE UPDATE OR DELETE ON aws_steps
FOR EACH ROW EXECUTE FUNCTION aws_steps_append_only();
