/**
 * The gRPC integration fails closed: without our server interceptor no
 * handler runs, without our client interceptor nothing unsealed is sent; and
 * it stays correct when other interceptors call `next` asynchronously.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { sealedMethod } from "../../interceptors/grpc/sealed.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";
import { customerChangesThenAccepts, warehouseOffersUntilAccept } from "../support/shopping.js";

test("a server without the secsession interceptor runs no handler", async (t) => {
  const ids = ["customer", "office", "warehouse"].map((id) => generateIdentity(id));
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const addresses: Record<string, string> = {};
  const c = createSessionRuntime({ identity: ids[0]!, resolver, peers: addresses });
  const o = createSessionRuntime({ identity: ids[1]!, resolver, peers: addresses });
  const server = new grpc.Server(); // no interceptors
  let ran = false;
  o.serve(server, ShoppingO, { request: () => void (ran = true) });
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  addresses["office"] = `127.0.0.1:${port}`;
  try {
    const s0 = await c.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    const err = await t.throwsAsync(s0.request({ item: "bike" }));
    t.is((err as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION, err!.message);
    t.regex(err!.message, /server interceptor is not installed/);
    t.false(ran);
  } finally {
    c.close();
    server.forceShutdown();
  }
});

test("a client without the secsession interceptor cannot send a message unsealed", async (t) => {
  const server = new grpc.Server();
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const m = sealedMethod("/shopping.OrderOffice/Request", "Request");
  try {
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { item: "bike" }, (e) => resolve(e!)),
    );
    t.is(err.code, grpc.status.INTERNAL);
    t.regex(err.details, /refusing to send an unsealed message/);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

/** Interceptors that defer every `next` by a few milliseconds. */
const delay = (ms: () => number) => new Promise((r) => setTimeout(r, ms()));
const slowClient: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    sendMessage: (message, next) => void delay(() => Math.random() * 8).then(() => next(message)),
    start: (metadata, listener, next) =>
      next(metadata, { onReceiveMessage: (message, nextMsg) => void delay(() => Math.random() * 8).then(() => nextMsg(message)) }),
  });

test("Shopping completes when other interceptors call next asynchronously", async (t) => {
  const c = cluster(["customer", "office", "warehouse"], () => ({ interceptors: [slowClient] }));
  const { customer, office, warehouse } = c.peers;
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  let confirmed = false;
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => {
      const end = await (await next.contract({ contract: "c" })).receive();
      confirmed = end.kind === "confirm";
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, warehouseOffersUntilAccept);
  await c.listen();
  try {
    await customerChangesThenAccepts(customer!.runtime, 5);
    for (let i = 0; i < 400 && !confirmed; i++) await delay(() => 5);
    t.true(confirmed);
    for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {});
  } finally {
    await c.close();
  }
});
