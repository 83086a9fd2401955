/**
 * A throwaway certificate authority and one certificate for `localhost` /
 * 127.0.0.1, made with `openssl` at run time for the mutual-TLS baseline
 * (every peer presents the same certificate, as server and as client).
 * The private keys live in a temporary directory that is removed after reading.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { PlainCredentials } from "./plain-grpc.js";

/** Mutual-TLS credentials (P-256 keys, TLS 1.3 as negotiated by grpc-js). */
export function mutualTls(): PlainCredentials & { readonly openssl: string } {
  const dir = mkdtempSync(join(tmpdir(), "secsession-bench-tls-"));
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  try {
    const version = run("version").toString().trim();
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=secsession bench CA");
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "peer.key", "-out", "peer.csr", "-subj", "/CN=localhost");
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
    run("x509", "-req", "-in", "peer.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "peer.crt", "-days", "1", "-extfile", "ext.cnf");
    const ca = readFileSync(join(dir, "ca.crt"));
    const key = readFileSync(join(dir, "peer.key"));
    const cert = readFileSync(join(dir, "peer.crt"));
    return {
      server: grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true),
      client: grpc.credentials.createSsl(ca, key, cert),
      openssl: version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
