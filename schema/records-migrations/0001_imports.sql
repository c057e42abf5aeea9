CREATE TABLE `imports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`origin` text NOT NULL,
	`lines` integer NOT NULL,
	`clients` integer NOT NULL
);
