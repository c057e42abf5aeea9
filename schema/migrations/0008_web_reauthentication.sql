CREATE TABLE `web_reauthentications` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`session_hash` text NOT NULL,
	`issuer` text NOT NULL,
	`nonce` text NOT NULL,
	`code_verifier` text NOT NULL,
	`step` text NOT NULL,
	`detail` text,
	`return_to` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `web_reauthentications_created` ON `web_reauthentications` (`created_at`);--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `fresh_step` text;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `fresh_detail` text;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `fresh_at` integer;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `noodtoegang_id` text;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `noodtoegang_token_id` text;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `noodtoegang_client_ref` text;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `noodtoegang_purpose` text;--> statement-breakpoint
ALTER TABLE `web_sessions` ADD `noodtoegang_until` integer;