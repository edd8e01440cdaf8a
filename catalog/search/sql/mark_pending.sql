-- The edit path's first step: every source table's statement triggers
-- (catalog/search/triggers.py) call catalog_search_mark_pending with the ids of
-- the items a statement changed; it stores their new documents in
-- catalog_searchpending, which the overlay serves (overlay.py) until the next
-- refresh claims them (refresh.py), and notifies the refresher on the channel
-- catalog_search_pending (triggers.NOTIFY_CHANNEL).
--
-- Migration 0002 installs this file. A change here needs a new migration that
-- runs it again (RunSQL(triggers.MARK_PENDING_SQL)); until one has, the
-- database check (catalog/checks.py) says the database's functions differ.
CREATE OR REPLACE FUNCTION catalog_search_mark_pending(item_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    columns text;
    doc_columns text;
BEGIN
    IF cardinality(item_ids) = 0 THEN
        RETURN;
    END IF;
    -- A bulk load (import_catalog) leaves its items to the next refresh:
    -- computing a document per row here would double its time. The request is
    -- a row, committed with the load, so a refresher started later still finds
    -- it and the status counts its items; the notification only wakes one now.
    IF current_setting('searchsite.defer_to_refresh', true) = 'on' THEN
        INSERT INTO catalog_searchrefreshrequest (item_id, requested_at)
        SELECT changed.id, clock_timestamp() FROM (SELECT DISTINCT unnest(item_ids)) AS changed (id);
        PERFORM pg_notify('catalog_search_pending', 'now');
        RETURN;
    END IF;
    -- Concurrent edits of one item take turns here: whoever locks second computes
    -- the document after the first has committed, so the highest version holds
    -- both edits. Editors of different items never wait on each other.
    PERFORM FROM catalog_item WHERE id = ANY (item_ids) ORDER BY id FOR NO KEY UPDATE;
    -- This transaction's earlier versions of these items are superseded.
    DELETE FROM catalog_searchpending
    WHERE item_id = ANY (item_ids) AND xact = pg_current_xact_id()::text::bigint;
    -- The document's columns, read from the view itself, so that this function
    -- follows any change to the view's SQL without a migration.
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg('doc.' || quote_ident(attname), ', ' ORDER BY attnum)
    INTO columns, doc_columns
    FROM pg_attribute
    WHERE attrelid = 'catalog_searchdocument'::regclass
      AND attnum > 0 AND NOT attisdropped AND attname <> 'id';
    EXECUTE format(
        'INSERT INTO catalog_searchpending (item_id, xact, changed_at, deleted, %s)
         SELECT changed.id, pg_current_xact_id()::text::bigint, clock_timestamp(), doc.id IS NULL, %s
         FROM unnest($1) AS changed (id)
         LEFT JOIN catalog_searchdocument AS doc ON doc.id = changed.id',
        columns, doc_columns
    ) USING item_ids;
    PERFORM pg_notify('catalog_search_pending', '');
END
$$;

-- TRUNCATE has no transition table: mark every item, present or indexed.
CREATE OR REPLACE FUNCTION catalog_search_mark_all_pending() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_search_mark_pending(
        ARRAY(SELECT id FROM catalog_item UNION SELECT id FROM catalog_searchindex)
    );
END
$$;
