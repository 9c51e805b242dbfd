CREATE TABLE `audit_log` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`at` integer NOT NULL,
	`action` text NOT NULL,
	`device_id` text,
	`session_id` text,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `audit_log_account` ON `audit_log` (`account_id`,`at`);--> statement-breakpoint
CREATE TABLE `commands` (
	`account_id` text NOT NULL,
	`device_id` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`args` text NOT NULL,
	`issued_at` integer NOT NULL,
	`counter` integer NOT NULL,
	`signature` text NOT NULL,
	`status` text NOT NULL,
	`result` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer,
	`acknowledged_at` integer,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `commands_device` ON `commands` (`device_id`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `location_reports` (
	`account_id` text NOT NULL,
	`device_id` text NOT NULL,
	`id` text NOT NULL,
	`sealed` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `location_reports_device` ON `location_reports` (`account_id`,`device_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `location_reports_age` ON `location_reports` (`received_at`);--> statement-breakpoint
ALTER TABLE `devices` ADD `find_enabled` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `devices` ADD `command_counter` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `devices` ADD `last_location` text;--> statement-breakpoint
ALTER TABLE `devices` ADD `last_location_at` integer;