// Installs the locked dependencies when node_modules is missing or older than
// package-lock.json, so `npm run demo` and `npm test` work on a fresh clone.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const lock = "package-lock.json";
const marker = "node_modules/.package-lock.json";
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stderr.write("secsession: installing dependencies (npm ci)...\n");
  try {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { stdio: ["ignore", "inherit", "pipe"] });
  } catch {
    // Some registries do not resolve the other platforms' optional packages of
    // @bufbuild/buf, which npm ci insists on finding in the lock file; install
    // from the same lock file without rewriting it instead.
    process.stderr.write("secsession: npm ci refused this lock file here; installing with npm install --no-save\n");
    execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"], { stdio: "inherit" });
  }
}
