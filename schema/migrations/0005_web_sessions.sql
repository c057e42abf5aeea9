CREATE TABLE `web_pending_logins` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`nonce` text NOT NULL,
	`code_verifier` text NOT NULL,
	`issuer` text NOT NULL,
	`return_to` text,
	`binding_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `web_pending_logins_created` ON `web_pending_logins` (`created_at`);--> statement-breakpoint
CREATE TABLE `web_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`sub` text NOT NULL,
	`role` text NOT NULL,
	`org` text NOT NULL,
	`name` text,
	`id_token` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `web_sessions_last_seen` ON `web_sessions` (`last_seen_at`);--> statement-breakpoint
CREATE INDEX `web_sessions_expires` ON `web_sessions` (`expires_at`);