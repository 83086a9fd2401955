/** Worker thread entry of the checker fuzzing (see checker-run.ts). */
import { parentPort, workerData } from "node:worker_threads";
import type { FuzzChunk } from "./arbitraries.js";
import { runChecker, type CheckerMode } from "./checker-run.js";
import { registryOfImage } from "./harness.js";

const { image, mode, chunk } = workerData as { image: Uint8Array; mode: CheckerMode; chunk: FuzzChunk };
parentPort!.postMessage(runChecker(registryOfImage(image), mode, chunk));
