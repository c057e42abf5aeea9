CREATE TABLE `clients` (
	`client_ref` text PRIMARY KEY NOT NULL,
	`bsn` text NOT NULL,
	`gemeente` text NOT NULL,
	`record` text NOT NULL,
	`imported_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `clients_bsn_unique` ON `clients` (`bsn`);--> statement-breakpoint
CREATE INDEX `clients_gemeente` ON `clients` (`gemeente`);--> statement-breakpoint
CREATE TABLE `overdrachten` (
	`client_ref` text NOT NULL,
	`id` text NOT NULL,
	`richting` text NOT NULL,
	`status` text NOT NULL,
	`datum` text NOT NULL,
	`naar_organisatie` text NOT NULL,
	PRIMARY KEY(`client_ref`, `id`)
);
--> statement-breakpoint
CREATE INDEX `overdrachten_naar_status` ON `overdrachten` (`naar_organisatie`,`status`,`datum`);--> statement-breakpoint
CREATE TABLE `schuldhulptrajecten` (
	`client_ref` text NOT NULL,
	`id` text NOT NULL,
	`gemeente` text NOT NULL,
	`vanaf` text NOT NULL,
	`tot` text,
	PRIMARY KEY(`client_ref`, `id`)
);
--> statement-breakpoint
CREATE INDEX `schuldhulptrajecten_gemeente` ON `schuldhulptrajecten` (`gemeente`,`client_ref`);