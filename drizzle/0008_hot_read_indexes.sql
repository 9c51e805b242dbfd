DROP INDEX `collections_changes`;--> statement-breakpoint
CREATE INDEX `collections_changes` ON `collections` (`account_id`,`change_seq`,`id`);--> statement-breakpoint
DROP INDEX `consent_events_purpose`;--> statement-breakpoint
CREATE INDEX `consent_events_purpose` ON `consent_events` (`account_id`,`purpose`,`device_id`);--> statement-breakpoint
DROP INDEX `items_changes`;--> statement-breakpoint
CREATE INDEX `items_changes` ON `items` (`account_id`,`change_seq`,`id`);