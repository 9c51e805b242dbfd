CREATE TABLE `push_subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`device_id` text,
	`session_id` text,
	`endpoint` text NOT NULL,
	`p256dh` text NOT NULL,
	`auth` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_success_at` integer,
	`failures` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `push_subscriptions_endpoint` ON `push_subscriptions` (`account_id`,`endpoint`);--> statement-breakpoint
CREATE INDEX `push_subscriptions_device` ON `push_subscriptions` (`device_id`);--> statement-breakpoint
CREATE INDEX `push_subscriptions_session` ON `push_subscriptions` (`session_id`);--> statement-breakpoint
ALTER TABLE `commands` ADD `expires_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `commands` ADD `lease_until` integer;--> statement-breakpoint
ALTER TABLE `commands` ADD `deliveries` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `commands_expiry` ON `commands` (`status`,`expires_at`);--> statement-breakpoint
ALTER TABLE `devices` ADD `lost_since` integer;--> statement-breakpoint
ALTER TABLE `devices` ADD `lost_notified_at` integer;--> statement-breakpoint
-- ON DELETE CASCADE by hand (drizzle-kit leaves it out of ADD COLUMN): removing a device ends the
-- sessions opened on it in the same statement.
ALTER TABLE `sessions` ADD `device_id` text REFERENCES devices(id) ON DELETE CASCADE;--> statement-breakpoint
CREATE INDEX `sessions_device` ON `sessions` (`device_id`);--> statement-breakpoint
-- Data: Lost Mode becomes state. A device the owner locked in the last 30 days (the old guess)
-- starts out lost, so nobody's lost phone stops raising SIM alerts across the upgrade.
UPDATE `devices` SET `lost_since` = (
  SELECT max(`created_at`) FROM `commands`
  WHERE `commands`.`device_id` = `devices`.`id` AND `commands`.`type` = 'lock'
    AND `commands`.`status` IN ('pending', 'delivered', 'succeeded')
    AND `commands`.`created_at` > CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 2592000000
);--> statement-breakpoint
-- Commands signed before this version carry no expiry: they had a 10-minute window, and a phone
-- on this version refuses their format, so the ones still open end as expired.
UPDATE `commands` SET `expires_at` = `issued_at` + 600000;--> statement-breakpoint
UPDATE `commands` SET `status` = 'expired' WHERE `status` IN ('pending', 'delivered');
