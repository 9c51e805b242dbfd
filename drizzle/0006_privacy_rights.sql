CREATE TABLE `account_deletions` (
	`account_id` text PRIMARY KEY NOT NULL,
	`requested_by` text NOT NULL,
	`requested_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	`purge_started_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `account_deletions_due` ON `account_deletions` (`due_at`);--> statement-breakpoint
CREATE TABLE `account_tombstones` (
	`account_id` text PRIMARY KEY NOT NULL,
	`deleted_at` integer NOT NULL,
	`receipt_id` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `consent_events` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`purpose` text NOT NULL,
	`device_id` text DEFAULT '' NOT NULL,
	`granted` integer NOT NULL,
	`policy_version` integer NOT NULL,
	`actor_session_id` text,
	`actor_device_id` text,
	`choice` text,
	`receipt_id` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `consent_events_purpose` ON `consent_events` (`account_id`,`purpose`,`device_id`,`at`);--> statement-breakpoint
CREATE TABLE `deletion_receipts` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`payload` text NOT NULL,
	`signature` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deletion_receipts_account` ON `deletion_receipts` (`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `diagnostics` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`device_id` text,
	`kind` text NOT NULL,
	`body` text NOT NULL,
	`size` integer NOT NULL,
	`app_version` text,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `diagnostics_account` ON `diagnostics` (`account_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `diagnostics_age` ON `diagnostics` (`received_at`);--> statement-breakpoint
CREATE TABLE `guardianships` (
	`account_id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`guardian_sealed` text NOT NULL,
	`guardian_index` text NOT NULL,
	`birth_year` integer NOT NULL,
	`consented_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `guardianships_guardian` ON `guardianships` (`guardian_index`);--> statement-breakpoint
CREATE TABLE `job_runs` (
	`name` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`duration_ms` integer,
	`counts` text,
	`error` text,
	`runs` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `pending_signups` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`email_index` text NOT NULL,
	`request_sealed` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pending_signups_email` ON `pending_signups` (`email_index`);--> statement-breakpoint
CREATE INDEX `pending_signups_expiry` ON `pending_signups` (`expires_at`);--> statement-breakpoint
CREATE TABLE `policy_notices` (
	`account_id` text NOT NULL,
	`version` integer NOT NULL,
	`emailed_at` integer,
	`acknowledged_at` integer,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `version`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`version` integer PRIMARY KEY NOT NULL,
	`reduces_rights` integer NOT NULL,
	`text_sha256` text NOT NULL,
	`published_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `verification_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`purpose` text NOT NULL,
	`subject_id` text NOT NULL,
	`channel` text NOT NULL,
	`target_sealed` text NOT NULL,
	`target_index` text NOT NULL,
	`code_hash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer
);
--> statement-breakpoint
CREATE INDEX `verification_codes_subject` ON `verification_codes` (`subject_id`,`purpose`);--> statement-breakpoint
CREATE INDEX `verification_codes_expiry` ON `verification_codes` (`expires_at`);--> statement-breakpoint
ALTER TABLE `audit_log` ADD `detail` text;--> statement-breakpoint
CREATE INDEX `audit_log_age` ON `audit_log` (`at`);--> statement-breakpoint
ALTER TABLE `sync_state` ADD `tombstones_purged_through` integer DEFAULT 0 NOT NULL;