#!/usr/bin/env node
// A committed, executable entry: tsc writes dist/cli.js without the executable bit, so a bin
// pointing there would fail with "Permission denied" after a fresh build.
require('../dist/cli.js');
