-- The Suite copy moved to its own file (records.db, schema/records-migrations), written only by import. A data dir of
-- an earlier version loses its records here: import the export again.
DROP TABLE `clients`;--> statement-breakpoint
DROP TABLE `overdrachten`;--> statement-breakpoint
DROP TABLE `schuldhulptrajecten`;