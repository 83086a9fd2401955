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
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { stdio: ["ignore", "inherit", "inherit"] });
  } catch {
    // In CI the lock file must install as it is.
    if (process.env.CI) {
      process.stderr.write("secsession: npm ci failed on the committed package-lock.json; CI installs with npm ci only\n");
      process.exit(1);
    }
    // npm ci installs exactly the committed lock file; when it cannot (an
    // out-of-date lock, a registry without one of the locked packages), say so
    // loudly: what gets installed then is not what CI installs.
    process.stderr.write(
      "\n*** secsession: npm ci FAILED on the committed package-lock.json (see its error above).\n" +
        "*** Falling back to npm install --no-save: the installed versions may differ from the lock file.\n" +
        "*** Fix the lock file (npm install, then commit package-lock.json) so that npm ci works.\n\n",
    );
    execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"], { stdio: "inherit" });
  }
}

// `--redis`: the tests run a private redis-server (test/support/redis.ts).
// Install Debian's package when it is missing and we may; otherwise say how.
if (process.argv.includes("--redis")) {
  const has = () => {
    try {
      execFileSync("redis-server", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (!has()) {
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    let sudo = false;
    if (!root) {
      try {
        execFileSync("sudo", ["-n", "true"], { stdio: "ignore" });
        sudo = true;
      } catch {
        sudo = false;
      }
    }
    const aptGet = existsSync("/usr/bin/apt-get");
    if (aptGet && (root || sudo)) {
      process.stderr.write("secsession: the tests need redis-server; installing Debian's package (apt-get install -y redis-server)...\n");
      // RUNLEVEL=1: install the service without starting it (the tests start private servers).
      const vars = ["DEBIAN_FRONTEND=noninteractive", "RUNLEVEL=1"]; // through env(1): sudo resets the environment
      const run = (args) => execFileSync(root ? "env" : "sudo", root ? [...vars, "apt-get", ...args] : ["env", ...vars, "apt-get", ...args], { stdio: ["ignore", "ignore", "inherit"] });
      try {
        run(["install", "-y", "--no-install-recommends", "redis-server"]);
      } catch {
        run(["update"]);
        run(["install", "-y", "--no-install-recommends", "redis-server"]);
      }
    }
    if (!has()) {
      process.stderr.write(
        "secsession: the tests need redis-server on the PATH (they start their own, on a free port) and it could not be installed here.\n" +
          "  Debian/Ubuntu: sudo apt-get install -y redis-server    macOS: brew install redis\n",
      );
      process.exit(1);
    }
  }
}
