-- Ingest: a batch of one station's events, checked against the stored chain on the server.
--
-- p_seqs, p_hashes, p_canonicals: the events in seq order, each as the station hashed it.
-- p_local_seq, p_local_hash: the station's own head as it pushes (to see a truncated database).
-- Events the store holds already must be the very same (a repeated push changes nothing); new
-- ones must follow the stored head one by one, each hashing to its hash and linking to the one
-- before. The first event that does not marks the station diverged at its seq; the events
-- before it are kept, nothing after it is, and nothing more is accepted until a supervisor
-- resolves it (factory_resolve).

CREATE FUNCTION factory_ingest(
    p_station text, p_line text, p_seqs bigint[], p_hashes text[], p_canonicals text[],
    p_local_seq bigint, p_local_hash text)
RETURNS TABLE (head_seq bigint, head_hash text, accepted integer, diverged_seq bigint,
               diverged_reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    st stations%ROWTYPE;
    bad_seq bigint;
    bad_why text;
    new_head bigint;
    new_hash text;
    stored text;
BEGIN
    PERFORM factory_check_role(p_station);
    IF cardinality(p_seqs) <> cardinality(p_hashes)
       OR cardinality(p_seqs) <> cardinality(p_canonicals) THEN
        RAISE EXCEPTION 'factory_ingest: % seqs, % hashes, % events', cardinality(p_seqs),
            cardinality(p_hashes), cardinality(p_canonicals);
    END IF;
    INSERT INTO stations (station_id, line) VALUES (p_station, p_line)
    ON CONFLICT (station_id) DO NOTHING;
    SELECT * INTO st FROM stations s WHERE s.station_id = p_station FOR UPDATE;
    UPDATE stations s SET last_seen = now(), line = p_line WHERE s.station_id = p_station;
    IF st.diverged_seq IS NOT NULL THEN
        RETURN QUERY SELECT st.head_seq, st.head_hash, 0, st.diverged_seq, st.diverged_reason;
        RETURN;
    END IF;

    -- 1. Events already stored must be the same events (a fork or a rewrite otherwise).
    SELECT min(b.s) INTO bad_seq
    FROM unnest(p_seqs, p_hashes) AS b(s, h)
    JOIN events e ON e.station_id = p_station AND e.seq = b.s
    WHERE e.hash <> b.h;
    IF bad_seq IS NOT NULL THEN
        bad_why := format('event %s differs from the one the store holds: the station''s '
                          'history was rewritten or forked after it synced', bad_seq);
    END IF;

    -- 2. The station's own head behind the store's: its newest events were deleted.
    IF bad_seq IS NULL AND p_local_seq < st.head_seq THEN
        SELECT e.hash INTO stored FROM events e
        WHERE e.station_id = p_station AND e.seq = p_local_seq;
        IF p_local_seq = 0 OR stored = p_local_hash THEN
            bad_seq := p_local_seq + 1;
            bad_why := format('the station''s database ends at seq %s but the store holds up '
                              'to %s: its newest events were deleted after it synced',
                              p_local_seq, st.head_seq);
        ELSE
            bad_seq := p_local_seq;
            bad_why := format('the station''s head (seq %s) differs from the stored event: '
                              'its history was rewritten after it synced', p_local_seq);
        END IF;
    END IF;

    -- 3. New events extend the stored head, one seq after the other, each hashing to its hash
    --    and linking to the one before. Each event is parsed and hashed once: the check and the
    --    insert read the same materialised rows; what precedes the first bad event is kept.
    IF bad_seq IS NULL THEN
        WITH b AS MATERIALIZED (
            SELECT u.s, u.h, u.c, x.j,
                   st.head_seq + row_number() OVER (ORDER BY u.ord) AS expected,
                   coalesce(lag(u.h) OVER (ORDER BY u.ord), st.head_hash) AS prev,
                   encode(sha256(convert_to(u.c, 'UTF8')), 'hex') AS computed
            FROM unnest(p_seqs, p_hashes, p_canonicals) WITH ORDINALITY AS u(s, h, c, ord),
                 LATERAL (SELECT u.c::jsonb) AS x(j)
            WHERE u.s > st.head_seq
        ), first_bad AS (
            SELECT min(b.expected) AS k FROM b
            WHERE b.s <> b.expected OR b.computed <> b.h OR (b.j->>'seq')::bigint <> b.s
               OR b.j->>'prev_hash' <> b.prev OR b.j->>'station_id' IS DISTINCT FROM p_station
        )
        INSERT INTO events (station_id, seq, hash, prev_hash, at, kind, operator, slot,
                            board_uid, serial, code, text, data, canonical)
        SELECT p_station, b.s, b.h, b.j->>'prev_hash', (b.j->>'at')::timestamptz, b.j->>'kind',
               b.j->>'operator', b.j->>'slot', b.j->>'board_uid', b.j->>'serial',
               b.j->>'code', b.j->>'text', ((b.j->>'data')::jsonb) - 'pem', b.c
        FROM b, first_bad
        WHERE first_bad.k IS NULL OR b.expected < first_bad.k
        ORDER BY b.s;

        -- Why the first bad event is bad (only when there is one).
        SELECT n.expected, CASE
                   WHEN n.s <> n.expected THEN format('seq %s came where %s was due', n.s,
                                                      n.expected)
                   WHEN encode(sha256(convert_to(n.c, 'UTF8')), 'hex') <> n.h
                       OR (n.c::jsonb->>'seq')::bigint <> n.s
                       THEN format('event %s does not hash to its stored hash', n.s)
                   WHEN n.c::jsonb->>'station_id' IS DISTINCT FROM p_station
                       THEN format('event %s was recorded by station %s, not %s', n.s,
                                   n.c::jsonb->>'station_id', p_station)
                   ELSE format('event %s does not link to the hash of event %s the store '
                               'holds: the station''s history was rewritten or forked',
                               n.s, n.s - 1)
               END
          INTO bad_seq, bad_why
        FROM (
            SELECT u.s, u.h, u.c,
                   st.head_seq + row_number() OVER (ORDER BY u.ord) AS expected,
                   coalesce(lag(u.h) OVER (ORDER BY u.ord), st.head_hash) AS prev
            FROM unnest(p_seqs, p_hashes, p_canonicals) WITH ORDINALITY AS u(s, h, c, ord)
            WHERE u.s > st.head_seq
        ) AS n
        WHERE n.expected > (SELECT coalesce(max(e.seq), 0) FROM events e
                            WHERE e.station_id = p_station)
        ORDER BY n.expected
        LIMIT 1;
    END IF;

    SELECT e.seq, e.hash INTO new_head, new_hash FROM events e
    WHERE e.station_id = p_station ORDER BY e.seq DESC LIMIT 1;
    new_head := coalesce(new_head, 0);
    new_hash := coalesce(new_hash, st.head_hash);
    IF new_head > st.head_seq THEN
        PERFORM factory_derive(p_station, st.head_seq + 1, new_head);
    END IF;
    UPDATE stations s SET head_seq = new_head, head_hash = new_hash,
        diverged_seq = bad_seq, diverged_at = CASE WHEN bad_seq IS NULL THEN NULL ELSE now() END,
        diverged_reason = bad_why
    WHERE s.station_id = p_station;
    RETURN QUERY SELECT new_head, new_hash, (new_head - st.head_seq)::integer, bad_seq, bad_why;
END $$;

-- The stored hashes of some of a station's events (the station compares them with its own to
-- find where its history left the stored one). Reads only.
CREATE FUNCTION factory_hashes(p_station text, p_seqs bigint[])
RETURNS TABLE (seq bigint, hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT e.seq, e.hash FROM events e
    WHERE e.station_id = p_station AND e.seq = ANY (p_seqs) ORDER BY e.seq
$$;

-- A supervisor's decision on a diverged station: the stored events from the first bad seq on
-- are archived (kept, with the reason), its certificates are derived again from what remains,
-- and the station may push again from there. Not for station roles.
CREATE FUNCTION factory_resolve(p_station text, p_note text)
RETURNS TABLE (archived integer, head_seq bigint)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    st stations%ROWTYPE;
    moved integer;
    new_head bigint;
    new_hash text;
BEGIN
    SELECT * INTO st FROM stations s WHERE s.station_id = p_station FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no station % in the factory store', p_station
            USING HINT = 'list the stations with `station factory status`';
    END IF;
    IF st.diverged_seq IS NULL THEN
        RAISE EXCEPTION 'station % is not diverged: nothing to resolve', p_station;
    END IF;
    INSERT INTO divergences (station_id, seq, reason, found_at, note)
    VALUES (p_station, st.diverged_seq, st.diverged_reason, st.diverged_at, p_note);
    WITH gone AS (
        DELETE FROM events e WHERE e.station_id = p_station AND e.seq >= st.diverged_seq
        RETURNING e.*
    )
    INSERT INTO archived_events SELECT gone.*, now() FROM gone;
    GET DIAGNOSTICS moved = ROW_COUNT;
    SELECT e.seq, e.hash INTO new_head, new_hash FROM events e
    WHERE e.station_id = p_station ORDER BY e.seq DESC LIMIT 1;
    DELETE FROM certificates c WHERE c.station_id = p_station;
    DELETE FROM reservations r WHERE r.station_id = p_station
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.station_id = p_station
                        AND e.kind = 'ISSUED' AND e.data->>'spki_sha256' = r.spki_sha256);
    IF new_head IS NOT NULL THEN
        PERFORM factory_derive(p_station, 1, new_head);
    END IF;
    UPDATE stations s SET head_seq = coalesce(new_head, 0),
        head_hash = coalesce(new_hash, repeat('0', 64)),
        diverged_seq = NULL, diverged_at = NULL, diverged_reason = NULL
    WHERE s.station_id = p_station;
    RETURN QUERY SELECT moved, coalesce(new_head, 0);
END $$;
