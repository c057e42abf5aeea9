-- Audit line format 2 (src/audit/chain.ts, schema/migrations 0009_audit_line_v2): the leaf hash covers exactly the
-- stored columns. The linkage trigger of migration 0001 recomputes a new line's hashes by the line's format: format 2
-- over the line encoding of its columns, a line without a format (format 1, as the release before wrote them, e.g.
-- from an instance not yet upgraded) over its content as before; any other format is refused. Pruning keeps a
-- line's format, as SQLite's trigger does.

-- One element of the format-2 line encoding: `~` for NULL, else the length of the text in UTF-16 code units (what
-- JavaScript's `length` counts: a character beyond U+FFFF counts twice), a colon and the text.
CREATE FUNCTION audit_line_field(v text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v IS NULL THEN '~'
    ELSE (length(v) + length(regexp_replace(v, '[^\U00010000-\U0010FFFF]', '', 'g')))::text || ':' || v END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_log_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous bytea;
  content text;
BEGIN
  IF NEW.seq = 1 THEN
    previous := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  ELSE
    SELECT chain_hash INTO previous FROM audit_log WHERE seq = NEW.seq - 1;
  END IF;
  IF previous IS NULL OR NEW.seq < 1 THEN
    RAISE EXCEPTION 'audit_log: line % does not follow a line', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.entry IS NULL OR (NEW.format IS NOT NULL AND NEW.format <> 2) THEN
    RAISE EXCEPTION 'audit_log: line % has no content of a known format', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.format = 2 THEN
    -- The columns in LINE_COLUMNS order (src/audit/chain.ts), integers in decimal.
    content := '2' || audit_line_field(NEW.seq::text) || audit_line_field(NEW.at::text) || audit_line_field(NEW.action)
      || audit_line_field(NEW.outcome) || audit_line_field(NEW.actor_iss) || audit_line_field(NEW.actor_sub)
      || audit_line_field(NEW.actor_role) || audit_line_field(NEW.actor_org) || audit_line_field(NEW.client_ref)
      || audit_line_field(NEW.purpose) || audit_line_field(NEW.decision_id) || audit_line_field(NEW.bsn_lookup::text)
      || audit_line_field(NEW.noodtoegang::text) || audit_line_field(NEW.time_class::text) || audit_line_field(NEW.entry);
  ELSE
    content := NEW.entry;
  END IF;
  IF NEW.leaf_hash <> sha256('\x00'::bytea || convert_to(content, 'UTF8'))
     OR NEW.chain_hash <> sha256('\x01'::bytea || previous || NEW.leaf_hash) THEN
    RAISE EXCEPTION 'audit_log: line % does not extend the chain', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_log_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
    AND NEW.entry IS NULL AND OLD.entry IS NOT NULL AND OLD.action <> 'audit.pruned'
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome
    AND NEW.leaf_hash = OLD.leaf_hash AND NEW.chain_hash = OLD.chain_hash AND NEW.format IS NOT DISTINCT FROM OLD.format
    AND NEW.actor_sub IS NULL AND NEW.actor_org IS NULL AND NEW.client_ref IS NULL AND NEW.purpose IS NULL
    AND NEW.decision_id IS NULL
    AND NEW.actor_iss IS NULL AND NEW.actor_role IS NULL AND NEW.bsn_lookup IS NULL AND NEW.noodtoegang IS NULL
    AND NEW.time_class IS NULL
    AND EXISTS (
      SELECT 1 FROM audit_log AS p
      WHERE p.action = 'audit.pruned' AND p.seq > OLD.seq AND p.entry IS NOT NULL
        AND (p.entry::jsonb #>> '{entry,fromSeq}')::numeric <= OLD.seq
        AND (p.entry::jsonb #>> '{entry,toSeq}')::numeric >= OLD.seq
        AND OLD.at < (p.entry::jsonb #>> '{entry,before}')::numeric
        AND (p.entry::jsonb #>> '{entry,before}')::numeric
          <= p.at - (p.entry::jsonb #>> '{entry,retentionDays}')::numeric * 86400000
    )
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
