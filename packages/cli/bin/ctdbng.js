#!/usr/bin/env node
// `ctdbng`, committed so that it exists in every clone: npm links a workspace's bins while it
// installs, before the root `prepare` builds dist/, and silently skips a bin whose file is missing.
import '../dist/ctdbng-main.js';
