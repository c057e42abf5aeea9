CREATE TABLE "audit_period_counts" (
	"scope" text NOT NULL,
	"from" bigint NOT NULL,
	"to" bigint NOT NULL,
	"through_seq" bigint NOT NULL,
	"counts" text NOT NULL,
	CONSTRAINT "audit_period_counts_scope_from_to_pk" PRIMARY KEY("scope","from","to")
);
--> statement-breakpoint
DROP INDEX "audit_decision";--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "format" integer;--> statement-breakpoint
CREATE INDEX "audit_period_counts_to" ON "audit_period_counts" USING btree ("to");