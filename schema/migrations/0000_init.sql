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
CREATE INDEX `schuldhulptrajecten_gemeente` ON `schuldhulptrajecten` (`gemeente`,`client_ref`);--> statement-breakpoint
CREATE TABLE `audit_checkpoints` (
	`size` integer PRIMARY KEY NOT NULL,
	`head` blob NOT NULL,
	`at` integer NOT NULL,
	`signature` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`action` text NOT NULL,
	`outcome` text NOT NULL,
	`actor_sub` text,
	`actor_org` text,
	`client_ref` text,
	`purpose` text,
	`decision_id` text,
	`entry` text,
	`leaf_hash` blob NOT NULL,
	`chain_hash` blob NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_client` ON `audit_log` (`client_ref`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_actor` ON `audit_log` (`actor_sub`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_purpose` ON `audit_log` (`purpose`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_decision` ON `audit_log` (`decision_id`);--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`id` integer PRIMARY KEY NOT NULL,
	`document` text NOT NULL,
	`hash` text NOT NULL,
	`status` text NOT NULL,
	`author_sub` text NOT NULL,
	`author_org` text NOT NULL,
	`created_at` integer NOT NULL,
	`base_version` integer,
	`decider_sub` text,
	`decided_at` integer,
	`reject_reason` text
);
--> statement-breakpoint
CREATE INDEX `policy_versions_status` ON `policy_versions` (`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `policy_versions_one_active` ON `policy_versions` (`status`) WHERE status = 'active';