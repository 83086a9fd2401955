/**
 * The same message flows with plain grpc-js and none of our code: services
 * built from the protobuf descriptors, messages serialised with protobuf-es
 * (`toBinary`/`fromBinary`), no interceptors, no envelopes. Over insecure
 * loopback, or over mutual TLS when given credentials. Sessions run one at a
 * time; each role reacts to the calls it receives, as a plain gRPC
 * application would.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { file_conf_conf } from "../../gen/conf/conf_pb.js";
import { file_wsne_wsne } from "../../gen/wsne/wsne_pb.js";
import type { ConfShape } from "./conf.js";
import type { WsneShape } from "./wsne.js";

/** Credentials of a plain cluster: insecure, or mutual TLS. */
export interface PlainCredentials {
  readonly server: grpc.ServerCredentials;
  readonly client: grpc.ChannelCredentials;
}

type Handler = (request: unknown) => unknown;

/** One principal: its server, and clients to the others. */
class PlainPeer {
  readonly server = new grpc.Server();
  private readonly clients = new Map<string, grpc.Client>();
  calls = 0;
  constructor(
    private readonly credentials: PlainCredentials,
    private readonly addresses: Record<string, string>,
  ) {}

  /** Serves `svc`; `handlers[method]` returns the response (Empty for one-way rpcs). */
  serve(svc: DescService, handlers: Record<string, Handler>): void {
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const m of svc.methods) {
      definition[m.name] = methodDefinition(`/${svc.typeName}/${m.name}`, m.input, m.output);
      const h = handlers[m.localName];
      if (h === undefined) continue;
      impl[m.name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        try {
          callback(null, create(m.output, h(call.request) as MessageInitShape<DescMessage>));
        } catch (e: unknown) {
          callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
        }
      };
    }
    this.server.addService(definition as grpc.ServiceDefinition, impl);
  }

  /**
   * Calls `method` of `svc` at principal `to`. Like a generated grpc-js
   * client, the method's definition is built once; like the runtime's calls,
   * each carries a 30 s deadline.
   */
  call<I extends DescMessage>(to: string, svc: DescService, method: string, input: I, init: MessageInitShape<I>): Promise<unknown> {
    const def = definitionOf(svc, method);
    let client = this.clients.get(to);
    if (client === undefined) {
      client = new grpc.Client(this.addresses[to]!, this.credentials.client);
      this.clients.set(to, client);
    }
    this.calls++;
    return new Promise((resolve, reject) =>
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, create(input, init), { deadline: Date.now() + CALL_DEADLINE_MS }, (err, value) =>
        err ? reject(err) : resolve(value),
      ),
    );
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.server.forceShutdown();
  }
}

/** The deadline the runtime gives a session call by default (api/session-runtime.ts). */
const CALL_DEADLINE_MS = 30_000;

const definitions = new WeakMap<DescService, Map<string, grpc.MethodDefinition<unknown, unknown>>>();

/** The definition of `svc`'s method `localName`, built on first use. */
function definitionOf(svc: DescService, localName: string): grpc.MethodDefinition<unknown, unknown> {
  let byName = definitions.get(svc);
  if (byName === undefined) definitions.set(svc, (byName = new Map()));
  let def = byName.get(localName);
  if (def === undefined) {
    const m = svc.methods.find((x) => x.localName === localName);
    if (m === undefined) throw new Error(`no method ${localName} in ${svc.typeName}`);
    def = methodDefinition(`/${svc.typeName}/${m.name}`, m.input, m.output);
    byName.set(localName, def);
  }
  return def;
}

function methodDefinition(path: string, input: DescMessage, output: DescMessage): grpc.MethodDefinition<unknown, unknown> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(toBinary(input, m as never)),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, m as never)),
    responseDeserialize: (b) => fromBinary(output, b),
  };
}

/** A set of plain peers on loopback. */
export class PlainCluster {
  readonly addresses: Record<string, string> = {};
  readonly peers: Record<string, PlainPeer> = {};
  constructor(
    ids: readonly string[],
    private readonly credentials: PlainCredentials,
    /** The host name clients dial: `localhost` for TLS (the certificate's name), else the address. */
    private readonly host = "127.0.0.1",
  ) {
    for (const id of ids) this.peers[id] = new PlainPeer(credentials, this.addresses);
  }

  async listen(): Promise<void> {
    for (const [id, p] of Object.entries(this.peers)) {
      const port = await new Promise<number>((resolve, reject) => p.server.bindAsync("127.0.0.1:0", this.credentials.server, (err, port) => (err ? reject(err) : resolve(port))));
      this.addresses[id] = `${this.host}:${port}`;
    }
  }

  /** Calls made so far, by every peer. */
  calls(): number {
    return Object.values(this.peers).reduce((n, p) => n + p.calls, 0);
  }

  close(): void {
    for (const p of Object.values(this.peers)) p.close();
  }
}

export const insecure = (): PlainCredentials => ({ server: grpc.ServerCredentials.createInsecure(), client: grpc.credentials.createInsecure() });

