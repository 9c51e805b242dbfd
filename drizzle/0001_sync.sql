CREATE TABLE `blobs` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`committed_at` integer,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `blobs_age` ON `blobs` (`state`,`created_at`);--> statement-breakpoint
CREATE TABLE `collections` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`kind` text NOT NULL,
	`wrapped_key` text NOT NULL,
	`encrypted_metadata` text NOT NULL,
	`version` integer NOT NULL,
	`change_seq` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `collections_changes` ON `collections` (`account_id`,`change_seq`);--> statement-breakpoint
CREATE TABLE `items` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`collection_id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`wrapped_key` text,
	`encrypted_metadata` text,
	`blob_id` text,
	`trashed_at` integer,
	`change_seq` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `items_changes` ON `items` (`account_id`,`change_seq`);--> statement-breakpoint
CREATE INDEX `items_trash` ON `items` (`state`,`trashed_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `items_blob` ON `items` (`account_id`,`blob_id`);--> statement-breakpoint
CREATE TABLE `sync_state` (
	`account_id` text PRIMARY KEY NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`bytes_used` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `upload_parts` (
	`account_id` text NOT NULL,
	`upload_id` text NOT NULL,
	`part_number` integer NOT NULL,
	`size` integer NOT NULL,
	`etag` text NOT NULL,
	PRIMARY KEY(`account_id`, `upload_id`, `part_number`)
);
--> statement-breakpoint
CREATE TABLE `uploads` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`blob_id` text NOT NULL,
	`store_upload_id` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`part_size` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `uploads_expiry` ON `uploads` (`expires_at`);--> statement-breakpoint
CREATE TABLE `write_guards` (
	`ok` integer NOT NULL
);
