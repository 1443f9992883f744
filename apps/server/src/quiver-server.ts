#!/usr/bin/env node
/**
 * Bin entry of `quiver-server` (see config.ts for the options).
 */
import { main } from './main.js';

void main(process.argv);
