-- Several instances keep the policy in force in memory (src/policy/active-pg.ts). Whenever a version becomes active
-- (the first start's version 1, an approval), the transaction that made it so notifies channel
-- doelpoort_policy_active with its id: NOTIFY is delivered only when that transaction commits, so no instance hears
-- of a version that rolled back. Each instance listens and re-reads; a one-second poll covers a dropped listener.
CREATE FUNCTION policy_versions_notify_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'active' THEN
    PERFORM pg_notify('doelpoort_policy_active', NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER policy_versions_notify_active AFTER INSERT OR UPDATE OF status ON policy_versions
  FOR EACH ROW EXECUTE FUNCTION policy_versions_notify_active();
