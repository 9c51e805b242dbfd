#!/usr/bin/env bash
# Development helper while the privacy-rights schema settles: drops the not-yet-released 0006
# migration and generates it again from src/db/schema.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f drizzle/0006_*.sql drizzle/meta/0006_snapshot.json
node -e '
const fs = require("fs"); const p = "drizzle/meta/_journal.json";
const j = JSON.parse(fs.readFileSync(p, "utf8")); j.entries = j.entries.filter((e) => e.idx < 6);
fs.writeFileSync(p, JSON.stringify(j, null, 2) + "\n");'
npx drizzle-kit generate --name privacy_rights
