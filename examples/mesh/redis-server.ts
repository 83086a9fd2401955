/**
 * A private redis-server (for the mesh example, its benchmark and the tests):
 * a random free port on loopback,
 * no persistence of its own (`--save '' --appendonly no`), a temporary
 * directory. It can be paused (SIGSTOP: Redis slow or unreachable), resumed,
 * shut down with a snapshot and started again on the same port with its data
 * (Redis stopped, then back), and is stopped at the end.
 *
 * Whoever needs Redis fails with a clear message when redis-server is not
 * installed: nothing is skipped.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A redis-server this process started. */
export interface LocalRedis {
  readonly port: number;
  readonly url: string;
  /** The server's process id (changes on restart). */
  readonly pid: () => number;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT after pause. */
  resume(): void;
  /** Snapshots the data into the temporary directory and exits (SHUTDOWN SAVE). */
  shutdown(): Promise<void>;
  /** Starts again on the same port, loading the snapshot. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const BINARY = process.env["REDIS_SERVER"] ?? "redis-server";

/** Fails with a clear message if redis-server cannot run here. */
export function requireRedisServer(): void {
  const r = spawnSync(BINARY, ["--version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(
      `a real Redis is needed here: ${BINARY} could not run (${r.error?.message ?? r.stderr}). ` +
        "Install it (Debian: apt-get install -y redis-server; .ci/run does) or set REDIS_SERVER to its path.",
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = new Socket();
      let buf = "";
      const done = (v: boolean) => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(500, () => done(false));
      sock.once("error", () => done(false));
      sock.on("data", (d) => {
        buf += d.toString("latin1");
        if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
      });
      sock.connect(port, "127.0.0.1", () => sock.write("PING\r\n"));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a private redis-server. */
export async function startRedis(): Promise<LocalRedis> {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), "secsession-redis-"));
  const port = await freePort();
  let child: ChildProcess;
  let output = "";
  let paused = false;

  const launch = async (): Promise<void> => {
    output = "";
    child = spawn(BINARY, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--dbfilename", "dump.rdb", "--protected-mode", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    await waitForPing(port, 10_000, child, () => output.slice(-2000));
  };
  const exited = (): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));

  await launch();
  const resume = (): void => {
    child.kill("SIGCONT");
    paused = false;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child.pid!,
    pause() {
      child.kill("SIGSTOP");
      paused = true;
    },
    resume,
    async shutdown() {
      if (paused) resume();
      const sock = new Socket();
      sock.on("error", () => undefined); // the server closes the connection as it exits
      sock.connect(port, "127.0.0.1", () => sock.write("*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n"));
      await exited();
      sock.destroy();
    },
    async restart() {
      await launch();
    },
    async stop() {
      if (paused) resume();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