const svc = (file: typeof file_conf_conf | typeof file_wsne_wsne, name: string): DescService => {
  const s = file.services.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no service ${name} in ${file.name}`);
  return s;
};

/** Plain Conf: three peers whose handlers carry the flow of the session on. */
export class PlainConf {
  readonly cluster: PlainCluster;
  private shape: ConfShape = { uploads: 0, revisions: 0, shepherds: 0 };
  private left = { uploads: 0, revisions: 0 };
  private done: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(credentials: PlainCredentials, host?: string) {
    this.cluster = new PlainCluster(["committee", "alice", "easychair"], credentials, host);
    const [pc, author, confman] = [this.cluster.peers["committee"]!, this.cluster.peers["alice"]!, this.cluster.peers["easychair"]!];
    const PC = svc(file_conf_conf, "ProgramCommittee");
    const AUTHOR = svc(file_conf_conf, "Author");
    const CONFMAN = svc(file_conf_conf, "ConferenceManager");
    const E = {}; // google.protobuf.Empty
    const after = (f: () => Promise<unknown>): void => void f().catch((e: unknown) => this.done?.reject(e));
    const inputs = new Map(PC.methods.concat(AUTHOR.methods, CONFMAN.methods).map((x) => [x.localName, x.input] as const));
    const m = (name: string) => inputs.get(name)!;

    // The author uploads until one is taken, then submits; it answers shepherding and takes the verdict.
    const submit = (): void => after(() => author.call("easychair", CONFMAN, "submit", m("submit"), { paper: "paper.pdf v1" }));
    const upload = async (): Promise<void> => {
      for (;;) {
        const bad = this.left.uploads-- > 0;
        const r = (await author.call("easychair", CONFMAN, "upload", m("upload"), { paper: bad ? "paper.docx" : "paper.pdf" })) as { outcome: { case: string } };
        if (r.outcome.case === "ok") break;
      }
      submit();
    };
    author.serve(AUTHOR, {
      cfp: () => (after(upload), E),
      revise: () => (submit(), E),
      shepherd: (r) => ({ rebuttal: `answer to ${(r as { comments: string }).comments}` }),
      accept: () => ({ paper: "camera-ready" }),
      reject: () => E,
    });
    // confman takes PDF uploads only, relays submissions and revision requests, closes for pc.
    confman.serve(CONFMAN, {
      upload: (r) => ((r as { paper: string }).paper.endsWith(".pdf") ? { outcome: { case: "ok", value: {} } } : { outcome: { case: "badFormat", value: { reason: "PDF only" } } }),
      submit: (r) => (after(() => confman.call("committee", PC, "paper", m("paper"), { paper: (r as { paper: string }).paper })), E),
      withdraw: () => E,
      reqRevision: () => (after(() => confman.call("alice", AUTHOR, "revise", m("revise"), {})), E),
      close: () => ({}),
    });
    // pc asks for revisions, then closes, shepherds and rejects.
    const decide = async (): Promise<void> => {
      if (this.left.revisions-- > 0) {
        await pc.call("easychair", CONFMAN, "reqRevision", m("reqRevision"), { comments: "please shorten section 3" });
        return;
      }
      await pc.call("easychair", CONFMAN, "close", m("close"), {});
      for (let round = 1; round <= this.shape.shepherds; round++) await pc.call("alice", AUTHOR, "shepherd", m("shepherd"), { comments: `round ${round}` });
      await pc.call("alice", AUTHOR, "reject", m("reject"), {});
      this.done?.resolve();
    };
    pc.serve(PC, { paper: () => (after(decide), E), retract: () => E });
  }

  /** One session of `shape`. */
  play(shape: ConfShape): Promise<void> {
    this.shape = shape;
    this.left = { uploads: shape.uploads, revisions: shape.revisions };
    const finished = new Promise<void>((resolve, reject) => (this.done = { resolve, reject }));
    const pc = this.cluster.peers["committee"]!;
    const AUTHOR = svc(file_conf_conf, "Author");
    return pc.call("alice", AUTHOR, "cfp", AUTHOR.methods.find((x) => x.localName === "cfp")!.input, { call: `${shape.uploads} ${shape.revisions} ${shape.shepherds}` }).then(() => finished);
  }
}

/** Plain Wsne: the worker answers every request; the client asks `extras` more, then exits. */
export class PlainWsne {
  readonly cluster: PlainCluster;
  private readonly WORKER = svc(file_wsne_wsne, "Worker");

  constructor(credentials: PlainCredentials, host?: string) {
    this.cluster = new PlainCluster(["client", "worker"], credentials, host);
    let fare = 0n;
    this.cluster.peers["worker"]!.serve(this.WORKER, {
      request: () => ({ outcome: { case: "reply", value: { result: ++fare } } }),
      extra: () => ({ outcome: { case: "reply", value: { result: ++fare } } }),
      exit: () => ({}),
    });
  }

  async play(shape: WsneShape): Promise<void> {
    const c = this.cluster.peers["client"]!;
    const input = (name: string) => this.WORKER.methods.find((x) => x.localName === name)!.input;
    await c.call("worker", this.WORKER, "request", input("request"), { query: shape.query });
    for (let i = 0; i < shape.extras; i++) await c.call("worker", this.WORKER, "extra", input("extra"), { query: shape.query });
    await c.call("worker", this.WORKER, "exit", input("exit"), {});
  }
}
