/**
 * The s2ml seed's figures (../shared/SESSIONS.md), to print beside ours.
 */

/** Code generation per session: lines of code and compile time of the seed's compiler. */
export const SEED_CODEGEN = [
  { session: "Single", roles: 2, sessionLines: 5, appli: 21, graph: 8, localGraph: 12, smli: 19, sml: 247, compileSeconds: 1.26 },
  { session: "Rpc", roles: 2, sessionLines: 7, appli: 25, graph: 10, localGraph: 18, smli: 23, sml: 377, compileSeconds: 1.35 },
  { session: "Forward", roles: 3, sessionLines: 10, appli: 33, graph: 12, localGraph: 25, smli: 34, sml: 632, compileSeconds: 1.66 },
  { session: "Auth", roles: 4, sessionLines: 15, appli: 45, graph: 16, localGraph: 38, smli: 49, sml: 1070, compileSeconds: 1.86 },
  { session: "Ws", roles: 2, sessionLines: 7, appli: 33, graph: 12, localGraph: 24, smli: 25, sml: 481, compileSeconds: 1.36 },
  { session: "Wsn", roles: 2, sessionLines: 15, appli: 44, graph: 13, localGraph: 42, smli: 29, sml: 782, compileSeconds: 1.5 },
  { session: "Wsne", roles: 2, sessionLines: 19, appli: 45, graph: 15, localGraph: 48, smli: 31, sml: 881, compileSeconds: 1.9 },
  { session: "Shopping", roles: 3, sessionLines: 29, appli: 70, graph: 21, localGraph: 85, smli: 49, sml: 1780, compileSeconds: 2.43 },
  { session: "Conf", roles: 3, sessionLines: 48, appli: 86, graph: 37, localGraph: 181, smli: 78, sml: 3451, compileSeconds: 3.32 },
  { session: "Loi", roles: 6, sessionLines: 101, appli: 189, graph: 57, localGraph: 310, smli: 141, sml: 7267, compileSeconds: 6.29 },
] as const;

/** Run-time overhead of the seed's generated code for Conf, 10,000 messages. */
export const SEED_CONF_OVERHEAD = [
  { mode: "unprotected (no key establishment)", seconds: 1.31, overhead: 0 },
  { mode: "no MAC, cache checks", seconds: 1.43, overhead: 0.09 },
  { mode: "MAC, no verification", seconds: 1.66, overhead: 0.27 },
  { mode: "fully protected", seconds: 1.77, overhead: 0.35 },
] as const;
