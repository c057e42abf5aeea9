CREATE TABLE `klantprofielen` (
	`client_ref` text NOT NULL,
	`n` integer NOT NULL,
	`profiel` text NOT NULL,
	`vanaf` text NOT NULL,
	`tot` text,
	`gemeente` text NOT NULL,
	PRIMARY KEY(`client_ref`, `n`)
);
--> statement-breakpoint
CREATE INDEX `klantprofielen_gemeente` ON `klantprofielen` (`gemeente`,`profiel`,`client_ref`);--> statement-breakpoint
DROP INDEX `overdrachten_naar_status`;--> statement-breakpoint
CREATE INDEX `overdrachten_inbox` ON `overdrachten` (`naar_organisatie`,`richting`,`status`,`datum`);--> statement-breakpoint
-- Backfill: the klantprofielen of the records already stored, so an existing records.db keeps working without a new import.
INSERT INTO `klantprofielen` (`client_ref`, `n`, `profiel`, `vanaf`, `tot`, `gemeente`)
SELECT c.`client_ref`, k.`key`, json_extract(k.`value`, '$.profiel'), json_extract(k.`value`, '$.vanaf'), json_extract(k.`value`, '$.tot'), c.`gemeente`
FROM `clients` c, json_each(c.`record`, '$.klantprofielen') k;
