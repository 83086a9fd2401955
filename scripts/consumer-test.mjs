// The consumer test: adopts the packed product from a fresh service repo, as
// the README's "Use it in your service repo" says, and fails on any step.
//
//   node scripts/consumer-test.mjs [--no-build] [--keep]
//
// 1. builds and packs both packages (scripts/build.mjs, scripts/pack.mjs);
// 2. lays out a service repo in a temporary folder outside the checkout from
//    scripts/consumer/ (its own three-role session, buf.yaml, buf.gen.yaml, a
//    server and a client) and checks that the README shows each file as it is;
// 3. installs the tarballs with the peers, runs buf lint and buf generate
//    (local: protoc-gen-es, local: protoc-gen-secsession), type-checks with
//    strict/NodeNext/skipLibCheck false and with an older node16/ES2020
//    config, measures the session with `secsession bench`, makes keys with
//    `secsession keygen`;
// 4. runs one session across two plain node processes (no tsx, no bundler).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const template = join(root, "scripts", "consumer");
const args = new Set(process.argv.slice(2));
const t0 = Date.now();
const step = (what) => process.stdout.write(`consumer-test [${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}\n`);
const run = (cmd, argv, cwd, options = {}) => {
  step(`$ ${[cmd, ...argv].map((a) => (a.includes(" ") ? JSON.stringify(a) : a)).join(" ")}`);
  return execFileSync(cmd, argv, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 120_000, ...options });
};
const show = (text) => text.trim() !== "" && process.stdout.write(`${text.trim().replace(/^/gm, "    ")}\n`);

/** What the README tells users to install (the test installs the packed tarballs in place of the two packages). */
export const RUNTIME_INSTALL = ["secsession", "@bufbuild/protobuf", "@grpc/grpc-js"];
export const DEV_INSTALL = ["protoc-gen-secsession", "@bufbuild/buf", "@bufbuild/protoc-gen-es", "typescript", "@types/node"];

// ---------------------------------------------------------------- 1. packages
if (!args.has("--no-build")) run(process.execPath, [join(root, "scripts", "build.mjs")], root, { stdio: ["ignore", "inherit", "inherit"] });
const packOut = mkdtempSync(join(tmpdir(), "secsession-tarballs-"));
const tarballs = Object.fromEntries(
  run(process.execPath, [join(root, "scripts", "pack.mjs"), "--out", packOut], root)
    .trim()
    .split("\n")
    .map((line) => {
      show(line);
      const path = line.split("\t")[0];
      return [/protoc-gen-secsession-[^/]*\.tgz$/.test(path) ? "protoc-gen-secsession" : "secsession", path];
    }),
);

// ---------------------------------------------------------------- 2. the service repo
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(relative(template, p));
  }
};
walk(template);
const readme = readFileSync(join(root, "README.md"), "utf8");
const missing = files.filter((f) => !readme.includes(readFileSync(join(template, f), "utf8").trim()));
const installLines = [`npm install ${RUNTIME_INSTALL.join(" ")}`, `npm install --save-dev ${DEV_INSTALL.join(" ")}`];
missing.push(...installLines.filter((l) => !readme.includes(l)).map((l) => `the command \`${l}\``));
if (missing.length > 0) {
  process.stderr.write(`consumer-test: README.md ("Use it in your service repo") does not show, as they are:\n${missing.map((m) => `  ${m}\n`).join("")}`);
  process.exit(1);
}
step(`README.md shows ${files.join(", ")} and the install commands as they are`);

