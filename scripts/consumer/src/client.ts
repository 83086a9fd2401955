// The user: opens a ticket, reads the answer, closes the ticket.
//   node dist/client.js keys DESK_ADDRESS EXPERT_ADDRESS
import { createSessionRuntime, loadIdentity, loadKeyring } from "secsession";
import { TicketUser } from "./gen/helpdesk/v1/helpdesk_secsession.js";

const [keys = "keys", desk = "", expert = ""] = process.argv.slice(2);
const runtime = createSessionRuntime({
  identity: loadIdentity(`${keys}/alice.key.json`),
  resolver: loadKeyring(`${keys}/keyring.json`),
  peers: { desk, expert },
});
try {
  const s0 = await runtime.start(TicketUser, { user: "alice", desk: "desk", expert: "expert" });
  const opened = await s0.open({ problem: "the printer is offline" });
  console.log(`answer: ${opened.message.answer}`);
  await opened.next.close({ solved: true });
  console.log("ticket closed");
} finally {
  runtime.close();
}
