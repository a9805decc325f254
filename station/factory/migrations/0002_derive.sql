-- Certificates, boards, reservations and conflicts derived from a station's events on ingest.
-- One transaction-scoped advisory lock orders every derivation and reservation in the store, so
-- two stations certifying one key at the same moment cannot both miss each other.

CREATE FUNCTION factory_lock() RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7215150001) $$;

CREATE FUNCTION factory_derive(p_station text, p_from bigint, p_to bigint) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM factory_lock();

    INSERT INTO boards AS b (board_uid, model, firmware, first_seen, last_seen)
    SELECT e.board_uid,
           max(e.data->>'model') FILTER (WHERE e.kind = 'ISSUED'),
           max(e.data->>'firmware') FILTER (WHERE e.kind = 'ISSUED'),
           min(e.at), max(e.at)
    FROM events e
    WHERE e.station_id = p_station AND e.seq BETWEEN p_from AND p_to AND e.board_uid IS NOT NULL
    GROUP BY e.board_uid
    ON CONFLICT (board_uid) DO UPDATE SET
        model = coalesce(excluded.model, b.model),
        firmware = coalesce(excluded.firmware, b.firmware),
        first_seen = least(b.first_seen, excluded.first_seen),
        last_seen = greatest(b.last_seen, excluded.last_seen);

    -- A key certified here that another station reserved or certified, and a board certified
    -- here while another station's certificate for it is still active: conflicts, never merged.
    INSERT INTO conflicts (kind, found_by, spki_sha256, board_uid, first_station, first_board,
                           first_serial, second_station, second_board, second_serial)
    SELECT 'key', 'sync', e.data->>'spki_sha256', e.board_uid, r.station_id, r.board_uid,
           (SELECT c.serial FROM certificates c WHERE c.spki_sha256 = r.spki_sha256
              AND c.station_id = r.station_id ORDER BY c.issued_at LIMIT 1),
           p_station, e.board_uid, e.serial
    FROM events e
    JOIN reservations r ON r.spki_sha256 = e.data->>'spki_sha256' AND r.station_id <> p_station
    WHERE e.station_id = p_station AND e.seq BETWEEN p_from AND p_to AND e.kind = 'ISSUED'
    ON CONFLICT DO NOTHING;

    INSERT INTO conflicts (kind, found_by, spki_sha256, board_uid, first_station, first_board,
                           first_serial, second_station, second_board, second_serial)
    SELECT 'board', 'sync', NULL, e.board_uid, c.station_id, c.board_uid, c.serial,
           p_station, e.board_uid, e.serial
    FROM events e
    JOIN certificates c ON c.board_uid = e.board_uid AND c.station_id <> p_station
        AND c.status IN ('issued', 'delivered', 'verified', 'locked')
    WHERE e.station_id = p_station AND e.seq BETWEEN p_from AND p_to AND e.kind = 'ISSUED'
    ON CONFLICT DO NOTHING;

    INSERT INTO certificates (station_id, serial, board_uid, sha256, spki_sha256, subject,
                              not_before, not_after, status, issued_at, issued_seq)
    SELECT p_station, e.serial, e.board_uid, e.data->>'sha256', e.data->>'spki_sha256',
           e.data->>'subject', (e.data->>'not_before')::timestamptz,
           (e.data->>'not_after')::timestamptz, 'issued', e.at, e.seq
    FROM events e
    WHERE e.station_id = p_station AND e.seq BETWEEN p_from AND p_to AND e.kind = 'ISSUED'
    ON CONFLICT DO NOTHING;

    INSERT INTO reservations (spki_sha256, station_id, board_uid, reserved_at)
    SELECT e.data->>'spki_sha256', p_station, e.board_uid, e.at
    FROM events e
    WHERE e.station_id = p_station AND e.seq BETWEEN p_from AND p_to AND e.kind = 'ISSUED'
    ON CONFLICT DO NOTHING;

    -- Each certificate takes the status of the last event that changed it.
    UPDATE certificates c SET status = last.status
    FROM (
        SELECT DISTINCT ON (e.serial) e.serial,
               CASE e.kind
                   WHEN 'SUPERSEDED' THEN
                       CASE WHEN (e.data->>'revoked')::boolean THEN 'revoked' ELSE 'superseded' END
                   ELSE lower(e.kind)
               END AS status
        FROM events e
        WHERE e.station_id = p_station AND e.seq BETWEEN p_from AND p_to
          AND e.kind IN ('DELIVERED', 'VERIFIED', 'LOCKED', 'REVOKED', 'SUPERSEDED')
        ORDER BY e.serial, e.seq DESC
    ) AS last
    WHERE c.station_id = p_station AND c.serial = last.serial;
END $$;
