// The desk and the expert, each with its own key file, runtime and gRPC server.
//   node dist/server.js keys   → prints "desk 127.0.0.1:PORT" and "expert 127.0.0.1:PORT", serves one ticket
import * as grpc from "@grpc/grpc-js";
import { createSessionRuntime, loadIdentity, loadKeyring, type SessionRuntime } from "secsession";
import { TicketDesk, TicketExpert } from "./gen/helpdesk/v1/helpdesk_secsession.js";

const keys = process.argv[2] ?? "keys";
const resolver = loadKeyring(`${keys}/keyring.json`);

async function listen(principal: string, serve: (runtime: SessionRuntime, server: grpc.Server) => void): Promise<SessionRuntime> {
  const runtime = createSessionRuntime({ identity: loadIdentity(`${keys}/${principal}.key.json`), resolver, peers: addresses });
  runtime.on("securityAlert", (a) => console.error(`${principal} refused a message: ${a.kind}`));
  const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
  serve(runtime, server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  addresses[principal] = `127.0.0.1:${port}`;
  console.log(`${principal} ${addresses[principal]}`);
  servers.push(server);
  return runtime;
}

const addresses: Record<string, string> = {};
const servers: grpc.Server[] = [];
const runtimes: SessionRuntime[] = [];

runtimes.push(
  await listen("expert", (runtime, server) =>
    runtime.serve(server, TicketExpert, {
      diagnose: async ({ message, next }) => {
        await next.diagnoseResponse({ diagnosis: `${message.problem}: restart it` });
      },
    }),
  ),
);
runtimes.push(
  await listen("desk", (runtime, server) =>
    runtime.serve(server, TicketDesk, {
      open: async ({ message, next }) => {
        const diagnosed = await next.diagnose({ problem: message.problem });
        const answered = await diagnosed.next.openResponse({ answer: `the expert says: ${diagnosed.message.diagnosis}` });
        const closed = await answered.receive();
        console.log(`ticket closed, solved: ${closed.message.solved}`);
        for (const r of runtimes) r.close();
        for (const s of servers) s.tryShutdown(() => undefined);
      },
    }),
  ),
);
