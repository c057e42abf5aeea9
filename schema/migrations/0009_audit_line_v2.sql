CREATE TABLE `audit_period_counts` (
	`scope` text NOT NULL,
	`from` integer NOT NULL,
	`to` integer NOT NULL,
	`through_seq` integer NOT NULL,
	`counts` text NOT NULL,
	PRIMARY KEY(`scope`, `from`, `to`)
);
--> statement-breakpoint
CREATE INDEX `audit_period_counts_to` ON `audit_period_counts` (`to`);--> statement-breakpoint
-- No query looks a line up by its decision id (the impact replay reads lines by time and action).
DROP INDEX `audit_decision`;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `format` integer;--> statement-breakpoint
-- Pruning keeps how a line was hashed: a line's format never changes (src/audit/chain.ts), otherwise as migration
-- 0006 had it.
DROP TRIGGER `audit_log_prune_only`;
--> statement-breakpoint
CREATE TRIGGER `audit_log_prune_only` BEFORE UPDATE ON `audit_log`
WHEN NOT (
  NEW.`entry` IS NULL AND OLD.`entry` IS NOT NULL AND OLD.`action` <> 'audit.pruned'
  AND NEW.`seq` = OLD.`seq` AND NEW.`at` = OLD.`at` AND NEW.`action` = OLD.`action` AND NEW.`outcome` = OLD.`outcome`
  AND NEW.`leaf_hash` = OLD.`leaf_hash` AND NEW.`chain_hash` = OLD.`chain_hash` AND NEW.`format` IS OLD.`format`
  AND NEW.`actor_sub` IS NULL AND NEW.`actor_org` IS NULL AND NEW.`client_ref` IS NULL AND NEW.`purpose` IS NULL
  AND NEW.`decision_id` IS NULL
  AND NEW.`actor_iss` IS NULL AND NEW.`actor_role` IS NULL AND NEW.`bsn_lookup` IS NULL AND NEW.`noodtoegang` IS NULL
  AND NEW.`time_class` IS NULL
  AND EXISTS (
    SELECT 1 FROM `audit_log` AS p
    WHERE p.`action` = 'audit.pruned' AND p.`seq` > OLD.`seq` AND p.`entry` IS NOT NULL
      AND json_extract(p.`entry`, '$.entry.fromSeq') <= OLD.`seq` AND json_extract(p.`entry`, '$.entry.toSeq') >= OLD.`seq`
      AND OLD.`at` < json_extract(p.`entry`, '$.entry.before')
      AND json_extract(p.`entry`, '$.entry.before') <= p.`at` - json_extract(p.`entry`, '$.entry.retentionDays') * 86400000
  )
)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
