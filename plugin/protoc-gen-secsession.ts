#!/usr/bin/env node
/**
 * Entry point of protoc-gen-secsession: reads a CodeGeneratorRequest on
 * stdin and writes a CodeGeneratorResponse on stdout.
 */
import { secsessionPlugin } from "./plugin.js";
import { protoplugin } from "./protoplugin.js";

protoplugin.runNodeJs(secsessionPlugin);
