CREATE INDEX `audit_pruned` ON `audit_log` (`seq`) WHERE action = 'audit.pruned';--> statement-breakpoint
-- Blanking a line is pruning only when an earlier `audit.pruned` line covers it: the prune line is written first, in
-- the same transaction, naming the seq range it blanks (fromSeq..toSeq), the time before which lines are blanked
-- (`before`), and the retention period it applied; `before` must lie at least that long before the prune line's own
-- time. A prune line itself is never blanked, so what was pruned stays on record.
DROP TRIGGER `audit_log_prune_only`;
--> statement-breakpoint
CREATE TRIGGER `audit_log_prune_only` BEFORE UPDATE ON `audit_log`
WHEN NOT (
  NEW.`entry` IS NULL AND OLD.`entry` IS NOT NULL AND OLD.`action` <> 'audit.pruned'
  AND NEW.`seq` = OLD.`seq` AND NEW.`at` = OLD.`at` AND NEW.`action` = OLD.`action` AND NEW.`outcome` = OLD.`outcome`
  AND NEW.`leaf_hash` = OLD.`leaf_hash` AND NEW.`chain_hash` = OLD.`chain_hash`
  AND NEW.`actor_sub` IS NULL AND NEW.`actor_org` IS NULL AND NEW.`client_ref` IS NULL AND NEW.`purpose` IS NULL
  AND NEW.`decision_id` IS NULL
  AND EXISTS (
    SELECT 1 FROM `audit_log` AS p
    WHERE p.`action` = 'audit.pruned' AND p.`seq` > OLD.`seq` AND p.`entry` IS NOT NULL
      AND json_extract(p.`entry`, '$.entry.fromSeq') <= OLD.`seq` AND json_extract(p.`entry`, '$.entry.toSeq') >= OLD.`seq`
      AND OLD.`at` < json_extract(p.`entry`, '$.entry.before')
      AND json_extract(p.`entry`, '$.entry.before') <= p.`at` - json_extract(p.`entry`, '$.entry.retentionDays') * 86400000
  )
)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
