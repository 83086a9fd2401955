#!/usr/bin/env node
/**
 * Entry point of protoc-gen-secsession: reads a CodeGeneratorRequest on
 * stdin and writes a CodeGeneratorResponse on stdout.
 */
import { runNodeJs } from "@bufbuild/protoplugin";
import { secsessionPlugin } from "./plugin.js";

runNodeJs(secsessionPlugin);
