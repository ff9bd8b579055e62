#!/usr/bin/env node
// Installed entry point: runs the built CLI.
import { main } from '../dist/main.js'
process.exitCode = await main(process.argv.slice(2))
