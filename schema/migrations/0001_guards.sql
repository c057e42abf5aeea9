-- Append-only by construction (see schema/audit.ts). The only permitted change to an audit line is retention pruning:
-- its content is blanked while position, time, action and both hashes stay, so the chain still verifies.
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log`
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_log_prune_only` BEFORE UPDATE ON `audit_log`
WHEN NOT (
  NEW.`entry` IS NULL AND OLD.`entry` IS NOT NULL
  AND NEW.`seq` = OLD.`seq` AND NEW.`at` = OLD.`at` AND NEW.`action` = OLD.`action` AND NEW.`outcome` = OLD.`outcome`
  AND NEW.`leaf_hash` = OLD.`leaf_hash` AND NEW.`chain_hash` = OLD.`chain_hash`
  AND NEW.`actor_sub` IS NULL AND NEW.`actor_org` IS NULL AND NEW.`client_ref` IS NULL AND NEW.`purpose` IS NULL
)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_checkpoints_no_update` BEFORE UPDATE ON `audit_checkpoints`
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_checkpoints_no_delete` BEFORE DELETE ON `audit_checkpoints`
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
--> statement-breakpoint
-- A policy version's content never changes once stored; only its status and decision move.
CREATE TRIGGER `policy_versions_immutable` BEFORE UPDATE ON `policy_versions`
WHEN NEW.`document` IS NOT OLD.`document` OR NEW.`hash` IS NOT OLD.`hash` OR NEW.`author_sub` IS NOT OLD.`author_sub`
  OR NEW.`created_at` IS NOT OLD.`created_at` OR NEW.`id` IS NOT OLD.`id`
BEGIN SELECT RAISE(ABORT, 'policy versions are immutable'); END;
--> statement-breakpoint
CREATE TRIGGER `policy_versions_no_delete` BEFORE DELETE ON `policy_versions`
BEGIN SELECT RAISE(ABORT, 'policy versions are never deleted'); END;
