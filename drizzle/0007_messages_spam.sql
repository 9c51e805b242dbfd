CREATE TABLE `message_blocks` (
	`account_id` text NOT NULL,
	`number_index` text NOT NULL,
	`number_sealed` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `number_index`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `message_copies` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`device_id` text NOT NULL,
	`dedupe_key` text NOT NULL,
	`sealed` text NOT NULL,
	`size` integer NOT NULL,
	`sender_device_id` text NOT NULL,
	`sender_number_sealed` text NOT NULL,
	`sender_ed25519_public_key` text NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `message_copies_dedupe` ON `message_copies` (`device_id`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `message_copies_queue` ON `message_copies` (`device_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `message_copies_age` ON `message_copies` (`received_at`);--> statement-breakpoint
CREATE INDEX `message_copies_account` ON `message_copies` (`account_id`);--> statement-breakpoint
CREATE TABLE `messaging_identities` (
	`device_id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`number_index` text NOT NULL,
	`number_sealed` text NOT NULL,
	`x25519_public_key` text NOT NULL,
	`ed25519_public_key` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `messaging_identities_number` ON `messaging_identities` (`number_index`);--> statement-breakpoint
CREATE INDEX `messaging_identities_account` ON `messaging_identities` (`account_id`);--> statement-breakpoint
CREATE TABLE `spam_blocklist` (
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`version` integer NOT NULL,
	`listed` integer NOT NULL,
	PRIMARY KEY(`kind`, `value`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `spam_blocklist_version` ON `spam_blocklist` (`version`);--> statement-breakpoint
CREATE TABLE `spam_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`device_id` text NOT NULL,
	`number_index` text NOT NULL,
	`number_sealed` text NOT NULL,
	`fingerprint` text,
	`text_sealed` text,
	`text_expires_at` integer,
	`weight` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `spam_reports_account_number` ON `spam_reports` (`account_id`,`number_index`);--> statement-breakpoint
CREATE INDEX `spam_reports_number` ON `spam_reports` (`number_index`,`created_at`);--> statement-breakpoint
CREATE INDEX `spam_reports_age` ON `spam_reports` (`created_at`);