CREATE TABLE "web_reauthentications" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"session_hash" text NOT NULL,
	"issuer" text NOT NULL,
	"nonce" text NOT NULL,
	"code_verifier" text NOT NULL,
	"step" text NOT NULL,
	"detail" text,
	"return_to" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "fresh_step" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "fresh_detail" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "fresh_at" bigint;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "noodtoegang_id" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "noodtoegang_token_id" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "noodtoegang_client_ref" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "noodtoegang_purpose" text;--> statement-breakpoint
ALTER TABLE "web_sessions" ADD COLUMN "noodtoegang_until" bigint;--> statement-breakpoint
CREATE INDEX "web_reauthentications_created" ON "web_reauthentications" USING btree ("created_at");