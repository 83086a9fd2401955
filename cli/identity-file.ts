/** The key-file reader and writer, now public API of the runtime (interceptors/keys/key-file.ts). */
export { identityJson, KEY_FILE_FORMAT, loadIdentity, writeIdentity } from "../interceptors/keys/key-file.js";
