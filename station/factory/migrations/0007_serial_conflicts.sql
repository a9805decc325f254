-- A certificate serial is unique across the fleet (DESIGN section 9), like a public key and a
-- board id. Serials are 159 random bits, so two stations issuing one means a station that
-- does not draw them as it should (a cloned home, a broken random source): there is nothing
-- to reserve before signing, so the store finds it when the second certificate arrives. The
-- check is a trigger on the certificates table, so whatever writes certificates (an ingest, a
-- supervisor's resolve deriving them again) cannot skip it. Both certificates are kept and
-- the pair is a conflict, listed with both stations, boards and certificates: never merged.

ALTER TABLE conflicts DROP CONSTRAINT conflicts_kind_check;
ALTER TABLE conflicts ADD CONSTRAINT conflicts_kind_check
    CHECK (kind IN ('key', 'board', 'serial'));

CREATE INDEX certificates_serial ON certificates (serial);

CREATE FUNCTION factory_serial_conflicts() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    -- The certificate stored first is the first side; the one arriving now, the second.
    INSERT INTO conflicts (kind, found_by, spki_sha256, board_uid, first_station, first_board,
                           first_serial, second_station, second_board, second_serial)
    SELECT 'serial', 'sync', n.spki_sha256, n.board_uid, c.station_id, c.board_uid, c.serial,
           n.station_id, n.board_uid, n.serial
    FROM new_certificates n
    JOIN certificates c ON c.serial = n.serial AND c.station_id <> n.station_id
    WHERE NOT EXISTS (SELECT 1 FROM new_certificates m
                      WHERE m.station_id = c.station_id AND m.serial = c.serial)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER certificates_serial_unique AFTER INSERT ON certificates
    REFERENCING NEW TABLE AS new_certificates
    FOR EACH STATEMENT EXECUTE FUNCTION factory_serial_conflicts();
