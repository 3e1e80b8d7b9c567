#!/usr/bin/env node
// A committed entry so package managers can link the `llamats` bin before dist/ is built.
await import("../dist/bin.js");
