ALTER TABLE `policy_versions` ADD `author_iss` text DEFAULT '' NOT NULL;
--> statement-breakpoint
ALTER TABLE `policy_versions` ADD `decider_iss` text;
--> statement-breakpoint
-- The author is (issuer, sub, organisation): all of it is part of the version's content, which never changes.
DROP TRIGGER `policy_versions_immutable`;
--> statement-breakpoint
CREATE TRIGGER `policy_versions_immutable` BEFORE UPDATE ON `policy_versions`
WHEN NEW.`document` IS NOT OLD.`document` OR NEW.`hash` IS NOT OLD.`hash` OR NEW.`author_sub` IS NOT OLD.`author_sub`
  OR NEW.`author_iss` IS NOT OLD.`author_iss` OR NEW.`author_org` IS NOT OLD.`author_org`
  OR NEW.`created_at` IS NOT OLD.`created_at` OR NEW.`id` IS NOT OLD.`id`
BEGIN SELECT RAISE(ABORT, 'policy versions are immutable'); END;
