CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit_failures" (
	"address_hash" "bytea" NOT NULL,
	"window_start" bigint NOT NULL,
	"failures" integer NOT NULL,
	CONSTRAINT "rate_limit_failures_pk" PRIMARY KEY("address_hash","window_start")
);
--> statement-breakpoint
CREATE TABLE "replay_jti" (
	"kind" text NOT NULL,
	"jti_hash" "bytea" NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "replay_jti_pk" PRIMARY KEY("kind","jti_hash")
);
--> statement-breakpoint
CREATE INDEX "rate_limit_failures_window" ON "rate_limit_failures" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "replay_jti_expires" ON "replay_jti" USING btree ("expires_at");