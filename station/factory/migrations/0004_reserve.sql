-- Reserve a public key (and a board id) for a station before it signs.
--
-- outcome: 'reserved' (also when this station reserved the same key for the same board before:
-- a retried cycle), 'key-taken' (another station, or another board here, holds the key),
-- 'board-elsewhere' (another station holds an active certificate for the board), 'diverged'
-- (the station's chain diverged: the store accepts nothing from it). A refusal is recorded as
-- a conflict, so it is listed and never merged silently.

CREATE FUNCTION factory_reserve(p_station text, p_line text, p_spki text, p_board text)
RETURNS TABLE (outcome text, other_station text, other_board text, other_serial text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    st stations%ROWTYPE;
    r reservations%ROWTYPE;
    c certificates%ROWTYPE;
BEGIN
    PERFORM factory_check_role(p_station);
    INSERT INTO stations (station_id, line) VALUES (p_station, p_line)
    ON CONFLICT (station_id) DO NOTHING;
    SELECT * INTO st FROM stations s WHERE s.station_id = p_station;
    IF st.diverged_seq IS NOT NULL THEN
        RETURN QUERY SELECT 'diverged'::text, NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    PERFORM factory_lock();

    SELECT * INTO r FROM reservations x WHERE x.spki_sha256 = p_spki;
    IF FOUND AND (r.station_id <> p_station OR r.board_uid <> p_board) THEN
        SELECT * INTO c FROM certificates y
        WHERE y.spki_sha256 = p_spki AND y.station_id = r.station_id
        ORDER BY y.issued_at LIMIT 1;
        INSERT INTO conflicts (kind, found_by, spki_sha256, board_uid, first_station,
                               first_board, first_serial, second_station, second_board)
        VALUES ('key', 'reservation', p_spki, p_board, r.station_id, r.board_uid, c.serial,
                p_station, p_board)
        ON CONFLICT DO NOTHING;
        RETURN QUERY SELECT 'key-taken'::text, r.station_id, r.board_uid, c.serial;
        RETURN;
    END IF;

    SELECT * INTO c FROM certificates y
    WHERE y.board_uid = p_board AND y.station_id <> p_station
      AND y.status IN ('issued', 'delivered', 'verified', 'locked')
    ORDER BY y.issued_at DESC LIMIT 1;
    IF FOUND THEN
        INSERT INTO conflicts (kind, found_by, spki_sha256, board_uid, first_station,
                               first_board, first_serial, second_station, second_board)
        VALUES ('board', 'reservation', p_spki, p_board, c.station_id, c.board_uid, c.serial,
                p_station, p_board)
        ON CONFLICT DO NOTHING;
        RETURN QUERY SELECT 'board-elsewhere'::text, c.station_id, c.board_uid, c.serial;
        RETURN;
    END IF;

    INSERT INTO reservations (spki_sha256, station_id, board_uid)
    VALUES (p_spki, p_station, p_board)
    ON CONFLICT (spki_sha256) DO NOTHING;
    RETURN QUERY SELECT 'reserved'::text, NULL::text, NULL::text, NULL::text;
END $$;

-- Station roles call these two and nothing else (see README: a role per station).
REVOKE ALL ON FUNCTION factory_ingest(text, text, bigint[], text[], text[], bigint, text),
    factory_reserve(text, text, text, text), factory_hashes(text, bigint[]),
    factory_resolve(text, text) FROM PUBLIC;
