/**
 * Names used in generated code (shared with the runtime, which builds the same API at run time).
 */
export { lowerCamel, moveName, stateMoveNames, upperCamel } from "../../interceptors/descriptor/names.js";
