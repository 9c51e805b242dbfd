CREATE TABLE `blob_usage` (
	`account_id` text PRIMARY KEY NOT NULL,
	`bytes_used` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `blobs` ADD `refs` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Data: the quota counter moves from sync_state to the blobs feature's own table, and each blob
-- counts the items that reference it (trashed ones included; tombstones hold no blob).
INSERT INTO `blob_usage` (`account_id`, `bytes_used`) SELECT `account_id`, `bytes_used` FROM `sync_state`;--> statement-breakpoint
UPDATE `blobs` SET `refs` = (SELECT count(*) FROM `items` WHERE `items`.`account_id` = `blobs`.`account_id` AND `items`.`blob_id` = `blobs`.`id`);--> statement-breakpoint
ALTER TABLE `sync_state` DROP COLUMN `bytes_used`;
