/**
 * The cost of the ratchet policy on the buffer API: the Wsne loop of
 * bench/overhead/buffer-api.ts (Extra with a 64-byte payload and its Reply,
 * fully protected: HMAC, Noise pair channels) under `every_turn` (a DH step at
 * every turn, the behaviour before policies), the default (64 messages or
 * 60 s) and, as a floor, static pairwise keys. Prints µs per wrap+unwrap pair.
 *
 *   npx tsx bench/ratchet-policy.ts [--rounds 2000] [--repeats 3]
 */
import { sessionCode } from "../interceptors/descriptor/code.js";
import type { RatchetPolicy, SessionDescriptor } from "../interceptors/descriptor/types.js";
import { benchArgs } from "./args.js";
import { bufferLoop } from "./overhead/buffer-api.js";
import { MODES, type Mode } from "./overhead/modes.js";

const args = benchArgs();
const rounds = args.positive("rounds", "2000");
const repeats = args.positive("repeats", "3");
const full = MODES.find((m) => m.id === "full")!;

const withRatchet = (d: SessionDescriptor, ratchet: RatchetPolicy): SessionDescriptor => {
  const { code: _code, ...rest } = d;
  const body = { ...rest, ratchet };
  return { ...body, code: sessionCode(body) };
};

const subjects: ReadonlyArray<{ name: string; mode: Mode }> = [
  { name: "every_turn (DH step at every turn)", mode: { ...full, variant: (d) => withRatchet(d, { messages: 1, seconds: 0 }) } },
  { name: "default (64 messages or 60 s)", mode: full },
  { name: "static pairwise keys (floor)", mode: MODES.find((m) => m.id === "static")! },
];

const best = new Map<string, number[]>();
for (let r = 0; r < repeats; r++) {
  for (const s of subjects) {
    const loop = await bufferLoop(s.mode);
    await loop.run(Math.max(50, rounds >> 3)); // warm-up
    const ms = await loop.run(rounds);
    await loop.close();
    best.set(s.name, [...(best.get(s.name) ?? []), (ms * 1000) / (rounds * 2)]);
  }
}
for (const s of subjects) {
  const xs = best.get(s.name)!.sort((a, b) => a - b);
  console.log(`${s.name.padEnd(40)} median ${xs[xs.length >> 1]!.toFixed(1)} µs, min ${xs[0]!.toFixed(1)} µs per wrap+unwrap (64 B)`);
}
