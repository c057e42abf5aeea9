-- The guards SQLite's triggers keep (schema/migrations 0001_guards, 0003_prune_cover, 0006_oversight,
-- 0007_noodtoegang), in PL/pgSQL, plus what several writers on one database need. Row triggers do not fire on
-- TRUNCATE, so each guarded table refuses TRUNCATE too. (A superuser or the owner can disable triggers; the
-- database role of the gateway should own nothing but what the migrations create, and verify and the witnessed
-- checkpoints detect a rewrite whatever the database allowed.)

-- A new line must extend the head: line 1 follows the 32 zero bytes, line n the chain hash of line n-1, and its
-- chain hash must be SHA-256(0x01 ‖ previous ‖ leaf), its leaf hash SHA-256(0x00 ‖ content) (src/audit/chain.ts).
-- With the primary key on seq this refuses a gap, a fork and a line computed from a stale head, whatever the writer.
CREATE FUNCTION audit_log_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous bytea;
BEGIN
  IF NEW.seq = 1 THEN
    previous := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  ELSE
    SELECT chain_hash INTO previous FROM audit_log WHERE seq = NEW.seq - 1;
  END IF;
  IF previous IS NULL OR NEW.seq < 1 THEN
    RAISE EXCEPTION 'audit_log: line % does not follow a line', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.entry IS NULL OR NEW.leaf_hash <> sha256('\x00'::bytea || convert_to(NEW.entry, 'UTF8'))
     OR NEW.chain_hash <> sha256('\x01'::bytea || previous || NEW.leaf_hash) THEN
    RAISE EXCEPTION 'audit_log: line % does not extend the chain', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_extends_head BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_extends_head();
--> statement-breakpoint
-- Append-only (schema/audit.ts): the one permitted change is retention pruning, which blanks a line's content and
-- query columns, keeps position, time, action, outcome and both hashes, and only for a line an earlier
-- `audit.pruned` line covers (its seq range, older than its `before`, which lies its retention period before it).
CREATE FUNCTION audit_log_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
    AND NEW.entry IS NULL AND OLD.entry IS NOT NULL AND OLD.action <> 'audit.pruned'
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome
    AND NEW.leaf_hash = OLD.leaf_hash AND NEW.chain_hash = OLD.chain_hash
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
--> statement-breakpoint
CREATE TRIGGER audit_log_prune_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_prune_only();
--> statement-breakpoint
-- Tables whose rows are never changed nor deleted (UPDATE, DELETE and TRUNCATE refused); the argument names them.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log EXECUTE FUNCTION refuse_change('audit_log is append-only');
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION refuse_change('audit_checkpoints is append-only');
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints EXECUTE FUNCTION refuse_change('audit_checkpoints is append-only');
--> statement-breakpoint
CREATE TRIGGER oversight_reviews_append_only BEFORE UPDATE OR DELETE ON oversight_reviews FOR EACH ROW EXECUTE FUNCTION refuse_change('oversight_reviews is append-only');
--> statement-breakpoint
CREATE TRIGGER oversight_reviews_no_truncate BEFORE TRUNCATE ON oversight_reviews EXECUTE FUNCTION refuse_change('oversight_reviews is append-only');
--> statement-breakpoint
-- A policy version's content never changes once stored; only its status and decision move; never deleted.
CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.document IS DISTINCT FROM OLD.document OR NEW.hash IS DISTINCT FROM OLD.hash
    OR NEW.author_sub IS DISTINCT FROM OLD.author_sub OR NEW.author_iss IS DISTINCT FROM OLD.author_iss
    OR NEW.author_org IS DISTINCT FROM OLD.author_org OR NEW.created_at IS DISTINCT FROM OLD.created_at
    OR NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'policy versions are immutable' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();
--> statement-breakpoint
CREATE TRIGGER policy_versions_no_delete BEFORE DELETE ON policy_versions FOR EACH ROW EXECUTE FUNCTION refuse_change('policy versions are never deleted');
--> statement-breakpoint
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions EXECUTE FUNCTION refuse_change('policy versions are never deleted');
--> statement-breakpoint
-- An emergency access is never deleted, and what it was never changes: the only update sets its verdict, once.
CREATE FUNCTION noodtoegang_verdict_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.verdict IS NULL AND OLD.verdict_note IS NULL AND OLD.verdict_iss IS NULL AND OLD.verdict_sub IS NULL AND OLD.verdict_at IS NULL
    AND NEW.verdict IN ('terecht', 'onterecht') AND NEW.verdict_note IS NOT NULL AND NEW.verdict_iss IS NOT NULL
    AND NEW.verdict_sub IS NOT NULL AND NEW.verdict_at IS NOT NULL
    AND NEW.seq = OLD.seq AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_iss = OLD.actor_iss
    AND NEW.actor_sub = OLD.actor_sub AND NEW.actor_role = OLD.actor_role AND NEW.actor_org = OLD.actor_org
    AND NEW.person = OLD.person AND NEW.client_id = OLD.client_id AND NEW.client_ref = OLD.client_ref
    AND NEW.purpose = OLD.purpose AND NEW.reden = OLD.reden AND NEW.token_id = OLD.token_id
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'an emergency access gets one verdict, and nothing else of it changes' USING ERRCODE = 'integrity_constraint_violation';
END $$;
--> statement-breakpoint
CREATE TRIGGER noodtoegang_verdict_once BEFORE UPDATE ON noodtoegang FOR EACH ROW EXECUTE FUNCTION noodtoegang_verdict_once();
--> statement-breakpoint
CREATE TRIGGER noodtoegang_no_delete BEFORE DELETE ON noodtoegang FOR EACH ROW EXECUTE FUNCTION refuse_change('emergency accesses are never deleted');
--> statement-breakpoint
CREATE TRIGGER noodtoegang_no_truncate BEFORE TRUNCATE ON noodtoegang EXECUTE FUNCTION refuse_change('emergency accesses are never deleted');