const repo = mkdtempSync(join(tmpdir(), "secsession-consumer-"));
step(`service repo ${repo}`);
cpSync(template, repo, { recursive: true });
writeFileSync(join(repo, "package.json"), `${JSON.stringify({ name: "helpdesk", private: true, type: "module" }, null, 2)}\n`);
const pin = (name) => (name === "@bufbuild/protobuf" || name === "@bufbuild/protoc-gen-es" ? `${name}@2.13.0` : name === "@types/node" ? "@types/node@20" : name);
const npm = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
run("npm", ["install", ...npm, ...RUNTIME_INSTALL.map((n) => tarballs[n] ?? pin(n))], repo);
run("npm", ["install", "--save-dev", ...npm, ...DEV_INSTALL.map((n) => tarballs[n] ?? pin(n))], repo);
if (existsSync(join(repo, "node_modules", "tsx"))) throw new Error("tsx is installed in the service repo: the test must run on plain node");
// Redis's client is an optional peer: a service that does not replicate its roles does not install it.
if (existsSync(join(repo, "node_modules", "redis"))) throw new Error("redis is installed in the service repo, though the runtime does not need it without a Redis store");
// So is the OpenTelemetry API: without it the runtime records nothing and runs the same (runtime/telemetry.ts).
if (existsSync(join(repo, "node_modules", "@opentelemetry", "api"))) throw new Error("@opentelemetry/api is installed in the service repo, though the runtime does not need it");
const bin = (name) => join(repo, "node_modules", ".bin", name);

// ---------------------------------------------------------------- 3. generate, type-check, keys
show(run(bin("secsession"), ["--version"], repo));
show(run(bin("buf"), ["lint"], repo));
show(run(bin("buf"), ["generate"], repo, { env: { ...process.env, PATH: `${join(repo, "node_modules", ".bin")}:${process.env.PATH}` } }));
for (const f of ["helpdesk_pb.ts", "helpdesk_secsession.ts"]) if (!existsSync(join(repo, "src", "gen", "helpdesk", "v1", f))) throw new Error(`buf generate wrote no src/gen/helpdesk/v1/${f}`);
show(run(bin("tsc"), ["--version"], repo));
show(run(bin("tsc"), ["-p", "tsconfig.json"], repo));
show(run(bin("tsc"), ["-p", "tsconfig.node16.json"], repo));
show(run(bin("secsession"), ["check", "proto/helpdesk/v1/helpdesk.proto"], repo));
show(run(bin("secsession"), ["graph", "proto/helpdesk/v1/helpdesk.proto", "--role", "desk"], repo));
show(run(bin("secsession"), ["bench", "proto/helpdesk/v1/helpdesk.proto", "--sessions", "3", "--reps", "1", "--modes", "full"], repo));
for (const principal of ["alice", "desk", "expert"]) show(run(bin("secsession"), ["keygen", principal, "--out", "keys", "--keyring", "keys/keyring.json"], repo).split("\n")[0]);

// ---------------------------------------------------------------- 4. a session across two node processes
step("$ node dist/server.js keys   (desk and expert)");
const server = spawn(process.execPath, ["dist/server.js", "keys"], { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
const serverDone = new Promise((resolve) => server.on("exit", (code, signal) => resolve(code ?? signal)));
let serverOut = "";
const addresses = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`the server printed no addresses within 20 s: ${serverOut}`)), 20_000);
  server.stdout.on("data", (b) => {
    serverOut += b;
    const found = Object.fromEntries([...serverOut.matchAll(/^(desk|expert) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    if (found.desk !== undefined && found.expert !== undefined) {
      clearTimeout(timer);
      resolve(found);
    }
  });
  server.on("exit", (code) => reject(new Error(`the server exited (${code}) before listening: ${serverOut}`)));
});
try {
  show(run(process.execPath, ["dist/client.js", "keys", addresses.desk, addresses.expert], repo, { timeout: 30_000 }));
  const code = await Promise.race([serverDone, new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000))]);
  show(serverOut);
  if (code !== 0) throw new Error(`the server process ended with ${code}`);
  if (!/ticket closed, solved: true/.test(serverOut)) throw new Error("the desk did not see the ticket closed");
} finally {
  if (server.exitCode === null && server.signalCode === null) server.kill();
}

rmSync(packOut, { recursive: true, force: true });
if (args.has("--keep")) step(`kept ${repo}`);
else rmSync(repo, { recursive: true, force: true });
step("passed");
