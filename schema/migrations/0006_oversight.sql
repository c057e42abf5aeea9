CREATE TABLE `oversight_reviews` (
	`id` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`officer_iss` text NOT NULL,
	`officer_sub` text NOT NULL,
	`officer_org` text NOT NULL,
	`subject` text NOT NULL,
	`period_from` text NOT NULL,
	`period_to` text NOT NULL,
	`note` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `oversight_reviews_org` ON `oversight_reviews` (`officer_org`,`id`);--> statement-breakpoint
-- The review trail is append-only: a correction is a new review.
CREATE TRIGGER `oversight_reviews_no_update` BEFORE UPDATE ON `oversight_reviews`
BEGIN SELECT RAISE(ABORT, 'oversight_reviews is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `oversight_reviews_no_delete` BEFORE DELETE ON `oversight_reviews`
BEGIN SELECT RAISE(ABORT, 'oversight_reviews is append-only'); END;
--> statement-breakpoint
ALTER TABLE `audit_log` ADD `actor_iss` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `actor_role` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `bsn_lookup` integer;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `noodtoegang` integer;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `time_class` integer;--> statement-breakpoint
-- The lines already written get their report columns from their own hashed content, as AuditLog.append computes them
-- for new lines (verify checks both alike). The time class applies the EU summer-time rule Europe/Amsterdam has kept
-- since 1996 (UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October, UTC+1
-- otherwise); src/audit/office-hours.ts reads the same rule from the platform's time-zone data. The prune trigger
-- would refuse this update, so it is dropped for it and comes back below, blanking the new columns too.
DROP TRIGGER `audit_log_prune_only`;
--> statement-breakpoint
UPDATE `audit_log` SET
  `actor_iss` = json_extract(`entry`, '$.entry.actor.iss'),
  `actor_role` = json_extract(`entry`, '$.entry.actor.role'),
  `bsn_lookup` = CASE WHEN json_extract(`entry`, '$.entry.bsnPseudonym') IS NOT NULL
    AND (`action` = 'token.issued' OR (`action` = 'token.refused' AND `client_ref` IS NULL)) THEN 1 END,
  `noodtoegang` = CASE WHEN json_extract(`entry`, '$.entry.noodtoegang') = 1 THEN 1 END,
  `time_class` = (
    SELECT (h >= 19 OR h < 7) + 2 * (d IN (0, 6)) FROM (
      SELECT (l / 3600000) % 24 AS h, (l / 86400000 + 4) % 7 AS d FROM (
        SELECT `audit_log`.`at` + CASE
          WHEN `audit_log`.`at` >= (unixepoch(date(strftime('%Y', `audit_log`.`at` / 1000, 'unixepoch') || '-03-25', 'weekday 0')) + 3600) * 1000
           AND `audit_log`.`at` < (unixepoch(date(strftime('%Y', `audit_log`.`at` / 1000, 'unixepoch') || '-10-25', 'weekday 0')) + 3600) * 1000
          THEN 7200000 ELSE 3600000 END AS l
      )
    )
  )
WHERE `entry` IS NOT NULL;
--> statement-breakpoint
CREATE TRIGGER `audit_log_prune_only` BEFORE UPDATE ON `audit_log`
WHEN NOT (
  NEW.`entry` IS NULL AND OLD.`entry` IS NOT NULL AND OLD.`action` <> 'audit.pruned'
  AND NEW.`seq` = OLD.`seq` AND NEW.`at` = OLD.`at` AND NEW.`action` = OLD.`action` AND NEW.`outcome` = OLD.`outcome`
  AND NEW.`leaf_hash` = OLD.`leaf_hash` AND NEW.`chain_hash` = OLD.`chain_hash`
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
--> statement-breakpoint
CREATE INDEX `audit_oversight` ON `audit_log` (`actor_org`,`action`,`outcome`,`actor_role`,`purpose`,`bsn_lookup`,`noodtoegang`,`time_class`,`at`);--> statement-breakpoint
CREATE INDEX `audit_person` ON `audit_log` (`actor_org`,`actor_iss`,`actor_sub`,`actor_role`,`action`,`at`,`outcome`,`noodtoegang`,`time_class`,`bsn_lookup`,`client_ref`);
