// Validate a glTF/GLB file with the Khronos glTF-Validator (npm `gltf-validator`)
// and print its JSON report on stdout. Used by tests/engine/test_gltf.py.
//
//   node tests/tools/validate_gltf.mjs FILE.glb
//
// The package is looked up through NODE_PATH (the test points it at
// .cache/npm/node_modules, where `npm install --prefix .cache/npm gltf-validator`
// puts it); createRequire is used because ES-module imports ignore NODE_PATH.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const validator = require("gltf-validator");

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate_gltf.mjs FILE.glb");
  process.exit(2);
}
const bytes = new Uint8Array(readFileSync(file));
const report = await validator.validateBytes(bytes, {
  uri: path.basename(file),
  maxIssues: 0, // report every issue
  externalResourceFunction: (uri) =>
    Promise.reject(new Error(`external resource ${uri} not expected in a .glb`)),
});
console.log(JSON.stringify(report, null, 1));
