CREATE TABLE `sim_events` (
	`account_id` text NOT NULL,
	`device_id` text NOT NULL,
	`id` text NOT NULL,
	`kind` text NOT NULL,
	`sim_id_hash` text NOT NULL,
	`carrier_sealed` text,
	`claimed_number_sealed` text,
	`verified_number_sealed` text,
	`method` text,
	`status` text NOT NULL,
	`alert` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`verified_at` integer,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sim_events_device` ON `sim_events` (`device_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `sim_verifications` (
	`account_id` text NOT NULL,
	`event_id` text NOT NULL,
	`device_id` text NOT NULL,
	`code_hash` text,
	`inbound_token_index` text,
	`number_index` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer,
	PRIMARY KEY(`account_id`, `event_id`),
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sim_verifications_inbound` ON `sim_verifications` (`inbound_token_index`);--> statement-breakpoint
CREATE INDEX `sim_verifications_expiry` ON `sim_verifications` (`expires_at`);