#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors
import { main } from "../dist/cli.js";

await main();
