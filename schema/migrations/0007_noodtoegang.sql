CREATE TABLE `noodtoegang` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`at` integer NOT NULL,
	`actor_iss` text NOT NULL,
	`actor_sub` text NOT NULL,
	`actor_role` text NOT NULL,
	`actor_org` text NOT NULL,
	`person` text NOT NULL,
	`client_id` text NOT NULL,
	`client_ref` text NOT NULL,
	`purpose` text NOT NULL,
	`reden` text NOT NULL,
	`token_id` text NOT NULL,
	`verdict` text,
	`verdict_note` text,
	`verdict_iss` text,
	`verdict_sub` text,
	`verdict_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `noodtoegang_id` ON `noodtoegang` (`id`);--> statement-breakpoint
CREATE INDEX `noodtoegang_person` ON `noodtoegang` (`person`,`at`);--> statement-breakpoint
CREATE INDEX `noodtoegang_org` ON `noodtoegang` (`actor_org`,`seq`);--> statement-breakpoint
CREATE INDEX `noodtoegang_open` ON `noodtoegang` (`seq`) WHERE verdict IS NULL;--> statement-breakpoint
-- An emergency access is never deleted, and what it was never changes: the only update sets its verdict, once, with
-- the note, the officer and the time together.
CREATE TRIGGER `noodtoegang_no_delete` BEFORE DELETE ON `noodtoegang`
BEGIN SELECT RAISE(ABORT, 'emergency accesses are never deleted'); END;
--> statement-breakpoint
CREATE TRIGGER `noodtoegang_verdict_once` BEFORE UPDATE ON `noodtoegang`
WHEN NOT (
  OLD.`verdict` IS NULL AND OLD.`verdict_note` IS NULL AND OLD.`verdict_iss` IS NULL AND OLD.`verdict_sub` IS NULL AND OLD.`verdict_at` IS NULL
  AND NEW.`verdict` IN ('terecht', 'onterecht') AND NEW.`verdict_note` IS NOT NULL AND NEW.`verdict_iss` IS NOT NULL
  AND NEW.`verdict_sub` IS NOT NULL AND NEW.`verdict_at` IS NOT NULL
  AND NEW.`seq` = OLD.`seq` AND NEW.`id` = OLD.`id` AND NEW.`at` = OLD.`at` AND NEW.`actor_iss` = OLD.`actor_iss`
  AND NEW.`actor_sub` = OLD.`actor_sub` AND NEW.`actor_role` = OLD.`actor_role` AND NEW.`actor_org` = OLD.`actor_org`
  AND NEW.`person` = OLD.`person` AND NEW.`client_id` = OLD.`client_id` AND NEW.`client_ref` = OLD.`client_ref`
  AND NEW.`purpose` = OLD.`purpose` AND NEW.`reden` = OLD.`reden` AND NEW.`token_id` = OLD.`token_id`
)
BEGIN SELECT RAISE(ABORT, 'an emergency access gets one verdict, and nothing else of it changes'); END;
