CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`email_ciphertext` text NOT NULL,
	`email_index` text NOT NULL,
	`phone_ciphertext` text,
	`phone_index` text,
	`kdf_salt` text NOT NULL,
	`kdf_ops_limit` integer NOT NULL,
	`kdf_mem_limit` integer NOT NULL,
	`login_public_key` text NOT NULL,
	`wrapped_master_key` text NOT NULL,
	`recovery_login_public_key` text NOT NULL,
	`recovery_wrapped_master_key` text NOT NULL,
	`x25519_public_key` text NOT NULL,
	`wrapped_x25519_secret_key` text NOT NULL,
	`ed25519_public_key` text NOT NULL,
	`wrapped_ed25519_secret_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_email_index` ON `accounts` (`email_index`);--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_phone_index` ON `accounts` (`phone_index`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`model` text NOT NULL,
	`platform` text NOT NULL,
	`identifier_hash` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `devices_token_hash` ON `devices` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `devices_account_identifier` ON `devices` (`account_id`,`identifier_hash`);--> statement-breakpoint
CREATE TABLE `login_challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text,
	`email_index` text NOT NULL,
	`method` text NOT NULL,
	`nonce` text NOT NULL,
	`origin` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `login_challenges_expires` ON `login_challenges` (`expires_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`kind` text NOT NULL,
	`label` text,
	`created_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`reauthenticated_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_token_hash` ON `sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `sessions_account` ON `sessions` (`account_id`);--> statement-breakpoint
CREATE INDEX `sessions_expires` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `throttles` (
	`key` text PRIMARY KEY NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`window_started_at` integer NOT NULL,
	`blocked_until` integer DEFAULT 0 NOT NULL,
	`updated_at` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `throttles_updated` ON `throttles` (`updated_at`);